# SPDX-License-Identifier: MIT
# Fuzz targets. Each fuzz/<name>.c defines LLVMFuzzerTestOneInput; with
# FUZZ_<NAME>_MAIN it also has a main that replays a corpus, so ctest runs the
# seed corpus through the same code in every build. The libFuzzer binaries are
# built only with -DRAWCAP_FUZZ=ON and CC=clang:
#   CC=clang cmake -S . -B build-fuzz -DRAWCAP_FUZZ=ON -DRAWCAP_BPF=OFF
#   cmake --build build-fuzz --target fuzz_ring
#   build-fuzz/tests/fuzz_ring -max_total_time=300 tests/fuzz/corpus/ring
add_executable(fuzz_ring_corpus fuzz/fuzz_ring.c)
target_compile_definitions(fuzz_ring_corpus PRIVATE FUZZ_RING_MAIN)
target_link_libraries(fuzz_ring_corpus PRIVATE rawcap_static rawcap_ring_writer)
add_test(NAME fuzz_ring_corpus
         COMMAND fuzz_ring_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/ring)
set_tests_properties(fuzz_ring_corpus PROPERTIES TIMEOUT 60 LABELS "ring;fuzz")

if(RAWCAP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "RAWCAP_FUZZ needs clang: CC=clang cmake -DRAWCAP_FUZZ=ON ...")
  endif()
  # Coverage feedback from the code under test, not only from the harness.
  foreach(lib rawcap_static rawcap_ring_reader rawcap_ring_writer rawcap_seg_read rawcap_common)
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
  add_executable(fuzz_ring fuzz/fuzz_ring.c)
  target_compile_options(fuzz_ring PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_ring PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_ring PRIVATE rawcap_static rawcap_ring_writer)
endif()
