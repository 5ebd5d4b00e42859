# SPDX-License-Identifier: MIT
# Node API benchmark (bench/run-server.sh): GET /v1/pcap over loopback beside
# rawcap-pcap of the same window; server CPU per GB and peak RSS.
add_custom_target(bench-server
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-server.sh
  DEPENDS rawcap-pcap rawcap-server pktwriter
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "rawcap-server download benchmark (1 GiB window; minutes)"
  USES_TERMINAL)
