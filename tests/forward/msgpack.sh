#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# msgpack.sh - the msgpack stream: a receiver killed mid-stream reconnects
# and resumes from its last acknowledged position with no loss and no
# duplicates beyond its unacknowledged tail; when the acknowledged position
# was recycled meanwhile, the gap is reported exactly.
set -euo pipefail
NAME=mp
. "$(dirname "$0")/lib.sh"
[ -x "$SINK" ] || { echo "SKIP: msgpack_sink not built"; exit 77; }

src_start 1048576
fwd_start fwd --plain --listen 127.0.0.1:5555 --format msgpack
ip netns exec "$NS" "$SINK" --stream s1 --ack-every 100 --die-after 1250 --idle-exit 20000 127.0.0.1:5555 >"$TMP/s1.out" 2>"$TMP/s1.err" &
S1=$!; PIDS+=($S1)
wait_until 10 log_has "$TMP/s1.out" "^H "
SENT=1; LAST_SENT=$TMP/sent-1.pcap
gen 1000 200 "$LAST_SENT"
feed "$LAST_SENT"; sleep 0.2; feed "$LAST_SENT" # 2000 packets, ~0.5 MB: all held by the ring
wait $S1 && fail "session 1 was meant to be killed" || true
acked=$(awk '$1 == "A" {a = $2} END {print a}' "$TMP/s1.out")
last1=$(awk '$1 == "P" {p = $2} END {print p}' "$TMP/s1.out")
[ "$(count_in "$TMP/s1.out" "^P ")" = 1250 ] || fail "session 1 did not die after 1250 packets"
echo "session 1: killed after seq $last1, acknowledged up to $acked"

ip netns exec "$NS" "$SINK" --stream s1 --idle-exit 1500 127.0.0.1:5555 >"$TMP/s2.out" 2>"$TMP/s2.err" ||
	fail "session 2 failed"
start=$(awk '$1 == "H" {print $2; exit}' "$TMP/s2.out")
# The forwarder remembers the last ACK it read; ACKs still in flight when the
# killed receiver's socket was reset are lost, which only moves it back.
[ "$start" -le $((acked + 1)) ] && [ "$start" -gt 1000 ] ||
	fail "session 2 resumed at $start, receiver had acknowledged $acked"
acked=$((start - 1))
! grep -q "^G " "$TMP/s2.out" || fail "session 2 reports a gap: $(grep '^G ' "$TMP/s2.out")"
# Union of both sessions: every packet exactly once, except the unacknowledged tail twice.
awk '$1 == "P" {print $2}' "$TMP/s1.out" "$TMP/s2.out" | sort -n >"$TMP/all"
total=$(sort -nu "$TMP/all" | wc -l)
dups=$(uniq -d "$TMP/all" | wc -l)
first=$(head -1 "$TMP/all"); lastp=$(tail -1 "$TMP/all")
[ "$total" = 2000 ] || fail "union holds $total distinct packets, 2000 were sent"
[ $((lastp - first + 1)) = 2000 ] || fail "sequence numbers are not contiguous"
[ "$dups" = $((last1 - acked)) ] || fail "$dups duplicates, the unacknowledged tail was $((last1 - acked))"
uniq -d "$TMP/all" | awk -v a="$acked" -v l="$last1" '$1 <= a || $1 > l {exit 1}' ||
	fail "a duplicate lies outside the unacknowledged tail"
echo "resume: 2000 packets, no loss, $dups duplicates = the unacknowledged tail ($acked, $last1]"

# Recycled: the receiver is away while 8 MB pass through the 1 MiB ring.
ip netns exec "$NS" "$SINK" --stream s2 --ack-every 10 --die-after 50 --idle-exit 20000 127.0.0.1:5555 >"$TMP/s3.out" 2>"$TMP/s3.err" &
S3=$!; PIDS+=($S3)
wait_until 10 log_has "$TMP/s3.out" "^H "
SENT=2; LAST_SENT=$TMP/sent-2.pcap
gen 500 1000 "$LAST_SENT"
feed "$LAST_SENT"
wait $S3 || true
sacked=$(awk '$1 == "A" {a = $2} END {print a}' "$TMP/s3.out")
for ((i = 0; i < 16; i++)); do feed "$LAST_SENT"; sleep 0.02; done
sleep 0.5
ip netns exec "$NS" "$SINK" --stream s2 --idle-exit 1500 127.0.0.1:5555 >"$TMP/s4.out" 2>"$TMP/s4.err" ||
	fail "session 4 failed"
read -r _ gfirst gcount greason < <(grep "^G " "$TMP/s4.out" | head -1) || fail "no gap reported after recycling"
nextp=$(awk '$1 == "P" {print $2; exit}' "$TMP/s4.out")
start=$(awk '$1 == "H" {print $2; exit}' "$TMP/s4.out")
[ "$start" -le $((sacked + 1)) ] || fail "session 4 resumed at $start, after the acknowledged $sacked"
[ "$gfirst" = "$start" ] || fail "gap starts at $gfirst, the stream resumed at $start"
[ "$greason" = 2 ] || fail "gap reason $greason, expected 2 (recycled)"
[ $((gfirst + gcount)) = "$nextp" ] || fail "gap [$gfirst, +$gcount) does not end at the next packet $nextp"
echo "recycled: gap of $gcount records from $gfirst reported exactly, stream continues at $nextp"
echo "PASS"
