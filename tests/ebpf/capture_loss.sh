#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture_loss.sh - nothing is lost silently on the eBPF path: with a tiny
# BPF ring buffer that is not drained for a while, every packet tcpdump saw
# is either in the ring or counted in a RAWCAP_LOSS_EBPF_RINGBUF loss record.
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init ebloss 44
command -v tcpdump >/dev/null || { echo "SKIP: needs tcpdump"; exit 77; }
ebpf_netns_pair

ip netns exec "$NSA" tcpdump -i "$IFA" -n -U --immediate-mode -s 64 -w "$TMP/td.pcap" 2>"$TMP/td.err" &
TD=$!; PIDS+=($TD)
wait_for "$TMP/td.err" "listening on"
ip netns exec "$NSB" python3 "$SRC/traffic.py" udp-recv --port 7100 --count 300 --pidfile "$TMP/ur.pid" &
PIDS+=($!)
wait_file "$TMP/ur.pid"
# 64 KiB of ring buffer holds about 40 samples of 1500 B; the driver does not drain until the sender is done.
ip netns exec "$NSA" "$BIN/ebpf_capture_driver" -r "$RING" -i "$IFA" -b 65536 -W "$TMP/drain" -S "$TMP/state" \
	>"$TMP/drv.out" 2>"$TMP/drv.err" &
DRV=$!; PIDS+=($DRV)
wait_for "$TMP/drv.out" "^ready"
ip netns exec "$NSA" python3 "$SRC/traffic.py" udp-send --host "$ADDR_B" --port 7100 --count 300 --size 1400
touch "$TMP/drain"
sleep 0.5
kill -TERM $DRV; wait $DRV || fail "driver failed: $(cat "$TMP/drv.err")"
kill -INT $TD; wait $TD || true
cat "$TMP/drv.out"

seen=$(tcpdump -r "$TMP/td.pcap" -n 2>/dev/null | wc -l)
"$BIN/ebpf_ring_dump" "$RING" >"$TMP/ring.txt"
got=$(grep -c '^PKT' "$TMP/ring.txt" || true)
lost=$(awk '/^LOSS cause=3 / { split($3, c, "="); n += c[2] } END { print n + 0 }' "$TMP/ring.txt")
drops=$(sed -n 's/.* drops=\([0-9]*\).*/\1/p' "$TMP/drv.out")
echo "tcpdump $seen, in ring $got, loss records $lost, driver drops $drops"
[ "$lost" -gt 0 ] || fail "expected ring buffer loss, none recorded"
[ "$lost" = "$drops" ] || fail "loss records ($lost) differ from the kernel's drop count ($drops)"
[ $((got + lost)) = "$seen" ] || fail "captured $got + lost $lost != $seen packets on the wire"
echo "PASS: every packet is captured or counted as lost"
