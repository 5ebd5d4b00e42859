#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shutdown.sh - rawcap-server's SIGTERM and SIGINT with snapshot jobs running
# (windows that end in 2099): each job is cancelled, its staging directory
# removed, the server says so and exits 0 at once; a snapshot completed
# before the signal stays. Before, the jobs ran on through the 5 s drain,
# then the process exited under them: their .tmp-NAME-PID stayed (counted
# against the quota until a later create reaped it) and nothing said why.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
start_capd

post() { # BODY: POST /v1/snapshots, the status code out
	nsx curl -s -o "$T/post.json" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data-binary "$1" "$URL/v1/snapshots"
}

for sig in TERM INT; do
	start_server
	[ "$(post '{"name": "done-'$sig'", "last": "1m"}')" = 202 ] || fail "POST: $(cat "$T/post.json")"
	for _ in $(seq 300); do
		[ -e "$T/snaps/done-$sig" ] && break
		sleep 0.1
	done
	[ -e "$T/snaps/done-$sig" ] || fail "done-$sig was not made: $(cat "$T/server.err")"
	for n in 1 2; do
		[ "$(post '{"name": "f'$n'", "from": "now", "to": "2099-01-01T00:00:00Z"}')" = 202 ] ||
			fail "POST f$n: $(cat "$T/post.json")"
	done
	for _ in $(seq 100); do
		[ "$(ls -a "$T/snaps" | grep -c '^\.tmp-f')" = 2 ] && break
		sleep 0.05
	done
	[ "$(ls -a "$T/snaps" | grep -c '^\.tmp-f')" = 2 ] || fail "no staging: $(ls -a "$T/snaps")"
	: >"$T/server.err"
	kill -"$sig" "$SERVER_PID"; t0=$(date +%s.%N)
	set +e
	wait "$SERVER_PID"
	rc=$?
	set -e
	echo "exit after $(echo "$(date +%s.%N) - $t0" | bc) s; left: $(ls -a "$T/snaps" | tr "\n" " ")"
	[ "$rc" = 0 ] || fail "rawcap-server exited $rc on SIG$sig: $(cat "$T/server.err")"
	grep -q 'stopped: 2 snapshot jobs cancelled' "$T/server.err" ||
		fail "SIG$sig: no line saying the jobs were cancelled: $(cat "$T/server.err")"
	! ls -a "$T/snaps" | grep -q '^\.tmp-' || fail "SIG$sig left staging: $(ls -a "$T/snaps")"
	[ -f "$T/snaps/done-$sig/manifest.json" ] || fail "SIG$sig took a completed snapshot"
	echo "SIG$sig: $(grep stopped "$T/server.err")"
done
echo "PASS: SIGTERM and SIGINT cancel running snapshot jobs, remove their staging, exit 0"
