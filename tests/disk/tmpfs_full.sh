#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tmpfs_full.sh - storage on a tiny tmpfs that fills up: capture (the ring)
# goes on, the error is logged once and counted as loss, nothing crashes and
# nothing spins. Then a tmpfs with room for two segments but not the
# configured size: the FIFO shrinks to what fits and keeps recycling.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/rc-tmpfs-XXXXXX)
RING="rc-tmpfs-$$"
mkdir -p "$T/small" "$T/mid"
cleanup() {
	umount "$T/small" 2>/dev/null || true
	umount "$T/mid" 2>/dev/null || true
	rm -rf "$T" "/dev/shm/rawcap-$RING" "/dev/shm/rawcap-$RING".new-*
}
trap cleanup EXIT
mount -t tmpfs -o size=1m "rc-tmpfs-$$" "$T/small" || { echo "SKIP: cannot mount tmpfs"; exit 77; }
mount -t tmpfs -o size=3m "rc-tmpfs-$$" "$T/mid"
SEG=$(seg_file_size 2)

# 1. Not even one segment fits.
out=$("$DW" --ring "$RING" --storage "$T/small/fifo" --storage-size 64Mi --segment-size "$SEG" \
	--ring-size 4Mi --rate 50000 --duration 3s 2>"$T/err1")
echo "full: $out"
[ "$(kv "$out" written)" -ge 100000 ] || fail "capture did not go on ($(kv "$out" written) records)"
[ "$(kv "$out" disk_error)" -gt 0 ] || fail "lost records not counted as disk errors"
info=$("$DR" --ring "$RING" --ring-info)
echo "ring: $info"
[ "$(kv "$info" disk_error_loss)" -gt 0 ] || fail "the ring's loss counter missed the disk errors"
logged=$(grep -c "creating a segment .* failed" "$T/err1" || true)
[ "$logged" -eq 1 ] || fail "the error was logged $logged times, want once"
cpu=$(kv "$out" cpu)
awk -v c="$cpu" 'BEGIN { exit !(c < 1.5) }' || fail "used $cpu s of CPU in 3 s: spinning"

# 2. Two segments fit, the configured size does not: recycle within what fits.
out=$("$DW" --ring "$RING" --storage "$T/mid/fifo" --storage-size 64Mi --segment-size "$SEG" \
	--ring-size 4Mi --rate 50000 --duration 2s 2>"$T/err2")
echo "shrunk: $out"
grep -q "recycling within" "$T/err2" || fail "no message about the smaller FIFO"
[ "$(kv "$out" recycled)" -gt 0 ] || fail "did not recycle within the space that fits"
rd=$("$DR" --storage "$T/mid/fifo" --no-ring)
echo "reader: $rd"
[ "$(kv "$rd" records)" -gt 0 ] && [ "$(kv "$rd" bad)" -eq 0 ] || fail "unreadable storage"
echo "PASS: a full disk costs records on disk only, counted and logged once"
