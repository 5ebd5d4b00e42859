# SPDX-License-Identifier: MIT
# Parsers at their edges: lib/parse.c (sizes, times, durations, and the
# usage hints every tool prints) and capd's option values (capd/config.c).
# The libFuzzer targets for the same code are in fuzz_more.cmake.
add_executable(test_parse parse/test_parse.c ${CMAKE_SOURCE_DIR}/lib/parse.c)
target_include_directories(test_parse PRIVATE ${RAWCAP_INCLUDE} ${CMAKE_SOURCE_DIR}/shm)
target_link_libraries(test_parse PRIVATE PkgConfig::CMOCKA)
add_test(NAME test_parse COMMAND test_parse)
set_tests_properties(test_parse PROPERTIES TIMEOUT 60 LABELS "parse")
