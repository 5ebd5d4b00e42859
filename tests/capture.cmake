# SPDX-License-Identifier: MIT
# Capture fidelity: what capd records and the readers cut equals what tcpdump
# captures on the same interface (link types, VLAN tags, filters, fanout,
# time windows, interfaces that go away, super-packets). Scripts compare
# byte for byte with tcpdump in private namespaces (ctest -L capture).
rawcap_unit_test(test_capture_filter SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/capture/test_filter.c
                 LIBS rawcap_static PkgConfig::LIBPCAP LABELS capture TIMEOUT 60)
rawcap_unit_test(test_capture_iface
                 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/capture/test_iface.c
                         ${CMAKE_SOURCE_DIR}/capd/iface.c ${CMAKE_SOURCE_DIR}/capd/util.c
                 LIBS rawcap_ring_writer LABELS capture TIMEOUT 60)
target_include_directories(test_capture_iface PRIVATE ${CMAKE_SOURCE_DIR}/capd ${RAWCAP_INCLUDE})

foreach(t vlan linktypes fanout super iface_gone)
  rawcap_script_test(capture_${t} capture/${t}.sh LABELS "capture;netns" TIMEOUT 600)
endforeach()
