# SPDX-License-Identifier: MIT
# Parsers at their edges: lib/parse.c (sizes, times, durations, and the
# usage hints every tool prints) and capd's option values (capd/config.c).
# The libFuzzer targets for the same code are in fuzz_more.cmake.
add_executable(test_parse parse/test_parse.c ${CMAKE_SOURCE_DIR}/lib/parse.c)
target_include_directories(test_parse PRIVATE ${RAWCAP_INCLUDE} ${CMAKE_SOURCE_DIR}/shm)
target_link_libraries(test_parse PRIVATE PkgConfig::CMOCKA)
add_test(NAME test_parse COMMAND test_parse)
set_tests_properties(test_parse PROPERTIES TIMEOUT 60 LABELS "parse")

add_executable(test_capd_config parse/test_capd_config.c ${CMAKE_SOURCE_DIR}/capd/config.c
               ${CMAKE_SOURCE_DIR}/lib/parse.c ${CMAKE_SOURCE_DIR}/lib/version.c)
target_include_directories(test_capd_config PRIVATE ${CMAKE_SOURCE_DIR}/capd ${RAWCAP_INCLUDE})
target_compile_definitions(test_capd_config PRIVATE RAWCAP_VERSION_STRING="${PROJECT_VERSION}")
target_link_libraries(test_capd_config PRIVATE PkgConfig::CMOCKA rawcap_ring_writer rawcap_httpd)
add_test(NAME test_capd_config COMMAND test_capd_config)
set_tests_properties(test_capd_config PROPERTIES TIMEOUT 60 LABELS "parse;capd")

# Every reader's usage error for a value out of range (exit 2, the accepted forms).
rawcap_script_test(parse_usage parse/usage.sh LABELS "parse" TIMEOUT 60)
