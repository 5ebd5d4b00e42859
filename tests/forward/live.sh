#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# live.sh - rawcap-forward feeds tshark's TCP@ remote interface: live
# packets arrive exactly (count and bytes), and so does a replayed past
# window; a snapshot of the window replays the same (when snapshots exist).
set -euo pipefail
NAME=live
. "$(dirname "$0")/lib.sh"

src_start
fwd_start fwd --plain --listen 127.0.0.1:5555

# Live: tshark connects first, then traffic flows.
ip netns exec "$NS" tshark -i TCP@127.0.0.1:5555 -w "$TMP/live.pcapng" >"$TMP/tshark.err" 2>&1 &
TS=$!; PIDS+=($TS)
wait_until 10 log_has "$TMP/fwd.err" "connected"
sleep 0.5 # dumpcap reads the section header before packets matter
T1=$(date +%s.%N)
src_send 300 300
A=$LAST_SENT
sleep 1
T2=$(date +%s.%N)
src_send 50 1000 # after the window
B1=$LAST_SENT
sleep 1
T3=$(date +%s.%N)
kill "$FWD_PID"; wait "$FWD_PID" || true
wait_until 10 bash -c "! kill -0 $TS 2>/dev/null"
n=$(pkts "$TMP/live.pcapng")
[ "$n" = 350 ] || fail "live: tshark got $n packets, 350 were sent"
dump "$A" >"$TMP/exp"; dump "$B1" >>"$TMP/exp"
[ "$(md5sum <"$TMP/exp")" = "$(dump "$TMP/live.pcapng" | md5sum)" ] || fail "live: packet bytes differ"
echo "live: tshark received all 350 packets byte for byte"

# Replay of the past window [T1, T2]: only the first 300 packets, then EOF.
fwd_start replay --plain --listen 127.0.0.1:5556 --from "$T1" --to "$T2"
timeout 60 ip netns exec "$NS" tshark -i TCP@127.0.0.1:5556 -w "$TMP/window.pcapng" >"$TMP/tshark2.err" 2>&1 ||
	fail "tshark on the replay did not end by itself in 60 s: $(tail -3 "$TMP/tshark2.err")"
n=$(pkts "$TMP/window.pcapng")
[ "$n" = 300 ] || fail "window: tshark got $n packets, the window holds 300"
same_packets "$A" "$TMP/window.pcapng" || fail "window: packet bytes differ"
log_has "$TMP/replay.err" "window delivered: 300 packets" || fail "window: no delivery report"
echo "window: replay of [T1, T2] delivered exactly its 300 packets"

# The same window as classic pcap, read by tshark too.
fwd_start replay2 --plain --listen 127.0.0.1:5557 --from "$T1" --to "$T2" --format pcap
timeout 60 ip netns exec "$NS" tshark -i TCP@127.0.0.1:5557 -w "$TMP/window.pcap" >"$TMP/tshark3.err" 2>&1 ||
	fail "tshark on the pcap replay did not end by itself in 60 s: $(tail -3 "$TMP/tshark3.err")"
same_packets "$A" "$TMP/window.pcap" || fail "classic pcap: packets differ"
echo "window: classic pcap replay identical"

# collector PORT OUT WAIT_S: a collector on 127.0.0.1:PORT that writes what
# one connection sends to OUT (in the background: $COL); returns once it listens.
collector() {
	rm -f "$TMP/col.ready"
	ip netns exec "$NS" python3 -c "
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', $1)); l.listen(1); l.settimeout($3)
open('$TMP/col.ready', 'w').close()
c, _ = l.accept(); f = open('$2', 'wb')
while True:
    d = c.recv(65536)
    if not d: break
    f.write(d)" &
	COL=$!; PIDS+=($COL)
	wait_until 15 test -e "$TMP/col.ready"
}

# --connect: the forwarder dials a collector, delivers the window and exits.
collector 6000 "$TMP/pushed.pcapng" 15
timeout 15 ip netns exec "$NS" "$FWD" --ring "$RING" --connect 127.0.0.1:6000 --plain \
	--from "$T1" --to "$T2" 2>"$TMP/push.err" || fail "--connect did not deliver and exit"
wait "$COL" || fail "collector failed"
same_packets "$A" "$TMP/pushed.pcapng" || fail "--connect: packets differ"
echo "connect: pushed the window to a collector and exited"

# --pace realtime: [T1, T3] (both bursts, about a second apart) replayed no
# faster than it was captured (a lower bound the pacing guarantees; no upper
# bound is asserted).
collector 6001 "$TMP/paced.pcapng" 30
t0=$(date +%s.%N)
timeout 30 ip netns exec "$NS" "$FWD" --ring "$RING" --connect 127.0.0.1:6001 --plain \
	--from "$T1" --to "$T3" --pace realtime 2>"$TMP/paced.err" || fail "--pace: did not deliver and exit"
t1=$(date +%s.%N)
wait "$COL" || fail "paced collector failed"
same_packets "$TMP/live.pcapng" "$TMP/paced.pcapng" || fail "--pace: packets differ"
span=$(tshark -r "$TMP/paced.pcapng" -T fields -e frame.time_epoch 2>/dev/null | sed -n '1p;$p' |
	awk 'NR == 1 {a = $1} END {print $1 - a}')
awk -v e="$(echo "$t1 - $t0" | bc -l)" -v s="$span" 'BEGIN {exit !(s >= 0.5 && e >= 0.9 * s)}' ||
	fail "--pace realtime: a window of ${span}s replayed in $(echo "$t1 - $t0" | bc -l)s"
echo "pace: the window of ${span}s took at least that long, packets identical"

# A snapshot of the window, forwarded long after (needs rawcap-snapshot).
SNAP=$B/readers/rawcap-snapshot
if [ -x "$SNAP" ] && "$SNAP" --help 2>&1 | grep -q -- "--from"; then
	nsx "$SNAP" create --ring "$RING" --dest "$TMP/snaps" --from "$T1" --to "$T2" --name w1 \
		>"$TMP/snap.err" 2>&1 || fail "rawcap-snapshot create failed"
	fwd_start snapfwd --plain --listen 127.0.0.1:5558 --snapshot "$TMP/snaps/w1"
	timeout 60 ip netns exec "$NS" tshark -i TCP@127.0.0.1:5558 -w "$TMP/snap.pcapng" >"$TMP/tshark4.err" 2>&1 ||
		fail "tshark on the snapshot replay did not end by itself in 60 s: $(tail -3 "$TMP/tshark4.err")"
	same_packets "$A" "$TMP/snap.pcapng" || fail "snapshot: packets differ"
	echo "snapshot: replay identical"
else
	echo "note: rawcap-snapshot not built; snapshot replay not exercised"
fi
echo "PASS"
