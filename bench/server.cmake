# SPDX-License-Identifier: MIT
# Node API benchmark (bench/run-server.sh): GET /v1/pcap over loopback beside
# rawcap-pcap of the same window; server CPU per GB and peak RSS.
add_custom_target(bench-server
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-server.sh
  DEPENDS rawcap-pcap rawcap-server pktwriter
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "rawcap-server download benchmark (1 GiB window; minutes)"
  USES_TERMINAL)
# The benchmark's client: libcurl writing its file in 1 MiB pieces.
find_package(PkgConfig REQUIRED)
pkg_check_modules(BENCH_CURL REQUIRED IMPORTED_TARGET libcurl)
add_executable(http_get http_get.c)
target_link_libraries(http_get PRIVATE PkgConfig::BENCH_CURL)
add_dependencies(bench-server http_get)
