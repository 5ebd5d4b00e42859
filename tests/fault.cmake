# SPDX-License-Identifier: MIT
# Fault injection: capd killed and restarted under traffic, a reader stopped
# for a minute, storage failing under capd, a full shm directory, clock jumps.
# The two long tests (sigkill_loop 2 min, sigstop_reader 1 min) are labelled
# slow and nosan, so the sanitizer ctest pass does not run them a second time.
add_executable(fault-reader fault/fault-reader.c)
target_include_directories(fault-reader PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}) # payload.h
target_link_libraries(fault-reader PRIVATE rawcap)

rawcap_script_test(fault_sigkill_loop fault/sigkill_loop.sh LABELS "fault;slow;nosan" TIMEOUT 400)
rawcap_script_test(fault_sigstop_reader fault/sigstop_reader.sh LABELS "fault;slow;nosan" TIMEOUT 300)
rawcap_script_test(fault_storage fault/storage_faults.sh LABELS "fault" TIMEOUT 120)
rawcap_script_test(fault_shm_full fault/shm_full.sh LABELS "fault" TIMEOUT 60)
rawcap_script_test(fault_clock_jump fault/clock_jump.sh LABELS "fault" TIMEOUT 60)
