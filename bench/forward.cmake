# SPDX-License-Identifier: MIT
# rawcap-forward throughput beside a plain copy of the same bytes (bench/run-forward.sh).
add_executable(forward_bench ${CMAKE_CURRENT_SOURCE_DIR}/forward_bench.c)
target_link_libraries(forward_bench PRIVATE rawcap_static rawcap_ring_writer PkgConfig::OPENSSL
                      Threads::Threads)
