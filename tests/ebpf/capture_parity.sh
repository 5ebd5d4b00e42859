#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture_parity.sh - the eBPF (tc) capture backend sees exactly the packets
# an independent tcpdump sees on the same veth, in both directions: same
# counts, same original bytes, same captured bytes at the same snaplen.
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init ebcap 40
command -v tcpdump >/dev/null && command -v tshark >/dev/null || { echo "SKIP: needs tcpdump and tshark"; exit 77; }
ebpf_netns_pair
SNAP=200
MAC_A=$(ip netns exec "$NSA" cat "/sys/class/net/$IFA/address")

ip netns exec "$NSA" tcpdump -i "$IFA" -n -U --immediate-mode -s $SNAP -w "$TMP/td.pcap" 2>"$TMP/td.err" &
TD=$!; PIDS+=($TD)
wait_for "$TMP/td.err" "listening on"
ip netns exec "$NSA" "$BIN/ebpf_capture_driver" -r "$RING" -i "$IFA" -s $SNAP -S "$TMP/state" \
	>"$TMP/drv.out" 2>"$TMP/drv.err" &
DRV=$!; PIDS+=($DRV)
wait_for "$TMP/drv.out" "^ready"

# Traffic both ways: a TCP transfer (with GSO-sized segments), UDP each way.
ip netns exec "$NSB" python3 "$SRC/traffic.py" tcp-server --port 7000 --count 300 --size 1400 \
	--pidfile "$TMP/srv.pid" >/dev/null &
PIDS+=($!)
wait_file "$TMP/srv.pid"
ip netns exec "$NSB" python3 "$SRC/traffic.py" udp-recv --port 7001 --count 40 --pidfile "$TMP/ur.pid" &
PIDS+=($!)
wait_file "$TMP/ur.pid"
sleep 0.2
ip netns exec "$NSA" python3 "$SRC/traffic.py" tcp-client --host "$ADDR_B" --port 7000 --count 300 --size 1400
ip netns exec "$NSA" python3 "$SRC/traffic.py" udp-send --host "$ADDR_B" --port 7001 --count 40 --size 300
ip netns exec "$NSB" python3 "$SRC/traffic.py" udp-send --host "$ADDR_A" --port 7002 --count 25 --size 50
sleep 0.5

kill -TERM $DRV; wait $DRV || fail "driver exited with $?: $(cat "$TMP/drv.err")"
kill -INT $TD; wait $TD || true
cat "$TMP/drv.out"

# tcpdump's view: outgoing = sent by A's MAC.
read -r td_out td_out_b td_out_c td_in td_in_b td_in_c < <(pcap_tally "$TMP/td.pcap" "$MAC_A")
# The ring's view, read back through librawcap.
"$BIN/ebpf_ring_dump" "$RING" >"$TMP/ring.txt"
read -r rg_out rg_out_b rg_out_c rg_in rg_in_b rg_in_c < <(ring_tally "$TMP/ring.txt")

echo "tcpdump: out $td_out pkts $td_out_b B (cap $td_out_c)  in $td_in pkts $td_in_b B (cap $td_in_c)"
echo "eBPF:    out $rg_out pkts $rg_out_b B (cap $rg_out_c)  in $rg_in pkts $rg_in_b B (cap $rg_in_c)"
[ "$td_out" -ge 65 ] && [ "$td_in" -ge 25 ] || fail "too little traffic seen by tcpdump"
[ "$rg_out" = "$td_out" ] || fail "outgoing packets: eBPF $rg_out, tcpdump $td_out"
[ "$rg_in" = "$td_in" ] || fail "incoming packets: eBPF $rg_in, tcpdump $td_in"
[ "$rg_out_b" = "$td_out_b" ] || fail "outgoing bytes: eBPF $rg_out_b, tcpdump $td_out_b"
[ "$rg_in_b" = "$td_in_b" ] || fail "incoming bytes: eBPF $rg_in_b, tcpdump $td_in_b"
[ "$rg_out_c" = "$td_out_c" ] || fail "outgoing captured bytes: eBPF $rg_out_c, tcpdump $td_out_c"
[ "$rg_in_c" = "$td_in_c" ] || fail "incoming captured bytes: eBPF $rg_in_c, tcpdump $td_in_c"
# Egress packets of A's own sockets carry the socket cookie and cgroup id.
grep -q '^PKT dir=4 .*flags=14 ' "$TMP/ring.txt" || fail "no egress packet carries cookie+cgroup flags"
! grep -q '^LOSS' "$TMP/ring.txt" || fail "unexpected loss records: $(grep ^LOSS "$TMP/ring.txt")"
echo "PASS: eBPF capture matches tcpdump in both directions"
