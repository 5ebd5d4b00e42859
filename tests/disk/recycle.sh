#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# recycle.sh - write 3x the storage size through the disk FIFO: the oldest
# segments are recycled, disk usage never exceeds the configured size, the
# retention stays within one segment of it, and what is kept reads back intact.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/rc-recycle-XXXXXX)
RING="rc-recycle-$$"
WPID=
cleanup() {
	if [ -n "$WPID" ]; then kill "$WPID" 2>/dev/null || true; wait "$WPID" 2>/dev/null || true; fi
	rm -rf "$T" "/dev/shm/rawcap-$RING" "/dev/shm/rawcap-$RING".new-*
}
trap cleanup EXIT

NSEG=8
SEG=$(seg_file_size 4)
SIZE=$((NSEG * SEG))
WRITE=$((3 * SIZE + SEG))

"$DW" --ring "$RING" --storage "$T/fifo" --storage-size "$SIZE" --segment-size "$SEG" \
	--ring-size 16Mi --rate 20000 --bytes "$WRITE" >"$T/out" 2>"$T/err" &
WPID=$!
# Bytes allocated to the segment files (the directory's own block and its
# lock file, capd.lock, are not storage).
# A segment recycled while find walks the directory makes find fail (pipefail,
# set -e: the script would end without a word); what it did list still counts.
seg_usage() {
	{ find "$1" -type f -name 'seg-*.rcs' -printf '%b\n' 2>/dev/null || true; } |
		awk '{ s += $1 * 512 } END { print s + 0 }'
}
max_used=0
for _ in $(seq 1 400); do # sample disk usage while writing (bounded: 20 s)
	kill -0 "$WPID" 2>/dev/null || break
	if [ -d "$T/fifo" ]; then
		used=$(seg_usage "$T/fifo")
		[ "$used" -gt "$max_used" ] && max_used=$used
	fi
	sleep 0.05
done
wait "$WPID" || fail "diskwriter failed: $(cat "$T/err")"
WPID=
out=$(cat "$T/out")
echo "writer: $out"
echo "max disk usage sampled: $max_used of $SIZE"
[ "$max_used" -le "$SIZE" ] || fail "disk usage $max_used exceeds $SIZE"
used=$(seg_usage "$T/fifo")
[ "$used" -le "$SIZE" ] || fail "final disk usage $used exceeds $SIZE"
nfiles=$(find "$T/fifo" -name 'seg-*.rcs' | wc -l)
[ "$nfiles" -eq "$NSEG" ] || fail "$nfiles segment files, want $NSEG"
[ "$(kv "$out" recycled)" -gt 0 ] || fail "nothing was recycled"
[ "$(kv "$out" lapped)" -eq 0 ] || fail "the persister fell behind at 20k records/s (a 16 MiB ring holds a second of them)"

rd=$("$DR" --storage "$T/fifo" --no-ring)
echo "reader: $rd"
[ "$(kv "$rd" first)" -gt 0 ] || fail "the oldest records were not recycled"
[ "$(kv "$rd" lost)" -eq 0 ] || fail "gaps inside the retained data"
[ "$(kv "$rd" bad)" -eq 0 ] || fail "damaged records delivered"
[ "$(kv "$rd" corrupt)" -eq 0 ] || fail "corrupt blocks in a clean run"
[ "$(kv "$rd" last)" -eq $(($(kv "$out" next_seq) - 1)) ] || fail "newest record missing"
# Retention: at least the configured size minus one segment, in record bytes
# (block headers and the unfilled tail of each block cost < 1%).
kept=$(kv "$rd" bytes)
want=$(((SIZE - SEG) * 98 / 100))
[ "$kept" -ge "$want" ] || fail "retained $kept bytes, want >= $want"
echo "PASS: retained $kept record bytes in $SIZE of storage, recycled $(kv "$out" recycled) times"
