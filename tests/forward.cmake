# SPDX-License-Identifier: MIT
# rawcap-forward: the msgpack stream codec (unit), and netns script
# tests against a ring filled by pktwriter (tests/pcap.cmake) or capd
# (RAWCAP_FWD_SOURCE=capd, see tests/forward/lib.sh).
add_executable(msgpack_sink ${CMAKE_CURRENT_SOURCE_DIR}/forward/msgpack_sink.c)
target_link_libraries(msgpack_sink PRIVATE rawcap)

rawcap_unit_test(test_forward_stream SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/forward/test_stream.c
                 LIBS rawcap_static LABELS forward TIMEOUT 30)
# One receiver driven by hand as the poll loop drives it (fill, flush) over a socketpair.
rawcap_unit_test(test_forward_client SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/forward/test_client.c
                 LIBS rawcap_static rawcap_ring_writer LABELS forward TIMEOUT 30)
foreach(t live lapped msgpack tls pause halfclose)
  rawcap_script_test(forward_${t} forward/${t}.sh LABELS forward TIMEOUT 90)
endforeach()
# The same path fed by the real capd capturing lo in a private namespace.
rawcap_script_test(forward_capd_e2e forward/capd_e2e.sh LABELS forward capd TIMEOUT 240)
# The forwarder as a network server: no work before authentication, receivers
# that do not read or do not finish their handshake lose their slot,
# accept(2) out of fds backs off, TLS off loopback needs client certificates.
foreach(t preauth slots emfile tls_policy)
  rawcap_script_test(forward_${t} forward/${t}.sh LABELS forward TIMEOUT 120)
endforeach()
# capd leaves rawcap's own connections out of the capture (--capture-self keeps them).
rawcap_script_test(forward_capture_self forward/capture_self.sh LABELS forward capd TIMEOUT 120)
# ... from their first packets, connecting out or accepted, with no socket dump in between.
rawcap_script_test(forward_self_first forward/self_first.sh LABELS forward capd TIMEOUT 120)
# ... and a SYN flood from other hosts does not make it capture a forwarder's --connect.
rawcap_script_test(forward_self_flood forward/self_flood.sh LABELS forward capd TIMEOUT 120)
# ... and another uid's connection on the 5-tuple of one rawcap made out and closed is captured.
rawcap_script_test(forward_self_reuse forward/self_reuse.sh LABELS forward capd TIMEOUT 120)
