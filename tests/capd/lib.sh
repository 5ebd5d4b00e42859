# SPDX-License-Identifier: MIT
# lib.sh - shared setup for capd's script tests, over tests/lib.sh: a private
# network namespace, a private shm directory, capd started and stopped,
# figures parsed. Sourced by tests/capd/*.sh and other areas' capd tests;
# every test cleans up what it made on exit (namespaces in RC_NETNS).

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
VERIFY=$B/tests/capd-verify
TRAFFIC=$B/tests/capd-traffic

rc_need_root
rc_need ip

TNAME=${TNAME:-capd}
NS=rc-$TNAME-$$
rc_tmp "$TNAME"
RING=t$$
cleanup() { rc_cleanup; } # for tests that chain their own exit steps before it

nsx() { ip netns exec "$NS" "$@"; }

rc_netns_add "$NS"

# start_capd LOG ARGS...: start capd in the namespace, wait until it captures.
start_capd() {
	local log=$1
	shift
	capd_start "$NS" "$log" --ring "$RING" --ring-size 256Mi "$@"
}

# stop_capd LOG: SIGTERM, wait (bounded), check the exit status is 0.
stop_capd() { capd_stop "$1"; }

# kv KEY TEXT: the value of KEY=... in a line of key=value figures.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -1; }

# start_verify OUT ARGS...: a librawcap reader following the ring until $TMP/done exists.
start_verify() {
	local out=$1
	shift
	"$VERIFY" --ring "$RING" --until-file "$TMP/done" --ready-file "$TMP/vready" "$@" \
		>"$out" 2>"$out.err" &
	VERIFY_PID=$!
	PIDS+=("$VERIFY_PID")
	wait_until 10 test -e "$TMP/vready"
}

finish_verify() {
	touch "$TMP/done"
	wait "$VERIFY_PID" || fail "reader failed: $(cat "$1.err")"
}
