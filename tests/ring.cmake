# SPDX-License-Identifier: MIT
# The shm ring and librawcap's cursor over it: deterministic unit
# tests, cross-process tests (permissions, wake-ups), and the multi-process
# stress test, all in tests/ring/ around one fixture (ring_test.h). The fuzz target's corpus replay is in fuzz.cmake.
set(RING_TEST_LIBS rawcap_static rawcap_ring_writer)

rawcap_unit_test(test_ring SOURCES ring/test_ring.c LIBS ${RING_TEST_LIBS} LABELS ring TIMEOUT 120)
rawcap_unit_test(test_ring_proc SOURCES ring/test_ring_proc.c LIBS ${RING_TEST_LIBS}
                 LABELS ring TIMEOUT 120)

# Stress: stress_run forks and execs the writer and readers found beside it.
foreach(prog stress_writer stress_reader stress_run)
  add_executable(${prog} ring/${prog}.c)
  target_include_directories(${prog} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/ring ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${prog} PRIVATE ${RING_TEST_LIBS})
endforeach()
add_dependencies(stress_run stress_writer stress_reader)
# 10 M records: ~3 s, ~7 s under ASan. RAWCAP_STRESS_RECORDS=N in ctest's
# environment scales it (e.g. on a slow or heavily loaded machine).
add_test(NAME ring_stress COMMAND stress_run)
set_tests_properties(ring_stress PROPERTIES TIMEOUT 300 LABELS "ring;stress")
