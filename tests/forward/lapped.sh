#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lapped.sh - two receivers at once: one stopped with SIGSTOP is lapped and
# told so in its stream (pcapng drop count + comment) and in the stats,
# while the other receives every packet, byte for byte.
set -euo pipefail
NAME=lap
. "$(dirname "$0")/lib.sh"

# Small socket buffers, so a stalled receiver backs up into our queue quickly.
nsx sysctl -q -w net.ipv4.tcp_rmem="4096 65536 131072" net.ipv4.tcp_wmem="4096 65536 131072"
src_start 1048576 # a 1 MiB ring: easily lapped
fwd_start fwd --plain --listen 127.0.0.1:5555 --client-buffer 600Ki
ip netns exec "$NS" dumpcap -q -i TCP@127.0.0.1:5555 -w "$TMP/a.pcapng" 2>"$TMP/dumpcap-a.err" &
DA=$!; PIDS+=($DA)
wait_until 10 log_has "$TMP/fwd.err" "connected" 1
ip netns exec "$NS" dumpcap -q -i TCP@127.0.0.1:5555 -w "$TMP/b.pcapng" 2>"$TMP/dumpcap-b.err" &
DB=$!; PIDS+=($DB)
wait_until 10 log_has "$TMP/fwd.err" "connected" 2
sleep 0.5
kill -STOP "$DB"

# 16 x 500 packets of 1000 bytes (8 MB) through a 1 MiB ring, in steps A keeps up with.
SENT=1; LAST_SENT=$TMP/sent-1.pcap
gen 500 1000 "$LAST_SENT"
BULK=$LAST_SENT
for ((i = 0; i < 16; i++)); do feed "$BULK"; sleep 0.05; done
sleep 1
kill -CONT "$DB"
sleep 1
src_send 20 200 # after the gap: carries B's loss report
TAIL=$LAST_SENT
sleep 1
kill "$FWD_PID"; wait "$FWD_PID" || true
wait_until 10 bash -c "! kill -0 $DA 2>/dev/null && ! kill -0 $DB 2>/dev/null"

na=$(pkts "$TMP/a.pcapng"); nb=$(pkts "$TMP/b.pcapng")
echo "A received $na packets, B (stopped) received $nb of 8020"
[ "$na" = 8020 ] || fail "A got $na packets, 8020 were sent: the stalled receiver slowed it"
{ for ((i = 0; i < 16; i++)); do dump "$BULK"; done; dump "$TAIL"; } | md5sum >"$TMP/exp"
[ "$(cat "$TMP/exp")" = "$(dump "$TMP/a.pcapng" | md5sum)" ] || fail "A: packet bytes differ"
[ "$nb" -lt 8020 ] || fail "B was not lapped (ring too large for the test?)"
drops=$(tshark -r "$TMP/b.pcapng" -T fields -e frame.drop_count -Y frame.drop_count 2>/dev/null | awk '{s += $1} END {print s + 0}')
comments=$(tshark -r "$TMP/b.pcapng" -T fields -e frame.comment -Y frame.comment 2>/dev/null | grep -c "records lost: " || true)
echo "B's stream reports $drops dropped records in $comments comments"
[ "$drops" -gt 0 ] && [ "$comments" -gt 0 ] || fail "B's stream does not report its gap"
lost=$(grep -o "127.0.0.1:[0-9]*: stopping: [0-9]* packets, [0-9]* bytes sent, [0-9]* records lost" "$TMP/fwd.err" |
	awk '{print $(NF-2)}' | sort -n | tail -1)
[ "$lost" = "$drops" ] || fail "stats say $lost records lost, the stream says $drops"
# Every record B missed is accounted: received + reported lost = sent exactly.
[ $((nb + drops)) = 8020 ] || fail "B: $nb received + $drops reported != 8020 sent"
echo "PASS"
