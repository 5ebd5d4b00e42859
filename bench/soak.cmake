# SPDX-License-Identifier: MIT
# soak: capd for 10 minutes (DURATION=...) at a steady rate with all readers
# attached; RSS, fds, loss and CPU per packet over time (bench/soak.sh).
add_custom_target(bench-soak
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/soak.sh ${CMAKE_BINARY_DIR}
  DEPENDS capd capd-traffic fault-reader rawcap-stat rawcap-forward
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  USES_TERMINAL)
