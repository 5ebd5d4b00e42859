# SPDX-License-Identifier: MIT
# Parsers at their edges: lib/parse.c (sizes, times, durations, and the
# usage hints every tool prints) and capd's option values (capd/config.c).
# The libFuzzer targets for the same code are in fuzz_more.cmake.
add_executable(test_parse parse/test_parse.c ${CMAKE_SOURCE_DIR}/lib/parse.c)
target_include_directories(test_parse PRIVATE ${RAWCAP_INCLUDE})
target_link_libraries(test_parse PRIVATE PkgConfig::CMOCKA)
add_test(NAME test_parse COMMAND test_parse)
set_tests_properties(test_parse PROPERTIES TIMEOUT 60 LABELS "parse")

add_executable(test_capd_config parse/test_capd_config.c ${CMAKE_SOURCE_DIR}/capd/config.c
               ${CMAKE_SOURCE_DIR}/capd/config_load.c ${CMAKE_SOURCE_DIR}/capd/config_check.c
               ${CMAKE_SOURCE_DIR}/lib/parse.c ${CMAKE_SOURCE_DIR}/lib/version.c)
target_include_directories(test_capd_config PRIVATE ${CMAKE_SOURCE_DIR}/capd ${RAWCAP_INCLUDE})
target_compile_definitions(test_capd_config PRIVATE RAWCAP_VERSION_STRING="${PROJECT_VERSION}")
target_link_libraries(test_capd_config PRIVATE PkgConfig::CMOCKA rawcap_opt rawcap_ring_writer rawcap_httpd rawcap_safe_open)
add_test(NAME test_capd_config COMMAND test_capd_config)
set_tests_properties(test_capd_config PROPERTIES TIMEOUT 60 LABELS "parse;capd")

# Every reader's usage error for a value out of range (exit 2, the accepted forms).
rawcap_script_test(parse_usage parse/usage.sh LABELS "parse" TIMEOUT 60)

# No short or long flag means two things across the tools: reads every tool's
# --help (after checking that it catches clashes in a sample).
add_test(NAME parse_flags COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/parse/flags.py ${CMAKE_BINARY_DIR})
set_tests_properties(parse_flags PROPERTIES TIMEOUT 60 LABELS "parse")
