# SPDX-License-Identifier: MIT
# rawcap-forward throughput beside a plain copy of the same bytes (bench/run-forward.sh).
# It links librawcap.so as rawcap-forward does (hidden visibility, TLS through
# the rawcap/openssl.so module), not rawcap_static: it uses only the public
# API, plus the ring writer to fill its ring.
add_executable(forward_bench ${CMAKE_CURRENT_SOURCE_DIR}/forward_bench.c
               ${CMAKE_CURRENT_SOURCE_DIR}/forward_bench_io.c
               ${CMAKE_CURRENT_SOURCE_DIR}/forward_bench_steady.c)
target_link_libraries(forward_bench PRIVATE rawcap rawcap_ring_writer PkgConfig::OPENSSL
                      Threads::Threads)
