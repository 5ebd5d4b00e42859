# SPDX-License-Identifier: MIT
# Export and snapshot benchmark (bench/run-export.sh): rawcap-pcap over a
# window read from the disk FIFO beside tcpdump's rewrite of the same
# packets, and rawcap-snapshot create beside cp of the same bytes.
# Needs pktwriter (tests/pcap) to fill the ring and FIFO.
add_custom_target(bench-export
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-export.sh
  DEPENDS rawcap-pcap rawcap-snapshot pktwriter
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "rawcap-pcap / rawcap-snapshot benchmark (1 GiB window; minutes)"
  USES_TERMINAL)

# Snapshot creation alone, in paired rounds beside cp && sync (bench/run-snapshot.sh).
add_custom_target(bench-snapshot
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-snapshot.sh
  DEPENDS rawcap-snapshot pktwriter
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "rawcap-snapshot create benchmark (1 GiB window, paired rounds; minutes)"
  USES_TERMINAL)
