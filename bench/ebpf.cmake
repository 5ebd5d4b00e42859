# SPDX-License-Identifier: MIT
# eBPF capture backend beside AF_PACKET (capd) and tcpdump on the same traffic (bench/run-ebpf.sh).
if(RAWCAP_BPF AND RAWCAP_TESTS)
  add_custom_target(bench-ebpf
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run-ebpf.sh ${CMAKE_BINARY_DIR}
    DEPENDS ebpf_capture_driver capd capd-traffic
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    USES_TERMINAL)
endif()
