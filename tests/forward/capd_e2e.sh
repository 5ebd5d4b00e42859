#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capd_e2e.sh - rawcap-forward fed by the real capd: capd captures the test
# namespace's loopback (UDP port 9 only, so the forwarded TCP stream on the
# same lo is not captured back), tshark's TCP@ interface receives exactly
# the datagrams an independent tcpdump saw; a replayed past window and a
# snapshot of it deliver the same packets.
set -euo pipefail
NAME=capde2e
. "$(dirname "$0")/lib.sh"
SNAP=$B/readers/rawcap-snapshot
RAWCAP_FWD_SOURCE=capd # src_send: only record with tcpdump, capd captures by itself

capd_start "$NS" "$TMP/capd.err" --ring "$RING" --ring-size 16Mi --interfaces lo --filter 'udp port 9'

fwd_start fwd --plain --listen 127.0.0.1:5555 --format pcapng
ip netns exec "$NS" tshark -i TCP@127.0.0.1:5555 -w "$TMP/live.pcapng" >"$TMP/tshark.err" 2>&1 &
TS=$!
PIDS+=($TS)
wait_until 10 log_has "$TMP/fwd.err" "connected"
sleep 0.5
T1=$(date +%s.%N)
src_send 400 300 # gen: tcpdump records exactly the 400 datagrams capd also sees
A=$LAST_SENT
sleep 1
T2=$(date +%s.%N)
for _ in $(seq 50); do [ "$(pkts "$TMP/live.pcapng" || echo 0)" -ge 400 ] 2>/dev/null && break; sleep 0.1; done
kill "$FWD_PID"
wait "$FWD_PID" || true
wait_until 10 bash -c "! kill -0 $TS 2>/dev/null"
n=$(pkts "$TMP/live.pcapng")
[ "$n" = 400 ] || fail "live: tshark got $n packets, tcpdump saw 400"
same_packets "$A" "$TMP/live.pcapng" || fail "live: packet bytes differ from tcpdump's"
echo "live: tshark received the 400 datagrams byte for byte"

fwd_start replay --plain --listen 127.0.0.1:5556 --from "$T1" --to "$T2"
timeout 60 ip netns exec "$NS" tshark -i TCP@127.0.0.1:5556 -w "$TMP/window.pcapng" >"$TMP/tshark2.err" 2>&1 ||
	fail "tshark on the replay did not end by itself in 60 s: $(tail -3 "$TMP/tshark2.err")"
n=$(pkts "$TMP/window.pcapng")
[ "$n" = 400 ] || fail "window: tshark got $n packets, the window holds 400"
same_packets "$A" "$TMP/window.pcapng" || fail "window: packet bytes differ"
echo "window: replay of [T1, T2] delivered the same 400 packets"

"$SNAP" create --ring "$RING" --dest "$TMP/snaps" --from "$T1" --to "$T2" --name w1 \
	>"$TMP/snap.err" 2>&1 || fail "rawcap-snapshot create failed"
fwd_start snapfwd --plain --listen 127.0.0.1:5558 --snapshot "$TMP/snaps/w1"
timeout 60 ip netns exec "$NS" tshark -i TCP@127.0.0.1:5558 -w "$TMP/snap.pcapng" >"$TMP/tshark4.err" 2>&1 ||
	fail "tshark on the snapshot replay did not end by itself in 60 s: $(tail -3 "$TMP/tshark4.err")"
n=$(pkts "$TMP/snap.pcapng")
[ "$n" = 400 ] || fail "snapshot: tshark got $n packets, the snapshot holds 400"
same_packets "$A" "$TMP/snap.pcapng" || fail "snapshot: packets differ"
echo "snapshot: replay identical"
capd_stop "$TMP/capd.err"
echo "PASS"
