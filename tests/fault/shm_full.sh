#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shm_full.sh - the ring directory (RAWCAP_SHM_DIR, /dev/shm in production)
# nearly full when capd starts: capd refuses with one clear error naming
# the ring, its size and "No space left on device", exits 1 (not a signal,
# no SIGBUS later: the ring is reserved with posix_fallocate), leaves no
# half-made ring behind; a ring that fits starts and captures.
set -euo pipefail
TNAME=fshm
. "$(dirname "$0")/../capd/lib.sh"
MNT=$TMP/tiny
trap 'umount "$MNT" 2>/dev/null || true; cleanup' EXIT
mkdir -p "$MNT"
mount -t tmpfs -o size=8m,mode=0755 "rc-fshm-$$" "$MNT" || { echo "SKIP: cannot mount tmpfs"; exit 77; }
export RAWCAP_SHM_DIR=$MNT
head -c 6M /dev/zero >"$MNT/filler"

rc=0
nsx "$CAPD" --ring "$RING" --ring-size 16Mi --interfaces lo 2>"$TMP/capd-full.log" || rc=$?
cat "$TMP/capd-full.log"
[ "$rc" = 1 ] || fail "capd exited $rc with a full shm directory, want 1"
grep -q "cannot create ring '$RING'.*No space left on device" "$TMP/capd-full.log" ||
	fail "no clear error about the full shm directory"
left=$(find "$MNT" -mindepth 1 ! -name filler)
[ -z "$left" ] || fail "half-made ring left behind: $left"

rm -f "$MNT/filler"
start_capd "$TMP/capd.log" --interfaces lo --ring-size 4Mi
start_verify "$TMP/verify.out" --port 9999 --count 100
nsx "$TRAFFIC" udp 127.0.0.1 9999 100 >/dev/null
sleep 0.5
stop_capd "$TMP/capd.log"
finish_verify "$TMP/verify.out"
[ "$(kv udp_ok "$(cat "$TMP/verify.out")")" = 100 ] || fail "no capture once the ring fits"
echo "PASS: a full shm directory is a clear start-up error, a ring that fits captures"
