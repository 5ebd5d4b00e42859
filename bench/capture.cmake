# capture: capd against tcpdump, dumpcap, netsniff-ng and stenotype (bench/run-capture.sh).
# The sender is tests/capd/capd-traffic (built with the tests); nothing else to build.
add_custom_target(bench-capture
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-capture.sh ${CMAKE_BINARY_DIR}
  DEPENDS capd capd-traffic
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  USES_TERMINAL)
