# SPDX-License-Identifier: MIT
# eBPF capture backend and process context: real programs in the real kernel,
# driven by standalone drivers in private network namespaces (ctest -L ebpf).
if(RAWCAP_BPF)
  add_executable(ebpf_capture_driver ebpf/ebpf_capture_driver.c)
  target_link_libraries(ebpf_capture_driver PRIVATE rawcap_ebpf)
  add_executable(proc_ctx_driver ebpf/proc_ctx_driver.c)
  target_link_libraries(proc_ctx_driver PRIVATE rawcap_ebpf)
  add_executable(ebpf_ring_dump ebpf/ebpf_ring_dump.c)
  target_link_libraries(ebpf_ring_dump PRIVATE rawcap_static PkgConfig::MSGPACK)

  rawcap_unit_test(test_ebpf_filter SOURCES ebpf/test_ebpf_filter.c LIBS rawcap_ebpf LABELS ebpf)
  rawcap_unit_test(test_cgroup_id SOURCES ebpf/test_cgroup_id.c LIBS rawcap_ebpf LABELS ebpf)
  rawcap_script_test(ebpf_capture_parity ebpf/capture_parity.sh LABELS ebpf TIMEOUT 60)
  rawcap_script_test(ebpf_capture_filter ebpf/capture_filter.sh LABELS ebpf TIMEOUT 30)
  rawcap_script_test(ebpf_capture_loss ebpf/capture_loss.sh LABELS ebpf TIMEOUT 60)
  rawcap_script_test(ebpf_capture_cleanup ebpf/capture_cleanup.sh LABELS ebpf TIMEOUT 60)
  rawcap_script_test(ebpf_fallback ebpf/fallback.sh LABELS ebpf TIMEOUT 30)
  rawcap_script_test(ebpf_proc_ctx ebpf/proc_ctx.sh LABELS ebpf TIMEOUT 60)
endif()

# The same paths inside the real capd (backend parity, forced fallback, process context).
if(RAWCAP_BPF)
  rawcap_script_test(ebpf_capd ebpf/capd_ebpf.sh LABELS "ebpf;capd" TIMEOUT 120)
endif()
