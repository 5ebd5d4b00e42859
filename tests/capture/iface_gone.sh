#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# iface_gone.sh - a pod's veth sends its last datagrams and is deleted at
# once, while they still sit in a capture block: every datagram the peer
# received is exported under the interface's name, with --threads 1 and 2,
# right after the deletion and again once capd's grace for the interface has
# passed (the ring still holds them, so the description must stay).
set -euo pipefail
TNAME=gone
. "$(dirname "$0")/lib.sh"

NS2=rc-gone2-$$
mkns "$NS2"
ip netns exec "$NS2" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(("0.0.0.0", 7160)); s.settimeout(0.5)
n = 0; end = time.time() + 120
while time.time() < end:
    try:
        s.recv(2048); n += 1
        open(sys.argv[1], "w").write("%d\n" % n)
    except socket.timeout:
        pass' "$TMP/peer.count" &
PIDS+=($!)

for threads in 1 2; do
	rm -f "$RAWCAP_SHM_DIR"/*
	X=gp$$x$threads Y=gp$$y$threads
	start_capd "$TMP/capd.$threads.log" --ring-size 16Mi --interfaces 'gp*' --threads "$threads"
	veth_to "$NS2" "$X" "$Y" 160
	sleep 0.5
	base=$(cat "$TMP/peer.count" 2>/dev/null || echo 0)
	T0=$(now)
	nsx python3 - "$X" <<'PY'
import socket, subprocess, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(60):
    s.sendto(f"last-{i:06d}-".encode().ljust(100, b"."), ("198.18.160.2", 7160))
subprocess.run(["ip", "link", "del", sys.argv[1]], check=True)
PY
	sleep 1
	T1=$(now)
	peer=$(($(cat "$TMP/peer.count") - base))
	[ "$peer" = 60 ] || fail "the peer received $peer of 60"
	for when in "after the deletion" "after capd's grace"; do
		"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" --filter 'udp port 7160' \
			-o "$TMP/x.pcapng" 2>"$TMP/x.log" || fail "export failed: $(cat "$TMP/x.log")"
		got=$($PKTS count "$TMP/x.pcapng" --iface "$X")
		[ "$got" = 60 ] || fail "--threads $threads, $when: $got of 60 exported under $X ($($PKTS count "$TMP/x.pcapng") in all)"
		echo "--threads $threads, $when: 60 of 60 under $X"
		[ "$when" != "after the deletion" ] || sleep 6
	done
	stop_capd "$TMP/capd.$threads.log"
	grep -q "balanced=NO" "$TMP/capd.$threads.log" && fail "capd's counts do not balance: $(tail -1 "$TMP/capd.$threads.log")"
	grep -q "unselected=[1-9]" "$TMP/capd.$threads.log" && fail "packets dropped as unselected: $(tail -1 "$TMP/capd.$threads.log")"
done
echo PASS
