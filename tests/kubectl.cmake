# SPDX-License-Identifier: MIT
# kubectl-rawcap (cli/): the pcapng stream reader and the k-way merge as
# units, the merge against mergecap on real captures, discovery with
# Debian's kubectl against the fake API server, and the corpus replay of
# the reader's fuzz target.
rawcap_unit_test(test_pcapng_read SOURCES kubectl/test_pcapng_read.c
                 LIBS rawcap_cli rawcap_static LABELS kubectl TIMEOUT 60)
rawcap_unit_test(test_merge SOURCES kubectl/test_merge.c
                 LIBS rawcap_cli rawcap_static LABELS kubectl TIMEOUT 120)

# The reader and the merge read what nodes send: a libFuzzer target (clang,
# -DRAWCAP_FUZZ=ON; scripts/fuzz.sh) and its seed corpus replayed in every build.
add_executable(fuzz_pcapng_corpus fuzz/fuzz_pcapng.c fuzz/replay.c)
target_link_libraries(fuzz_pcapng_corpus PRIVATE rawcap_cli rawcap_static)
add_test(NAME fuzz_pcapng_corpus
         COMMAND fuzz_pcapng_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/pcapng)
set_tests_properties(fuzz_pcapng_corpus PROPERTIES LABELS "kubectl;fuzz" TIMEOUT 60)
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  target_compile_options(rawcap_cli PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(fuzz_pcapng fuzz/fuzz_pcapng.c)
  target_compile_options(fuzz_pcapng PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_pcapng PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_pcapng PRIVATE rawcap_cli rawcap_static)
endif()

# The merge against mergecap on real captures in three namespaces.
# Real captures through capd and tcpdump, merged beside mergecap: run once, in the plain
# pass (nosan); the merge code runs under the sanitizers in test_merge and kubectl_e2e.
rawcap_script_test(kubectl_merge_oracle kubectl/merge_oracle.sh LABELS "kubectl;netns;slow;nosan" TIMEOUT 300)

# Discovery with Debian's kubectl against the fake API server; port-forward
# stood in for (it needs a real cluster); teardown on exit, Ctrl-C, SIGKILL.
rawcap_script_test(kubectl_discovery kubectl/discovery.sh LABELS "kubectl;k8s;netns" TIMEOUT 240)

# The client over --endpoints against real HTTP servers (file servers in a
# namespace): parallel streams, per-node failures, bounds, dissect over TCP/TLS.
rawcap_script_test(kubectl_endpoints kubectl/endpoints.sh LABELS "kubectl;netns" TIMEOUT 300)

# End to end against real nodes: capd + rawcap-server in three namespaces,
# --endpoints and the kubectl path; skipped while the build has no rawcap-server.
rawcap_script_test(kubectl_e2e kubectl/e2e.sh LABELS "kubectl;k8s;netns" TIMEOUT 600)

# A fresh node: a window reaching before capture began is complete, not "recycled" (exit 0).
rawcap_script_test(kubectl_before_capture kubectl/before_capture.sh LABELS "kubectl;server;netns" TIMEOUT 120)
# A window wholly before a node's capture: an empty capture tcpdump reads, exit 0, both formats.
rawcap_script_test(kubectl_before_capture_quiet kubectl/before_capture_quiet.sh LABELS "kubectl;server;netns" TIMEOUT 120)
