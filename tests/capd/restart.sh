#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# restart.sh - capd killed with SIGKILL and restarted: a reader that was
# attached notices the new generation, continues on the new ring, and misses
# nothing: sequence numbers continue across the restart.
set -euo pipefail
TNAME=restart
. "$(dirname "$0")/lib.sh"
N=1000

start_capd "$TMP/capd1.log" --interfaces lo
gen1=$(sed -n 's/.*generation \([0-9]*\),.*/\1/p' "$TMP/capd1.log")
start_verify "$TMP/verify.out" --port 9999 --count $((2 * N))
nsx "$TRAFFIC" udp 127.0.0.1 9999 $N 0 >/dev/null
sleep 1
kill -KILL "$CAPD_PID"
wait "$CAPD_PID" 2>/dev/null || true
start_capd "$TMP/capd2.log" --interfaces lo
gen2=$(sed -n 's/.*generation \([0-9]*\),.*/\1/p' "$TMP/capd2.log")
[ "$gen1" != "$gen2" ] || fail "generation did not change"
grep -q "continuing after generation $gen1" "$TMP/capd2.log" || fail "restart did not continue the old ring"
nsx "$TRAFFIC" udp 127.0.0.1 9999 $N $N >/dev/null
sleep 1
# rawcap-stat, unprivileged (another uid in the ring's group, capd's default 64720),
# sees the new generation continue the sequence.
st=$(setpriv --reuid=64721 --regid=64720 --clear-groups \
	"$RAWCAP_BUILD/readers/rawcap-stat" --ring "$RING" --json --interval 0) || fail "rawcap-stat failed"
echo "rawcap-stat: $st"
grep -q "\"generation\":$gen2," <<<"$st" || fail "rawcap-stat: wrong generation"
grep -q '"base_seq":1001,' <<<"$st" || fail "rawcap-stat: sequence did not continue at 1001"
grep -q '"packets":1000,' <<<"$st" || fail "rawcap-stat: want 1000 packets in the new generation"
stop_capd "$TMP/capd2.log"
finish_verify "$TMP/verify.out"
v=$(cat "$TMP/verify.out")
echo "reader: $v"
[ "$(kv generations "$v")" -ge 2 ] || fail "the reader did not see the new generation"
[ "$(kv udp_ok "$v")" = $((2 * N)) ] || fail "datagrams missing across the restart"
[ "$(kv records_lost "$v")" = 0 ] || fail "sequence gap across the restart"
echo "PASS"
