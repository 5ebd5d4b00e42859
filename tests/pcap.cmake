# SPDX-License-Identifier: MIT
# The readers rawcap-pcap and rawcap-snapshot, and the pieces of
# librawcap they share (pcap/pcapng writer, filters, window loop, snapshots).
add_executable(pktwriter ${CMAKE_CURRENT_SOURCE_DIR}/pcap/pktwriter.c)
target_link_libraries(pktwriter PRIVATE rawcap_storage rawcap_ring_writer PkgConfig::LIBPCAP)

rawcap_unit_test(test_pcap_writer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pcap/test_pcap_writer.c
                 LIBS rawcap_static LABELS pcap TIMEOUT 30)
rawcap_unit_test(test_manifest SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/snapshot/test_manifest.c
                 LIBS rawcap_static LABELS snapshot TIMEOUT 30)
rawcap_unit_test(test_snapshot_hash SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/snapshot/test_snapshot_hash.c
                 LIBS rawcap_static LABELS snapshot TIMEOUT 30)
rawcap_unit_test(test_snapshot_quota SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/snapshot/test_snapshot_quota.c
                 LIBS rawcap_static LABELS snapshot TIMEOUT 30)
rawcap_script_test(pcap_export pcap/export.sh LABELS pcap TIMEOUT 120)
rawcap_script_test(pcap_follow pcap/follow.sh LABELS pcap TIMEOUT 60)
rawcap_script_test(snapshot_roundtrip snapshot/roundtrip.sh LABELS snapshot TIMEOUT 120)
rawcap_script_test(snapshot_rules snapshot/rules.sh LABELS snapshot TIMEOUT 60)

# The manifest parser reads untrusted text: a libFuzzer target (clang,
# -DRAWCAP_FUZZ=ON) and its seed corpus replayed in every build.
add_executable(fuzz_manifest_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_manifest.c)
target_compile_definitions(fuzz_manifest_corpus PRIVATE FUZZ_MANIFEST_MAIN)
target_link_libraries(fuzz_manifest_corpus PRIVATE rawcap_static)
add_test(NAME fuzz_manifest_corpus
         COMMAND fuzz_manifest_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/manifest)
set_tests_properties(fuzz_manifest_corpus PROPERTIES LABELS "snapshot;fuzz" TIMEOUT 60)
if(RAWCAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_manifest ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_manifest.c)
  target_compile_options(fuzz_manifest PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_manifest PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_manifest PRIVATE rawcap_static)
endif()

# The same readers fed by the real capd (capturing lo in a private namespace),
# checked against an independent tcpdump.
rawcap_script_test(pcap_capd_e2e pcap/capd_e2e.sh LABELS pcap capd TIMEOUT 90)

# Every export says what it lacks: damaged blocks, empty windows, snapshots
# whose window reaches before capture began; every file opens in every tool.
rawcap_script_test(snapshot_damaged_block snapshot/damaged.sh LABELS snapshot capd TIMEOUT 180)
rawcap_unit_test(test_history_damage SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/snapshot/test_history_damage.c
                 LIBS rawcap_storage rawcap_static LABELS snapshot TIMEOUT 60)
rawcap_script_test(pcap_every_tool pcap/tools.sh LABELS pcap capd TIMEOUT 300)
rawcap_script_test(snapshot_first_window snapshot/first_window.sh LABELS snapshot capd TIMEOUT 120)
rawcap_script_test(pcap_empty_results pcap/empty_results.sh LABELS pcap snapshot capd TIMEOUT 120)
# Opening a window: each segment header listed once, the oldest block read once, every check kept.
rawcap_unit_test(test_history_open SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pcap/test_history_open.c
                 LIBS rawcap_storage rawcap_static LABELS pcap TIMEOUT 60)
# strace: not under the sanitizers (LeakSanitizer does not run under ptrace).
rawcap_script_test(pcap_window_open pcap/window_open.sh LABELS pcap nosan TIMEOUT 60)

# Whole-block copies: the same snapshot, byte for byte, as the record path's.
rawcap_script_test(snapshot_blocks snapshot/blocks.sh LABELS snapshot TIMEOUT 120)
