# SPDX-License-Identifier: MIT
# rawcap-server (server/): the node API against the real capd in a private
# namespace, curl as the client.
rawcap_script_test(server_pcap server/pcap.sh LABELS server capd netns TIMEOUT 240)
rawcap_script_test(server_snapshots server/snapshots.sh LABELS server capd netns TIMEOUT 240)
rawcap_script_test(server_auth server/auth.sh LABELS server netns TIMEOUT 120)

# The query parser reads untrusted network input: a libFuzzer target (clang,
# -DRAWCAP_FUZZ=ON, scripts/fuzz.sh) and its seed corpus replayed in every build.
add_executable(fuzz_server_query_corpus fuzz/fuzz_server_query.c fuzz/replay.c)
target_include_directories(fuzz_server_query_corpus PRIVATE ${CMAKE_SOURCE_DIR}/server)
target_link_libraries(fuzz_server_query_corpus PRIVATE rawcap_server_query)
add_test(NAME fuzz_server_query_corpus
         COMMAND fuzz_server_query_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/server_query)
set_tests_properties(fuzz_server_query_corpus PROPERTIES TIMEOUT 60 LABELS "server;fuzz")
if(RAWCAP_FUZZ)
  target_compile_options(rawcap_server_query PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(fuzz_server_query fuzz/fuzz_server_query.c)
  target_compile_options(fuzz_server_query PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_server_query PRIVATE -fsanitize=fuzzer,address,undefined)
  target_include_directories(fuzz_server_query PRIVATE ${CMAKE_SOURCE_DIR}/server)
  target_link_libraries(fuzz_server_query PRIVATE rawcap_server_query)
endif()
rawcap_script_test(server_dissection server/dissection.sh LABELS server capd netns TIMEOUT 180)

# Uploads and downloads over the node API against the S3 test server
# (tests/s3/server.js, npm packages from tests/s3/setup.sh) in the same namespace.
rawcap_script_test(server_s3 server/s3.sh LABELS server s3 capd netns TIMEOUT 300)

# docs/openapi.yaml against the real server's answers (python3-jsonschema).
rawcap_script_test(server_openapi server/openapi.sh LABELS server capd netns TIMEOUT 120)
rawcap_script_test(server_parallel server/parallel.sh LABELS server capd netns TIMEOUT 120)
# Downloads whose clients stop reading yield their --max-exports slots (no lock-out).
rawcap_script_test(server_slots server/slots.sh LABELS server capd netns TIMEOUT 120)
# A download with nothing to send for longer than the idle timeout is not cut.
rawcap_script_test(server_quiet server/quiet.sh LABELS server capd netns TIMEOUT 120)
# SIGTERM/SIGINT cancel running snapshot jobs: staging removed, exit 0 at once.
rawcap_script_test(server_shutdown server/shutdown.sh LABELS server capd netns TIMEOUT 120)
# What a client may send: bodies (413, chunked too), headers (431), 401 before
# a body, pipelining, trickled bodies; over raw sockets (tests/server/raw_http.py).
rawcap_script_test(server_limits server/limits.sh LABELS server netns TIMEOUT 120)
