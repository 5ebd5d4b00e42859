# SPDX-License-Identifier: MIT
# Security: capd's sandbox after setup (seccomp kills socket/execve/openat,
# Landlock confines files), reader permissions on the ring and the disk FIFO,
# validated names, and no secret in any error output.
rawcap_script_test(security_sandbox security/sandbox.sh LABELS "security" TIMEOUT 60)
rawcap_script_test(security_reader_perms security/reader_perms.sh LABELS "security" TIMEOUT 60)
rawcap_script_test(security_secrets security/secrets.sh LABELS "security" TIMEOUT 60)
# Nothing already on disk is trusted: odd objects in and at the storage, snapshots and outputs.
rawcap_script_test(security_storage_trust security/storage_trust.sh LABELS "security;netns" TIMEOUT 300)
rawcap_unit_test(test_safe_open SOURCES security/test_safe_open.c LIBS rawcap_safe_open
                 LABELS security TIMEOUT 30)
rawcap_script_test(security_storage_lock security/storage_lock.sh LABELS "security;netns" TIMEOUT 120)
rawcap_script_test(security_snapshot_trust security/snapshot_trust.sh LABELS "security;netns" TIMEOUT 300)
# Who can read captured packets: the default identity, and nothing open to "other".
rawcap_script_test(security_no_other_access security/no_other_access.sh LABELS "security;netns" TIMEOUT 120)
# Objects squatted under a ring's name (another user's forged ring, FIFO, symlink,
# directory): readers refuse them at once, capd replaces them or names them.
rawcap_script_test(security_ring_squat security/ring_squat.sh LABELS "security;netns" TIMEOUT 120)
# The disk FIFO's io_uring runs writes and fsyncs only (IORING_REGISTER_RESTRICTIONS).
rawcap_unit_test(test_uring_restrict SOURCES security/test_uring_restrict.c LIBS rawcap_storage
                 LABELS security TIMEOUT 60)
# Landlock network rules (ABI 4+): TCP connect to the API server only.
rawcap_script_test(security_landlock_net security/landlock_net.sh LABELS "security;netns" TIMEOUT 60)
# Files a user names (config, tokens, TLS material, kubeconfig, S3 credentials): a FIFO,
# device or directory is refused at once, a Secret-style link followed.
rawcap_script_test(security_named_files security/named_files.sh LABELS "security;netns" TIMEOUT 240)
