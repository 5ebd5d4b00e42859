# self-exclusion: the per-packet test against the copy capd makes anyway
# (self_bench), and the socket dump's cost beside many sockets (bench/run-self.sh).
add_executable(self_bench self_bench.c)
target_link_libraries(self_bench PRIVATE rawcap_self)
add_custom_target(bench-self
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-self.sh ${CMAKE_BINARY_DIR}
  DEPENDS capd self_bench
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  USES_TERMINAL)
