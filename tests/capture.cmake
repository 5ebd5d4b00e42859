# SPDX-License-Identifier: MIT
# Capture fidelity: what capd records and the readers cut equals what tcpdump
# captures on the same interface (link types, VLAN tags, filters, fanout,
# time windows, interfaces that go away, super-packets). Scripts compare
# byte for byte with tcpdump in private namespaces (ctest -L capture).
rawcap_unit_test(test_capture_filter SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/capture/test_filter.c
                 LIBS rawcap_static PkgConfig::LIBPCAP LABELS capture TIMEOUT 60)
rawcap_unit_test(test_capture_iface
                 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/capture/test_iface.c
                         ${CMAKE_SOURCE_DIR}/capd/iface.c ${CMAKE_SOURCE_DIR}/capd/util.c
                 LIBS rawcap_ring_writer LABELS capture TIMEOUT 60)
target_include_directories(test_capture_iface PRIVATE ${CMAKE_SOURCE_DIR}/capd ${RAWCAP_INCLUDE})

# vlan and linktypes are the two slowest (a capd and a tcpdump per link type);
# the fidelity_ci cells of the same link types run under the sanitizers, so
# these two run once, in the plain pass (nosan), like the fault tests.
foreach(t fanout fanout_order super iface_gone kernel_loss)
  rawcap_script_test(capture_${t} capture/${t}.sh LABELS "capture;netns" TIMEOUT 600)
endforeach()
foreach(t vlan linktypes)
  rawcap_script_test(capture_${t} capture/${t}.sh LABELS "capture;netns;slow;nosan" TIMEOUT 600)
endforeach()

# Readers' filters run over untrusted record bytes: a libFuzzer target with
# libpcap as its oracle (tests/fuzz/fuzz_filter.c), its corpus replayed here.
add_executable(fuzz_filter_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_filter.c
               ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.c)
target_link_libraries(fuzz_filter_corpus PRIVATE rawcap_static PkgConfig::LIBPCAP)
add_test(NAME fuzz_filter_corpus
         COMMAND fuzz_filter_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/filter)
set_tests_properties(fuzz_filter_corpus PROPERTIES TIMEOUT 60 LABELS "capture;fuzz")
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_filter ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_filter.c)
  target_compile_options(fuzz_filter PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_filter PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_filter PRIVATE rawcap_static PkgConfig::LIBPCAP)
endif()
