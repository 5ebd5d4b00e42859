#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture_cleanup.sh - the eBPF capture leaves nothing behind in tc: a clean
# exit (SIGTERM) removes its filters and the clsact qdisc it created; after a
# SIGKILL the next start removes the leftovers (and its own clean exit then
# removes the qdisc too); a clsact qdisc that someone else owns, with their
# filter, survives untouched.
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init ebclean 42
ebpf_netns_pair
STATE=$TMP/state

tcA() { ip netns exec "$NSA" tc "$@"; }
ours() { tcA filter show dev "$IFA" "$1" | grep -c 'handle 0x72637031' || true; }
# Never "cmd | grep -q": grep exits early, cmd gets SIGPIPE and pipefail calls it a failure.
has_clsact() { local q; q=$(tcA qdisc show dev "$IFA"); grep -q clsact <<<"$q"; }
has_foreign() { local f; f=$(tcA filter show dev "$IFA" ingress); grep -q u32 <<<"$f"; }

start() {
	: >"$TMP/drv.out"
	ip netns exec "$NSA" "$BIN/ebpf_capture_driver" -r "$RING" -i "$IFA" -S "$STATE" \
		>"$TMP/drv.out" 2>>"$TMP/drv.err" &
	DRV=$!; PIDS+=($DRV)
	wait_for "$TMP/drv.out" "^ready"
	[ "$(ours ingress)" = 1 ] && [ "$(ours egress)" = 1 ] ||
		fail "want exactly one rawcap filter per direction, have $(ours ingress)/$(ours egress)"
}
stop() {
	kill "-$1" $DRV
	wait $DRV 2>/dev/null || true
}
assert_clean() {
	[ "$(ours ingress)" = 0 ] && [ "$(ours egress)" = 0 ] || fail "$1: rawcap filters left behind"
	! has_clsact || fail "$1: clsact qdisc left behind"
	[ -z "$(ls -A "$STATE" 2>/dev/null)" ] || fail "$1: ownership marker left: $(ls "$STATE")"
}

! has_clsact || fail "fresh veth already has clsact"
start; stop TERM; assert_clean "after SIGTERM"

start; stop KILL
[ "$(ours ingress)" = 1 ] && has_clsact || fail "SIGKILL should leave filters (test cannot tell otherwise)"
start
grep -q "removed 2 tc filter(s) a previous capd left" "$TMP/drv.err" || fail "stale filters not reported"
stop TERM; assert_clean "after SIGKILL and restart"

# Someone else's clsact and filter must survive us.
tcA qdisc add dev "$IFA" clsact
tcA filter add dev "$IFA" ingress prio 7 u32 match u32 0 0
start; stop TERM
has_clsact || fail "removed a clsact qdisc we did not create"
has_foreign || fail "removed someone else's filter"
[ "$(ours ingress)" = 0 ] || fail "our filter left on a foreign qdisc"
start; stop KILL
start; stop TERM
has_clsact || fail "removed a foreign clsact after a restart"
has_foreign || fail "removed someone else's filter after restart"
echo "PASS: no tc filters or qdiscs left behind"
