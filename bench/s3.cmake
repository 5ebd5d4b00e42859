# SPDX-License-Identifier: MIT
# S3 benchmark (bench/run-s3.sh): rawcap-snapshot upload/download to and from
# the S3 test server beside curl -T / curl -o of the same bytes, with max RSS
# at two snapshot sizes. Needs pktwriter (tests/pcap) and node (tests/s3).
add_custom_target(bench-s3
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-s3.sh
  DEPENDS rawcap-snapshot pktwriter
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "S3 upload/download benchmark (256 MiB and 1 GiB snapshots; minutes)"
  USES_TERMINAL)
