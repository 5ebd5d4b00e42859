#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# storage_faults.sh - the disk FIFO failing under a running capd: the disk
# fills up, the storage directory turns read-only mid-run, a segment is
# deleted under capd's feet. Each time: a clear error in the log, capture
# into the ring goes on (a reader gets every datagram), nothing crashes,
# capd exits cleanly on SIGTERM, and what is on disk stays readable.
set -euo pipefail
TNAME=fstore
. "$(dirname "$0")/../capd/lib.sh"
. "$(dirname "$0")/lib.sh"
DR=$RAWCAP_BUILD/tests/diskread
MNT=()
umount_all() { local m; for m in "${MNT[@]}"; do umount "$m" 2>/dev/null || true; done; }
trap 'umount_all; cleanup' EXIT
tmpfs() { # DIR SIZE
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0755" "rc-fstore-$$" "$1" || { echo "SKIP: cannot mount tmpfs"; exit 77; }
	MNT+=("$1")
}

# run_phase NAME FIRST: a reader, 20000 datagrams from index FIRST, all delivered.
send_and_check() {
	local out=$1 first=$2 n=20000 r
	start_freader "$out" --mark "$first"
	nsx "$TRAFFIC" udp 127.0.0.1 9999 $n "$first" >/dev/null
	sleep 1
	kill -0 "$CAPD_PID" 2>/dev/null || fail "capd died: $(tail -5 "$TMP"/capd-*.log)"
	finish_freader "$out"
	r=$(cat "$out")
	rm -f "$TMP/done"
	[ "$(kv udp_marked "$r")" -eq $n ] || fail "capture did not go on: $(kv udp_marked "$r") of $n ($r)"
	[ "$(kv udp_bad "$r")" -eq 0 ] || fail "damaged records: $r"
}

# 1. Disk full: another file leaves 1 MiB of a 300 MiB tmpfs, no room for any
# segment (capd warns at start and starts). A 4 MiB ring wraps while the disk
# is unusable, so the records that never reach the disk are counted as loss
# (persist_lapped/disk_error); capture itself goes on.
tmpfs "$TMP/full" 300m
head -c 299M /dev/zero >"$TMP/full/other"
start_capd "$TMP/capd-full.log" --interfaces lo --duplicates ingress --ring-size 4Mi \
	--storage "$TMP/full/fifo" --storage-size 256Mi
nsx "$TRAFFIC" udp 127.0.0.1 9999 20000 0 >/dev/null
sleep 1
st=$("$STAT" --ring "$RING" --json --interval 0)
kill -0 "$CAPD_PID" 2>/dev/null || fail "capd died with a full disk"
stop_capd "$TMP/capd-full.log"
grep -iE "no space" "$TMP/capd-full.log" | head -3
grep -qiE "no space left" "$TMP/capd-full.log" || fail "disk full: no clear error in the log"
grep -q "warning: --storage-size" "$TMP/capd-full.log" || fail "disk full: not said at start"
[ "$(grep -c "creating a segment" "$TMP/capd-full.log")" -eq 1 ] || fail "disk full: error not logged once"
pk=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' <<<"$st")
derr=$(sed -n 's/.*"disk_error":\([0-9]*\).*/\1/p' <<<"$st")
plap=$(sed -n 's/.*"persist_lapped":\([0-9]*\).*/\1/p' <<<"$st")
[ "${pk:-0}" -eq 20000 ] || fail "disk full: capture did not go on ($pk of 20000 packets)"
[ $((${derr:-0} + ${plap:-0})) -gt 0 ] || fail "disk full: records lost to disk not counted ($st)"
echo "disk full: all 20000 captured; never persisted, counted in the ring's loss:" \
	"disk_error=$derr persist_lapped=$plap"

# 2. The storage turns read-only mid-run, then writable again: capd resumes
# persisting by itself, up to the newest record. A remount
# read-only is refused while capd has segments open for writing (EBUSY), so
# the directory and its segments lose their write permission: capd, without
# capabilities, can then neither create, reopen nor rename a segment.
tmpfs "$TMP/ro" 64m
start_capd "$TMP/capd-ro.log" --interfaces lo --duplicates ingress --ring-size 32Mi \
	--storage "$TMP/ro/fifo" --storage-size 32Mi --sync-interval 0s
send_and_check "$TMP/r2.out" 100000
chmod a-w "$TMP/ro/fifo" "$TMP/ro/fifo"/*
send_and_check "$TMP/r3.out" 200000
send_and_check "$TMP/r3b.out" 250000
chmod u+w "$TMP/ro/fifo" "$TMP/ro/fifo"/*
send_and_check "$TMP/r4.out" 300000
# Writable again: after its backoff (at most a few seconds here) capd persists again.
for _ in $(seq 150); do grep -q "works again" "$TMP/capd-ro.log" && break; sleep 0.1; done
grep "works again" "$TMP/capd-ro.log" || fail "storage writable again, but capd did not resume"
n=$(ring_next_seq)
for _ in $(seq 100); do
	rd=$("$DR" --storage "$TMP/ro/fifo" --no-ring) || true
	[ "$(kv last "$rd")" -ge $((n - 1)) ] && break
	sleep 0.1
done
[ "$(kv last "$rd")" -ge $((n - 1)) ] || fail "resumed, but the disk ends at $(kv last "$rd") < $((n - 1))"
stop_capd "$TMP/capd-ro.log"
grep -iE "read-only|permission denied" "$TMP/capd-ro.log" | head -3
grep -qiE "read-only|permission denied" "$TMP/capd-ro.log" ||
	fail "read-only storage: no clear error in the log"
rd=$("$DR" --storage "$TMP/ro/fifo" --no-ring) || true
echo "read-only: capture went on, persisting resumed; disk afterwards: $rd"
[ "$(kv corrupt "$rd")" = 0 ] || fail "read-only storage: damaged blocks on disk"

# 3. A segment deleted under capd's feet.
tmpfs "$TMP/del" 64m
start_capd "$TMP/capd-del.log" --interfaces lo --duplicates ingress --ring-size 32Mi \
	--storage "$TMP/del/fifo" --storage-size 32Mi --sync-interval 0s
send_and_check "$TMP/r5.out" 400000
victim=$(ls "$TMP/del/fifo"/seg-*.rcs | head -1)
rm -f "$victim"
send_and_check "$TMP/r6.out" 500000
send_and_check "$TMP/r7.out" 600000
stop_capd "$TMP/capd-del.log"
rc=0
rd=$("$DR" --storage "$TMP/del/fifo" --no-ring) || rc=$?
echo "deleted $(basename "$victim"): capture went on; disk afterwards (exit $rc): $rd"
[ "$rc" -le 1 ] || fail "reading storage with a deleted segment crashed (exit $rc)"
[ "$(kv records "$rd")" -gt 0 ] || fail "nothing readable after the deletion"
[ "$(kv corrupt "$rd")" = 0 ] || fail "deleted segment: damaged blocks reported"
echo "PASS: disk full, read-only storage and a deleted segment: logged, capture went on"
