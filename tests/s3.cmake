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
rawcap_script_test(s3_quota s3/quota.sh LABELS s3 snapshot TIMEOUT 240)
rawcap_script_test(s3_dest s3/dest.sh LABELS s3 snapshot TIMEOUT 180)
# An endpoint whose list pages never move on (tests/s3/hostile.sh: python, not the S3 server).
rawcap_script_test(s3_hostile s3/hostile.sh LABELS s3 snapshot netns TIMEOUT 120)

rawcap_unit_test(test_s3 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/s3/test_s3.c
                 LIBS rawcap_static LABELS s3 TIMEOUT 30)

# The parsers of what comes from outside (S3/STS XML, credentials file, URLs):
# a libFuzzer target (clang, -DRAWCAP_FUZZ=ON; scripts/fuzz.sh) and its seed
# corpus replayed in every build.
add_executable(fuzz_s3_corpus fuzz/fuzz_s3.c fuzz/replay.c)
target_link_libraries(fuzz_s3_corpus PRIVATE rawcap_static)
add_test(NAME fuzz_s3_corpus COMMAND fuzz_s3_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/s3)
set_tests_properties(fuzz_s3_corpus PROPERTIES LABELS "s3;fuzz" TIMEOUT 60)
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_s3 fuzz/fuzz_s3.c)
  target_compile_options(fuzz_s3 PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_s3 PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_s3 PRIVATE rawcap_static)
endif()
