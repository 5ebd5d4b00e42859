#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http.sh - capd's /metrics and /healthz (libmicrohttpd in capd's loop) stay
# up under what a node sees in a day and under a hostile neighbour:
#  - 100,000 sequential requests, each on a new connection: every one
#    answered (a per-connection slot that is never freed would show here);
#  - 1,000 idle connections plus 20 slowloris connections held (and reopened
#    when capd times them out) while /healthz and /metrics are probed: every
#    probe answered, and UDP traffic sent meanwhile is captured completely;
#  - the request accounting in /metrics adds up, and the idle connections
#    are gone once the attacker stops.
set -euo pipefail
TNAME=http
. "$(dirname "$0")/lib.sh"
LOAD="python3 $(dirname "$0")/http_load.py"
N_REQ=${HTTP_REQUESTS:-100000}
N_PKT=20000
ulimit -n 8192 # 1,000 idle clients hold 1,000 fds on each side
ADDR=127.0.0.1:9469

start_capd "$TMP/capd.log" --ring-size 16Mi --interfaces lo --filter "udp port 9999" \
	--stats-listen $ADDR
grep -q "metrics on http://$ADDR" "$TMP/capd.log" || fail "no metrics endpoint announced"

out=$(nsx timeout 600 $LOAD seq $ADDR "$N_REQ")
echo "sequential: $out"
[ "$(kv ok "$out")" = "$N_REQ" ] || fail "sequential requests not all answered: $out"

nsx timeout 300 $LOAD attack $ADDR --idle 1000 --slow 20 --until "$TMP/traffic_done" \
	--ready "$TMP/held" --seconds 240 >"$TMP/attack.out" &
ATTACK=$!
PIDS+=("$ATTACK")
for _ in $(seq 300); do [ -e "$TMP/held" ] && break; sleep 0.1; done
[ -e "$TMP/held" ] || fail "the attacker did not get its connections"
sleep 1
nsx "$TRAFFIC" udp 127.0.0.1 9999 $N_PKT 0 >/dev/null
sleep 12 # past the header deadline (5 s) and idle timeout (10 s): capd closes held clients, the attacker reopens them
touch "$TMP/traffic_done"
wait "$ATTACK" || fail "attacker failed"
att=$(cat "$TMP/attack.out")
echo "attack: $att"
probes=$(kv probes "$att")
[ "$probes" -ge 10 ] || fail "too few probes: $att"
[ "$(kv healthz_ok "$att")" = "$probes" ] || fail "/healthz missed probes under attack: $att"
[ "$(kv metrics_ok "$att")" = "$probes" ] || fail "/metrics missed probes under attack: $att"
[ "$(kv held "$att")" -ge 1000 ] || fail "the attack did not hold its connections: $att"
[ "$(kv reopened "$att")" -ge 900 ] || fail "idle connections were not timed out: $att"

st=$("$RAWCAP_BUILD/readers/rawcap-stat" --ring "$RING" --json --interval 0)
grep -q "\"packets\":$N_PKT," <<<"$st" || fail "capture lost packets during the attack: $st"
grep -q '"kernel_drop":0,' <<<"$st" || fail "kernel drops during the attack: $st"

sleep 1
m=$(nsx curl -s --max-time 5 "http://$ADDR/metrics")
ok2xx=$(sed -n 's/^capd_http_requests_total{code="2xx"} //p' <<<"$m")
open=$(sed -n 's/^capd_http_connections_open //p' <<<"$m")
echo "metrics: 2xx=$ok2xx open=$open"
[ "$ok2xx" -ge $((N_REQ + 2 * probes)) ] || fail "request accounting: 2xx=$ok2xx"
[ "$open" -le 2 ] || fail "connections still open after the attacker left: $open"
kill -0 "$CAPD_PID" || fail "capd died"
stop_capd "$TMP/capd.log"
echo "PASS"
