#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# quota.sh - --quota holds across processes while snapshots are created and
# downloaded into one snapshot directory (the real CLI, several processes):
# - a download larger than its --quota fails before a byte is fetched, exit
#   1, naming the quota, and leaves nothing (not listed, nothing staged);
# - a create started while a download runs cannot take the room the download
#   claimed: refused (exit 1, "quota"), and the download completes, verified;
# - the reverse: a download started while a create runs (its window ends in
#   the future, so it waits) counts what the create holds (its first step,
#   more than the room the download leaves) and is refused, and the create
#   completes; once it
#   has, the same download fits and completes (the claim was given back);
# - a create killed with SIGKILL leaves a claim no one holds: it counts for
#   nothing, so the next download is not refused because of it;
# - two creates at once that both fit: both complete (a create claims its
#   room in steps as it writes, not all the quota leaves).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

server_start
mkpcap "$T/big.pcap" $((16 << 20)) 5
make_snapshot big "$T/big.pcap"
run up upload big --dest "$DEST" --to "$URL"
expect up 0 "files"
# What the quota counts of it: allocated blocks of its files.
size=$(find "$DEST/big" -type f -printf '%b\n' | awk '{s += $1 * 512} END {print s}')
[ "$size" -gt $((8 << 20)) ] || fail "snapshot big is only $size bytes"
quota=$((size + (3 << 20)))

# leftovers DIR: anything but sealed snapshots in DIR (staging, claims).
leftovers() { ls -A "$1" 2>/dev/null | grep '^\.' || true; }
listed() { "$SNAP" list --dest "$1" 2>/dev/null | cut -f1 | tr '\n' ' '; }

# wait_claim DIR WHO: until a writer's claim appears in DIR (30 s at most).
wait_claim() {
	for _ in $(seq 300); do ls "$1"/.claim-* >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "the $2 claimed nothing: $(ls -A "$1")"
}

# A ring and disk FIFO holding the packets of PCAP (ring RING-NAME, FIFO $T/fifo-NAME).
fill_ring() {
	"$PKTW" --size $((1 << 20)) --storage "$T/fifo-$1" --storage-size $((1 << 30)) \
		"$RING-$1" "$2" >"$T/pktwriter.out" 2>&1 || fail "pktwriter: $(cat "$T/pktwriter.out")"
}

# 1. A quota too small for the snapshot: refused at once, nothing left.
run small download big --dest "$T/q1" --from "$URL" --quota 1Mi
expect small 1 "quota"
grep -q "1048576" "$T/out/small.err" || fail "the refusal does not give the quota: $(cat "$T/out/small.err")"
[ -z "$(ls -A "$T/q1")" ] || fail "a refused download left $(ls -A "$T/q1")"
[ -z "$(listed "$T/q1")" ] || fail "a refused download is listed"
echo "download over --quota: exit 1, $(cat "$T/out/small.err")"

# 2. A create while a download holds its room: refused; the download completes.
mkpcap "$T/mid.pcap" $((6 << 20)) 6
fill_ring mid "$T/mid.pcap"
bg_run dl download big --dest "$T/q2" --from "$URL" --quota "$quota" --max-rate 2Mi
wait_claim "$T/q2" download
set +e
"$SNAP" create --ring "$RING-mid" --storage "$T/fifo-mid" --dest "$T/q2" --name mid \
	--from -24h --to now --quota "$quota" >"$T/out/create-mid.out" 2>&1
rc=$?
set -e
kill -0 "$BG" 2>/dev/null || fail "the download ended before the create was tried (too fast to test)"
[ "$rc" = 1 ] || fail "create during a download: exit $rc, want 1: $(cat "$T/out/create-mid.out")"
grep -q "quota" "$T/out/create-mid.out" || fail "create refusal: $(cat "$T/out/create-mid.out")"
bg_wait
expect dl 0 "verified"
[ "$(listed "$T/q2")" = "big " ] || fail "listed after the download: $(listed "$T/q2")"
[ -z "$(leftovers "$T/q2")" ] || fail "left in the snapshot directory: $(leftovers "$T/q2")"
"$SNAP" verify --dest "$T/q2" big | grep -q "big: OK" || fail "verify of the download"
echo "create during a download: $(tail -1 "$T/out/create-mid.out"); the download completed"

