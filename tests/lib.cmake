# SPDX-License-Identifier: MIT
# librawcap as a library: its shared tables and its exported symbols.
rawcap_unit_test(test_loss_names SOURCES lib/test_loss_names.c LIBS rawcap LABELS lib TIMEOUT 30)
# The shared library exports exactly the symbols its map lists, by name and version.
rawcap_script_test(lib_exports lib/exports.sh LABELS lib TIMEOUT 60)
# The dissection switch file rawcap-server writes and rawcap-forward follows.
rawcap_unit_test(test_dissection SOURCES lib/test_dissection.c LIBS rawcap LABELS lib TIMEOUT 30)
# The window loop itself over a ring written in-process: packets, interfaces,
# metadata hooks, loss records and reader loss.
rawcap_unit_test(test_window SOURCES lib/test_window.c LIBS rawcap_static rawcap_ring_writer
                 LABELS lib TIMEOUT 60)
rawcap_unit_test(test_forward_status SOURCES lib/test_forward_status.c LIBS rawcap LABELS lib TIMEOUT 30)
# The forwarder's status file is read from another container: its parser is fuzzed
# (clang, -DRAWCAP_FUZZ=ON, scripts/fuzz.sh) and its seed corpus replayed in every build.
add_executable(fuzz_forward_status_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_forward_status.c
               ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.c)
target_link_libraries(fuzz_forward_status_corpus PRIVATE rawcap_static)
add_test(NAME fuzz_forward_status_corpus
         COMMAND fuzz_forward_status_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/forward_status)
set_tests_properties(fuzz_forward_status_corpus PROPERTIES LABELS "lib;fuzz" TIMEOUT 60)
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_forward_status ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_forward_status.c)
  target_compile_options(fuzz_forward_status PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_forward_status PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_forward_status PRIVATE rawcap_static)
endif()
# The shared option helpers: a snapshot NAME against a PATH, and its split.
rawcap_unit_test(test_opt SOURCES lib/test_opt.c LIBS rawcap_opt rawcap LABELS lib TIMEOUT 30)
# librawcap.so loads its S3 client (and libcurl, libxml2) only when an S3 call needs it.
rawcap_script_test(lib_s3_module lib/s3_module.sh LABELS lib TIMEOUT 60)
# ... and OpenSSL (libssl, libcrypto) only for TLS and SHA-256.
rawcap_script_test(lib_ossl_module lib/ossl_module.sh LABELS lib TIMEOUT 60)
# A reader's output never loses the file it replaces nor leaves garbage: killed
# exports' temporaries reaped (only ours, only dead ones), ACLs kept, a full disk,
# a name replaced meanwhile, devices, /dev/stdout, a read-only directory.
rawcap_unit_test(test_output SOURCES lib/test_output.c LIBS rawcap_static LABELS lib TIMEOUT 30)
