#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stall.sh - a capture socket stalled for good (RAWCAP_AFP_FORCE_STALL=1: capd
# never takes a block, so no resync cures it) makes /healthz 503 at once, and
# /livez, the chart's liveness probe, 503 only past max(60 s, 20 x
# --stall-seconds): then a restart is the cure. Before that bound, and for a
# full disk (capd_badflags), /livez stays 200.
set -euo pipefail
TNAME=stall
. "$(dirname "$0")/lib.sh"
rc_need curl
URL=http://127.0.0.1:9481

code() { nsx curl -s -o "$TMP/$1.body" -w '%{http_code}' --max-time 5 "$URL/$1" || true; }

nsx ip link set lo up
RAWCAP_AFP_FORCE_STALL=1 start_capd "$TMP/capd.log" --ring-size 4Mi --interfaces lo \
	--filter "udp port 9999" --stall-seconds 1 --stats-listen 127.0.0.1:9481
t0=$SECONDS
nsx "$TRAFFIC" udp 127.0.0.1 9999 50 >/dev/null
wait_until 15 grep -q "socket 0 stalled" "$TMP/capd.log"
h=$(code healthz) l=$(code livez)
[ "$h" = 503 ] && [ "$l" = 200 ] ||
	fail "stalled $((SECONDS - t0)) s: /healthz $h, /livez $l '$(cat "$TMP/livez.body")'"
echo "ok: stalled $((SECONDS - t0)) s: /healthz 503 ($(cat "$TMP/healthz.body")), /livez 200"
for _ in $(seq 90); do
	l=$(code livez)
	[ "$l" = 503 ] && break
	sleep 1
done
[ "$l" = 503 ] || fail "/livez still $l after $((SECONDS - t0)) s of a stall"
grep -q "^capture socket 0 stalled for [0-9]* s (a restart is due after 60 s)" \
	"$TMP/livez.body" || fail "/livez said: $(cat "$TMP/livez.body")"
[ $((SECONDS - t0)) -ge 55 ] || fail "/livez failed after $((SECONDS - t0)) s, before the bound"
echo "ok: after $((SECONDS - t0)) s /livez 503: $(cat "$TMP/livez.body")"
kill -TERM "$CAPD_PID"
wait "$CAPD_PID" || fail "capd exited $? on SIGTERM: $(tail -3 "$TMP/capd.log")"
echo "PASS"
