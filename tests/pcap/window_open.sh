#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# window_open.sh - opening a window on a disk FIFO reads it once: exporting
# an empty window (before anything held) lists each segment header once
# (the header of the oldest and the newest segment are read again when they
# are opened: at most 3 more) and reads the oldest block whole once, where
# the history's open, bounds and seek each listed and read it (57 pread()
# for 13 segments). strace counts the pread() calls of the export.
set -euo pipefail
. "$RAWCAP_SRC/tests/lib.sh"
rc_need strace
rc_tmp window-open

RING=winopen$$
trap 'rm -f /dev/shm/rawcap-$RING; rc_cleanup' EXIT
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$TMP/empty.pcap"
echo go | "$B/tests/pktwriter" --size $((4 << 20)) --storage "$TMP/fifo" --storage-size $((48 << 20)) \
	--fill $((32 << 20)) "$RING" "$TMP/empty.pcap" >/dev/null
nseg=$(find "$TMP/fifo" -name 'seg-*.rcs' | wc -l)
[ "$nseg" -ge 4 ] || fail "the FIFO has $nseg segments, want several"
sleep 2 # a listing is reused only once the directory has been still for a second

rc=0
strace -o "$TMP/trace" -e trace=pread64 "$B/readers/rawcap-pcap" --ring "$RING" --storage "$TMP/fifo" \
	--from 1000000000 --to 1000000001 -q -o "$TMP/out.pcapng" 2>"$TMP/err" || rc=$?
[ "$rc" = 0 ] || fail "the export exited $rc: $(cat "$TMP/err")"
grep -q "precedes the oldest record held" "$TMP/err" || fail "the export said: $(cat "$TMP/err")"
hdrs=$(grep -c 'pread64([0-9]*, .*, 128, 0) = 128' "$TMP/trace" || true)
blocks=$(grep -c 'pread64([0-9]*, .*, 524288, [0-9]*) = ' "$TMP/trace" || true)
all=$(grep -c '^pread64' "$TMP/trace" || true)
[ "$hdrs" -ge "$nseg" ] || fail "$hdrs segment header reads for $nseg segments: the listing missed some"
[ "$hdrs" -le $((nseg + 3)) ] || fail "$hdrs segment header reads for $nseg segments: listed more than once"
[ "$blocks" = 1 ] || fail "$blocks whole-block reads, want the oldest block once"
echo "ok: $nseg segments, $hdrs header reads, $blocks block read, $all pread() in all"
echo PASS
