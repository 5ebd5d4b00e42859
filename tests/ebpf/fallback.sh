#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fallback.sh - the failure paths capd relies on to fall back to AF_PACKET
# return an error and a clear reason: forced failure (RAWCAP_EBPF_FORCE_FAIL),
# and a filter outside the eBPF subset.
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init ebfb 41

set +e
RAWCAP_EBPF_FORCE_FAIL=1 "$BIN/ebpf_capture_driver" -r "$RING" >"$TMP/out" 2>"$TMP/err"; rc=$?
set -e
[ $rc = 3 ] || fail "forced capture failure: exit $rc, want 3"
grep -q "forced failure" "$TMP/err" || fail "no reason given: $(cat "$TMP/err")"
[ ! -e "/dev/shm/rawcap-$RING" ] || fail "ring created despite failure"
echo "capture: $(cat "$TMP/err")"

set +e
RAWCAP_EBPF_FORCE_FAIL=proc "$BIN/proc_ctx_driver" -r "$RING" -t 1 >"$TMP/out" 2>"$TMP/err"; rc=$?
set -e
[ $rc = 3 ] || fail "forced proc_ctx failure: exit $rc, want 3"
grep -q "forced failure" "$TMP/err" || fail "no reason given: $(cat "$TMP/err")"
echo "proc_ctx: $(cat "$TMP/err")"

set +e
"$BIN/ebpf_capture_driver" -r "$RING" -f "tcp or udp" >"$TMP/out" 2>"$TMP/err"; rc=$?
set -e
[ $rc = 3 ] || fail "unsupported filter: exit $rc, want 3"
grep -q '"or" is not supported' "$TMP/err" || fail "unclear filter message: $(cat "$TMP/err")"
echo "filter: $(cat "$TMP/err")"

# The real thing still opens when nothing is forced (so the failures above are the forcing).
RAWCAP_EBPF_FORCE_FAIL=proc "$BIN/ebpf_capture_driver" -r "$RING" -t 0.1 -S "$TMP/state" >"$TMP/out" 2>"$TMP/err" ||
	fail "capture does not open unforced: $(cat "$TMP/err")"
echo "PASS: forced and unsupported-filter failures give clear reasons"