# 3. The reverse: a download while a create holds its room: refused; the create completes.
mkpcap "$T/small.pcap" $((1 << 20)) 8
fill_ring late "$T/small.pcap"
"$SNAP" create --ring "$RING-late" --storage "$T/fifo-late" --dest "$T/q3" --name late \
	--from -24h --to $(($(date +%s) + 8)) --quota "$quota" >"$T/out/create-late.out" 2>&1 &
cpid=$!
PIDS+=("$cpid")
wait_claim "$T/q3" create
run dl3 download big --dest "$T/q3" --from "$URL" --quota "$quota"
kill -0 "$cpid" 2>/dev/null || fail "the create ended before the download was tried (too fast to test)"
expect dl3 1 "quota"
grep -q "being created or downloaded" "$T/out/dl3.err" || fail "the refusal does not say why: $(cat "$T/out/dl3.err")"
set +e
wait "$cpid"
rc=$?
set -e
[ "$rc" = 0 ] || fail "create during a refused download: exit $rc: $(cat "$T/out/create-late.out")"
[ "$(listed "$T/q3")" = "late " ] || fail "listed: $(listed "$T/q3")"
[ -z "$(leftovers "$T/q3")" ] || fail "left in the snapshot directory: $(leftovers "$T/q3")"
run dl3b download big --dest "$T/q3" --from "$URL" --quota "$quota"
expect dl3b 0 "verified"
[ "$(listed "$T/q3")" = "big late " ] || fail "listed: $(listed "$T/q3")"
echo "download during a create: $(cat "$T/out/dl3.err"); the create completed, then the download fit"

# 4. A claim whose process died counts for nothing.
"$SNAP" create --ring "$RING-late" --storage "$T/fifo-late" --dest "$T/q4" --name dead \
	--from -24h --to $(($(date +%s) + 60)) --quota "$quota" >"$T/out/create-dead.out" 2>&1 &
cpid=$!
PIDS+=("$cpid")
wait_claim "$T/q4" create
kill -9 "$cpid"
wait "$cpid" 2>/dev/null || true
run dl4 download big --dest "$T/q4" --from "$URL" --quota "$quota"
expect dl4 0 "verified"
[ -z "$(ls "$T/q4"/.claim-* 2>/dev/null)" ] || fail "the dead claim was not reaped"
echo "a claim left by a killed create: ignored and removed"

# 5. Two creates at once, both fit: each claims only what it is about to
# write, so neither is refused because of the other; both complete.
to=$(($(date +%s) + 8))
for n in one two; do
	"$SNAP" create --ring "$RING-late" --storage "$T/fifo-late" --dest "$T/q5" --name "$n" \
		--from -24h --to "$to" --quota "$quota" >"$T/out/create-$n.out" 2>&1 &
	PIDS+=("$!")
	eval "pid_$n=$!"
done
for n in one two; do
	eval "p=\$pid_$n"
	set +e
	wait "$p"
	rc=$?
	set -e
	[ "$rc" = 0 ] || fail "create $n beside another: exit $rc: $(cat "$T/out/create-$n.out")"
done
[ "$(listed "$T/q5")" = "one two " ] || fail "listed after two creates: $(listed "$T/q5")"
[ -z "$(leftovers "$T/q5")" ] || fail "left in the snapshot directory: $(leftovers "$T/q5")"
echo "two creates at once under one quota: both completed"

rm -rf "$T"/fifo-* /dev/shm/rawcap-"$RING"*
no_secrets
echo "PASS: --quota holds across creates and downloads in different processes"
