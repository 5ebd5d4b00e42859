# SPDX-License-Identifier: MIT
# Merge benchmark (bench/run-merge.sh): kubectl-rawcap merge of three nodes'
# 1 GiB windows beside mergecap of the same files, and peak RSS at 1x and 4x.
add_custom_target(bench-merge
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-merge.sh
  DEPENDS kubectl-rawcap rawcap-pcap pktwriter
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "kubectl-rawcap merge beside mergecap (3 x 1 GiB windows, then 3 x 4 GiB; minutes)"
  USES_TERMINAL)
