#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fanout_order.sh - with --threads 2, every flow is exported in the order
# tcpdump captured it, whatever the fanout mode. `lb` deals each flow's
# packets round-robin over the two sockets, so capd must merge the sockets'
# blocks by timestamp (capd/afp_order.c) rather than store one socket's
# block, then the other's. Traffic on a veth: a UDP burst, interleaved UDP
# flows spaced out, and a TCP connection both ways; compared with tcpdump on
# the same interface, flow by flow, from the ring and from the disk FIFO.
set -euo pipefail
TNAME=fanord
. "$(dirname "$0")/lib.sh"

NS2=rc-fanord2-$$
mkns "$NS2"
X=fo$$a Y=fo$$b
veth_to "$NS2" "$X" "$Y" 141
for ns in "$NS" "$NS2"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
sleep 0.3

# A TCP sink in $NS: reads until the peer closes, then answers one byte.
ip netns exec "$NS" python3 -c '
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.141.1", 7150)); l.listen(4); l.settimeout(300)
while True:
    c, _ = l.accept()
    while c.recv(65536):
        pass
    c.send(b"k"); c.close()' &
PIDS+=($!)

# A flow out of order: say how many packets capd held past its reorder bound,
# which is where an order failure under load comes from.
fail_order() {
	local line
	kill -TERM "$CAPD_PID" 2>/dev/null && wait "$CAPD_PID" 2>/dev/null || true
	line=$(grep "capd: final:" "$TMP/capd.$mode.log" || echo "no final line")
	fail "$1 (capd unordered: sock0=$(kv sock0.unordered "$line") sock1=$(kv sock1.unordered "$line"))"
}

# tcpdump --immediate-mode has one snaplen-sized frame per packet: 256 of them.
export TD_BUFFER=65536
for mode in lb cpu hash; do
	rm -rf "$RAWCAP_SHM_DIR"/* "$TMP/fifo"
	start_capd "$TMP/capd.$mode.log" --ring-size 32Mi --interfaces "$X" --threads 2 \
		--fanout "$mode" --storage "$TMP/fifo" --storage-size 64Mi
	td_start "$TMP/td.$mode.pcap" "$X"
	T0=$(now)
	ip netns exec "$NS2" python3 "$TRAFFIC" udp 198.18.141.1 7140 40 200 burst \
		rr 198.18.141.1 7141 4 150 0.002 rr tcp 198.18.141.1 7150 1024
	sleep 0.6
	T1=$(now)
	td_stop "$TMP/td.$mode.pcap"
	"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" -o "$TMP/ring.$mode.pcapng" ||
		fail "--fanout $mode: export failed"
	$PKTS flows "$TMP/ring.$mode.pcapng" "$TMP/td.$mode.pcap" --between "$T0" "$T1" \
		>"$TMP/flows.out" || fail_order "--fanout $mode, ring: $(cat "$TMP/flows.out")"
	echo "--fanout $mode, ring: $(head -1 "$TMP/flows.out")"
	stop_capd "$TMP/capd.$mode.log"
	line=$(grep "capd: final:" "$TMP/capd.$mode.log")
	for s in 0 1; do
		[ "$(kv "sock$s.balanced" "$line")" = yes ] || fail "--fanout $mode: $line"
		# lb deals packets in turn: both sockets must have had some, or nothing was split.
		[ "$mode" != lb ] || [ "$(kv "sock$s.captured" "$line")" -gt 0 ] ||
			fail "--fanout lb: socket $s captured nothing, the test splits nothing: $line"
	done
	echo "--fanout $mode: unordered (held past the bound) sock0=$(kv sock0.unordered "$line")" \
		"sock1=$(kv sock1.unordered "$line")"
	rm -f "$RAWCAP_SHM_DIR"/*
	"$PCAP" --ring "$RING" --storage "$TMP/fifo" -q --from "$T0" --to "$T1" \
		-o "$TMP/disk.$mode.pcapng" || fail "--fanout $mode: export from disk failed"
	$PKTS flows "$TMP/disk.$mode.pcapng" "$TMP/td.$mode.pcap" --between "$T0" "$T1" \
		>"$TMP/flows.out" || fail "--fanout $mode, disk FIFO: $(cat "$TMP/flows.out")"
	echo "--fanout $mode, disk FIFO: $(head -1 "$TMP/flows.out")"
done
echo PASS
