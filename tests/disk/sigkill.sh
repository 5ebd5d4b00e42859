#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sigkill.sh - SIGKILL the writer (the capd stand-in) during heavy writing and
# restart it: every record below the newest one in the ring before the kill is
# on disk and intact, and the sequence continues. The shm ring outlives the
# process; the restart persists what the killed generation had not written.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/rc-sigkill-XXXXXX)
RING="rc-sigkill-$$"
WPID=
cleanup() {
	if [ -n "$WPID" ]; then kill -9 "$WPID" 2>/dev/null || true; wait "$WPID" 2>/dev/null || true; fi
	rm -rf "$T" "/dev/shm/rawcap-$RING" "/dev/shm/rawcap-$RING".new-*
}
trap cleanup EXIT

for round in 1 2; do
	"$DW" --ring "$RING" --storage "$T/fifo" --storage-size 1Gi --ring-size 128Mi \
		--rate 100000 --duration 60s --sync 0 >"$T/out$round" 2>"$T/err$round" &
	WPID=$!
	# Kill in the middle of heavy writing (~80 MB/s): once ~120-160k more records are in the ring
	# (bounded: 10 s, for slow sanitizer builds), at a different point each round.
	target=$(( $(cat "$T/base" 2>/dev/null || echo 0) + 80000 + round * 40000 ))
	for _ in $(seq 1 50); do
		sleep 0.2
		kill -0 "$WPID" || fail "writer died early: $(cat "$T/err$round")"
		n=$("$DR" --ring "$RING" --ring-info 2>/dev/null | sed -n 's/^next_seq=\([0-9]*\).*/\1/p' || true)
		[ -n "$n" ] && [ "$n" -ge "$target" ] && break
	done
	kill -9 "$WPID"
	wait "$WPID" 2>/dev/null || true
	WPID=
	info=$("$DR" --ring "$RING" --ring-info)
	echo "ring after kill $round: $info"
	N=$(kv "$info" next_seq)
	[ "$N" -gt 20000 ] || fail "too little written before the kill ($N)"
	echo $((N + 1000)) >"$T/base"
	[ "$(kv "$info" lapped_loss)" -eq 0 ] || fail "the persister fell behind before the kill"

	# Restart: recover the previous ring, continue, stop cleanly.
	out=$("$DW" --ring "$RING" --storage "$T/fifo" --storage-size 1Gi --ring-size 128Mi \
		--records 1000 2>"$T/err-restart$round")
	echo "restart $round: $out"
	[ "$(kv "$out" first_seq)" -eq "$N" ] || fail "sequence did not continue at $N"
	rd=$("$DR" --storage "$T/fifo" --no-ring)
	echo "disk: $rd"
	[ "$(kv "$rd" first)" -eq 0 ] || fail "oldest record missing"
	[ "$(kv "$rd" last)" -eq $((N + 999)) ] || fail "newest record missing"
	[ "$(kv "$rd" records)" -eq $((N + 1000)) ] || fail "records missing on disk"
	[ "$(kv "$rd" lost)" -eq 0 ] || fail "sequence gaps on disk"
	[ "$(kv "$rd" bad)" -eq 0 ] || fail "damaged records"
	[ "$(kv "$rd" backwards)" -eq 0 ] || fail "records out of order"
	grep -q "persisted .* records left by the previous ring" "$T/err-restart$round" ||
		fail "restart did not recover the previous ring"
done
echo "PASS: nothing that reached the ring was lost across two SIGKILLs"
