# SPDX-License-Identifier: MIT
# The disk FIFO: segment format and history unit tests, the capd
# stand-in (diskwriter) and reader (diskread) the script tests drive, and the
# segment parser's fuzz target with its corpus replay.
add_executable(diskwriter disk/diskwriter.c)
target_include_directories(diskwriter PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/disk)
target_link_libraries(diskwriter PRIVATE rawcap_storage rawcap_static)

add_executable(diskread disk/diskread.c)
target_include_directories(diskread PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/disk)
target_link_libraries(diskread PRIVATE rawcap)

rawcap_unit_test(test_disk SOURCES disk/test_disk.c LIBS rawcap_storage rawcap_static LABELS disk TIMEOUT 60)
target_include_directories(test_disk PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/disk)

foreach(t recycle sigkill tmpfs_full perms format_version)
  rawcap_script_test(disk_${t} disk/${t}.sh LABELS disk TIMEOUT 120)
endforeach()

# Fuzzing the segment/block parser and history reader (see tests/fuzz.cmake for the pattern).
add_executable(fuzz_segment_corpus fuzz/fuzz_segment.c fuzz/replay.c)
target_link_libraries(fuzz_segment_corpus PRIVATE rawcap_static)
add_test(NAME fuzz_segment_corpus
         COMMAND fuzz_segment_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/segment)
set_tests_properties(fuzz_segment_corpus PROPERTIES LABELS "disk;fuzz" TIMEOUT 60)
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_segment fuzz/fuzz_segment.c)
  target_compile_options(fuzz_segment PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_segment PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_segment PRIVATE rawcap_static)
endif()

# CRC-32C: check vectors, the three-stream path against a bitwise reference and the table walk.
rawcap_unit_test(test_crc32c SOURCES disk/test_crc32c.c LIBS rawcap_common LABELS disk TIMEOUT 60)

# CRC-32C's fast path against the table walk on arbitrary bytes (libFuzzer with RAWCAP_FUZZ).
add_executable(fuzz_crc32c_corpus fuzz/fuzz_crc32c.c fuzz/replay.c)
target_link_libraries(fuzz_crc32c_corpus PRIVATE rawcap_common)
add_test(NAME fuzz_crc32c_corpus
         COMMAND fuzz_crc32c_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/crc32c)
set_tests_properties(fuzz_crc32c_corpus PROPERTIES LABELS "disk;fuzz" TIMEOUT 60)
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_crc32c fuzz/fuzz_crc32c.c)
  target_compile_options(fuzz_crc32c PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_crc32c PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_crc32c PRIVATE rawcap_common)
endif()
