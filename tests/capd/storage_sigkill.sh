#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# storage_sigkill.sh - the disk FIFO through the real capd: SIGKILL capd while
# it captures a UDP flood with --storage, restart it: every record that reached
# the ring before the kill is on disk, intact and in order, the sequence
# continues, and the segments stay readable to the ring's group only.
set -euo pipefail
TNAME=stkill
. "$(dirname "$0")/lib.sh"
DR=$RAWCAP_BUILD/tests/diskread
FIFO=$TMP/fifo

start_capd "$TMP/capd1.log" --interfaces lo --storage "$FIFO" --storage-size 256Mi \
	--ring-size 64Mi --sync-interval 0s
nsx "$TRAFFIC" udp 127.0.0.1 9999 400000 0 >/dev/null 2>&1 &
TPID=$!
PIDS+=("$TPID")
# Kill in the middle of the flood, once enough is in the ring (bounded: 10 s).
for _ in $(seq 100); do
	st=$("$RAWCAP_BUILD/readers/rawcap-stat" --ring "$RING" --json --interval 0)
	n=$(sed -n 's/.*"next_seq":\([0-9]*\).*/\1/p' <<<"$st")
	[ "${n:-0}" -ge 50000 ] && break
	sleep 0.1
done
kill -KILL "$CAPD_PID"
wait "$CAPD_PID" 2>/dev/null || true
pkill -KILL -P "$TPID" 2>/dev/null || true # the sender, not just its subshell
kill -KILL "$TPID" 2>/dev/null || true
st=$("$RAWCAP_BUILD/readers/rawcap-stat" --ring "$RING" --json --interval 0)
N=$(sed -n 's/.*"next_seq":\([0-9]*\).*/\1/p' <<<"$st")
echo "ring after the kill: next_seq=$N"
[ "$N" -ge 50000 ] || fail "too little captured before the kill ($N)"

start_capd "$TMP/capd2.log" --interfaces lo --storage "$FIFO" --storage-size 256Mi \
	--ring-size 64Mi --sync-interval 0s
grep -q "continuing after generation" "$TMP/capd2.log" || fail "restart did not continue the old ring"
nsx "$TRAFFIC" udp 127.0.0.1 9999 1000 0 >/dev/null
sleep 0.5
stop_capd "$TMP/capd2.log"
final=$(kv next_seq "$(grep 'capd: final:' "$TMP/capd2.log")")

rd=$("$DR" --storage "$FIFO" --no-ring)
echo "disk: $rd (capd final next_seq=$final)"
[ "$(kv first "$rd")" -eq 0 ] || fail "the oldest record is missing from disk"
[ "$(kv last "$rd")" -eq $((final - 1)) ] || fail "the newest record is missing from disk"
[ "$(kv records "$rd")" -eq "$final" ] || fail "records missing on disk"
[ "$(kv lost "$rd")" -eq 0 ] || fail "sequence gaps on disk"
[ "$(kv corrupt "$rd")" -eq 0 ] || fail "damaged blocks on disk"
[ "$final" -gt "$N" ] || fail "the sequence did not continue past $N"

# Segments: the ring's group may read them, nobody else (capd drops to its default
# identity here, uid and gid 64720).
perm=$(stat -c '%a %u' "$FIFO"/seg-*.rcs | sort -u)
echo "segments: $perm"
[ "$perm" = "640 64720" ] || fail "segments should be 0640 and owned by capd's user"
echo "PASS: $N records reached the ring before SIGKILL; all $final on disk after the restart"
