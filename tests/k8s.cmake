# SPDX-License-Identifier: MIT
# Kubernetes metadata: JSON to msgpack conversion, the watcher against a fake
# HTTPS API server, the pod/IP index, rawcap-tap and the fuzz corpus replay.
add_executable(k8s_driver ${CMAKE_CURRENT_SOURCE_DIR}/k8s/k8s_driver.c)
target_link_libraries(k8s_driver PRIVATE rawcap_k8s)

rawcap_unit_test(test_k8s_json SOURCES k8s/test_k8s_json.c LIBS rawcap_k8s rawcap_static
                 LABELS k8s TIMEOUT 30)
rawcap_unit_test(test_k8s_list SOURCES k8s/test_k8s_list.c LIBS rawcap_k8s rawcap_static
                 LABELS k8s TIMEOUT 30)
rawcap_unit_test(test_meta_index SOURCES k8s/test_meta_index.c LIBS rawcap_static
                 LABELS k8s TIMEOUT 30)
rawcap_script_test(k8s_watch k8s/watch_test.sh LABELS "k8s;netns" TIMEOUT 120)

# The fuzz target's seed corpus, replayed in every build; libFuzzer only on request.
add_executable(fuzz_k8s_json_corpus fuzz/fuzz_k8s_json.c fuzz/replay.c)
target_link_libraries(fuzz_k8s_json_corpus PRIVATE rawcap_k8s rawcap_static)
add_test(NAME fuzz_k8s_json_corpus
         COMMAND fuzz_k8s_json_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/k8s_json)
set_tests_properties(fuzz_k8s_json_corpus PROPERTIES LABELS "k8s;fuzz" TIMEOUT 60)
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_k8s_json fuzz/fuzz_k8s_json.c)
  target_compile_options(fuzz_k8s_json PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_k8s_json PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_k8s_json PRIVATE rawcap_k8s rawcap_static)
endif()
rawcap_script_test(k8s_pod_export k8s/pod_test.sh LABELS "k8s;netns" TIMEOUT 90)

# The watcher inside the real capd, under its seccomp allow-list after the privilege drop.
rawcap_script_test(k8s_capd_watch k8s/capd_watch.sh LABELS "k8s;capd" TIMEOUT 120)

# Lists at scale: paged lists with oversized objects, an expired continue
# token, a page cut mid-body, and a 45 MB page read in bounded memory.
rawcap_script_test(k8s_big_list k8s/biglist_test.sh LABELS "k8s;netns" TIMEOUT 120)
