# SPDX-License-Identifier: MIT
# Snapshots to and from S3-compatible object storage (lib/s3_*.c, rawcap-snapshot
# upload/download/list --remote/delete --remote), against the S3 test server
# (tests/s3/server.js: s3rver behind a SigV4-verifying front, npm packages pinned
# by tests/s3/package-lock.json, installed by tests/s3/setup.sh) on the loopback
# of a network namespace each test makes.
rawcap_script_test(s3_roundtrip s3/roundtrip.sh LABELS s3 snapshot TIMEOUT 180)
rawcap_script_test(s3_multipart s3/multipart.sh LABELS s3 snapshot TIMEOUT 180)
rawcap_script_test(s3_interrupt s3/interrupt.sh LABELS s3 snapshot TIMEOUT 300)
rawcap_script_test(s3_errors s3/errors.sh LABELS s3 snapshot TIMEOUT 180)
rawcap_script_test(s3_credentials s3/sts.sh LABELS s3 snapshot TIMEOUT 180)
