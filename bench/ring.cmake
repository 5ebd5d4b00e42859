# SPDX-License-Identifier: MIT
# Ring writer throughput against memcpy, with verifying reader processes (bench/run-ring.sh).
add_executable(ring_bench ring_bench.c)
target_link_libraries(ring_bench PRIVATE rawcap_static rawcap_ring_writer m)
target_include_directories(ring_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests) # payload.h
