#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture_filter.sh - the in-kernel filter of the eBPF path keeps exactly the
# packets the supported subset names: "udp and port P and net N" keeps the
# datagrams to P and drops other ports, ARP and the ICMP errors they cause.
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init ebfilt 45
ebpf_netns_pair

ip netns exec "$NSA" "$BIN/ebpf_capture_driver" -r "$RING" -i "$IFA" -S "$TMP/state" \
	-f "udp and port 7101 and net 198.18.45.0/24" >"$TMP/drv.out" 2>"$TMP/drv.err" &
DRV=$!; PIDS+=($DRV)
wait_for "$TMP/drv.out" "^ready"
ip netns exec "$NSA" python3 "$SRC/traffic.py" udp-send --host "$ADDR_B" --port 7101 --count 20 --size 100
ip netns exec "$NSA" python3 "$SRC/traffic.py" udp-send --host "$ADDR_B" --port 7102 --count 15 --size 100
sleep 0.3
kill -TERM $DRV; wait $DRV || fail "driver failed: $(cat "$TMP/drv.err")"
cat "$TMP/drv.out"
"$BIN/ebpf_ring_dump" "$RING" >"$TMP/ring.txt"
kept=$(grep -c '^PKT dir=4 .* len=142 ' "$TMP/ring.txt" || true)
all=$(grep -c '^PKT' "$TMP/ring.txt" || true)
filtered=$(sed -n 's/.* filtered=\([0-9]*\).*/\1/p' "$TMP/drv.out")
[ "$kept" = 20 ] || fail "kept $kept datagrams to port 7101, want 20"
[ "$all" = 20 ] || fail "ring holds $all packets, want only the 20 datagrams to port 7101"
[ "$filtered" -ge 15 ] || fail "filtered $filtered packets, want at least the 15 to port 7102"
echo "PASS: the eBPF filter kept 20 and rejected $filtered"
