# SPDX-License-Identifier: MIT
# Disk FIFO benchmark: persistence throughput and CPU per GB beside dd with
# O_DIRECT on the same file system. Uses tests/disk/diskwriter (the capd
# stand-in); run with `cmake --build B --target bench_disk` or bench/run-disk.sh.
add_custom_target(bench_disk
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-disk.sh ${CMAKE_BINARY_DIR}
  DEPENDS diskwriter USES_TERMINAL)
