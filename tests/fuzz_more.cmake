# SPDX-License-Identifier: MIT
# Fuzz targets for time/size parsing (lib/parse.c) and capd's config file
# parser (capd/config.c), following tests/fuzz.cmake: a corpus replay that
# ctest runs in every build, the libFuzzer binaries only with RAWCAP_FUZZ and
# clang (scripts/fuzz.sh builds and runs them).
set(FUZZ_CONFIG_SRCS fuzz/fuzz_config.c ${CMAKE_SOURCE_DIR}/capd/config.c
    ${CMAKE_SOURCE_DIR}/capd/config_load.c ${CMAKE_SOURCE_DIR}/capd/config_check.c
    ${CMAKE_SOURCE_DIR}/lib/parse.c ${CMAKE_SOURCE_DIR}/lib/version.c)

add_executable(fuzz_parse_corpus fuzz/fuzz_parse.c fuzz/replay.c ${CMAKE_SOURCE_DIR}/lib/parse.c)
target_include_directories(fuzz_parse_corpus PRIVATE ${RAWCAP_INCLUDE})
add_test(NAME fuzz_parse_corpus
         COMMAND fuzz_parse_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/parse)
set_tests_properties(fuzz_parse_corpus PROPERTIES TIMEOUT 60 LABELS "fuzz")

add_executable(fuzz_config_corpus ${FUZZ_CONFIG_SRCS} fuzz/replay.c)
target_include_directories(fuzz_config_corpus PRIVATE ${CMAKE_SOURCE_DIR}/capd ${RAWCAP_INCLUDE})
target_compile_definitions(fuzz_config_corpus PRIVATE
                           RAWCAP_VERSION_STRING="${PROJECT_VERSION}")
target_link_libraries(fuzz_config_corpus PRIVATE rawcap_opt rawcap_ring_writer rawcap_httpd rawcap_safe_open)
add_test(NAME fuzz_config_corpus
         COMMAND fuzz_config_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/config)
set_tests_properties(fuzz_config_corpus PROPERTIES TIMEOUT 60 LABELS "fuzz")

if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_parse fuzz/fuzz_parse.c ${CMAKE_SOURCE_DIR}/lib/parse.c)
  target_include_directories(fuzz_parse PRIVATE ${RAWCAP_INCLUDE})
  add_executable(fuzz_config ${FUZZ_CONFIG_SRCS})
  target_include_directories(fuzz_config PRIVATE ${CMAKE_SOURCE_DIR}/capd ${RAWCAP_INCLUDE})
  target_compile_definitions(fuzz_config PRIVATE RAWCAP_VERSION_STRING="${PROJECT_VERSION}")
  target_link_libraries(fuzz_config PRIVATE rawcap_opt rawcap_ring_writer rawcap_httpd rawcap_safe_open)
  foreach(t fuzz_parse fuzz_config)
    target_compile_options(${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${t} PRIVATE -fsanitize=fuzzer,address,undefined)
  endforeach()
endif()

# capd's per-packet self-exclusion test parses every captured frame (capd/self_match.c).
add_executable(fuzz_self_match_corpus fuzz/fuzz_self_match.c fuzz/replay.c)
target_link_libraries(fuzz_self_match_corpus PRIVATE rawcap_self)
add_test(NAME fuzz_self_match_corpus
         COMMAND fuzz_self_match_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/self_match)
set_tests_properties(fuzz_self_match_corpus PROPERTIES TIMEOUT 60 LABELS "fuzz;capd")
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_self_match fuzz/fuzz_self_match.c ${CMAKE_SOURCE_DIR}/capd/self_match.c)
  target_include_directories(fuzz_self_match PRIVATE ${CMAKE_SOURCE_DIR}/capd)
  target_compile_options(fuzz_self_match PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_self_match PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
