#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# preauth.sh - a peer costs nothing before it is authenticated. With a pod
# selection (which replays 10 minutes of metadata history per receiver),
# 20 bare TCP connect/close and 20 TCP peers that never start their TLS
# handshake get no cursor, no queue and no replay: the forwarder's
# "streams started" count stays 0 while a real receiver, connected after
# them, still gets its stream (1 stream started, its packets byte for byte).
set -euo pipefail
NAME=preauth
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

streams() { # LOG: "N streams started" of the final stats line
	sed -n 's/.* \([0-9]*\) streams started.*/\1/p' "$1" | tail -1
}
bare_connects() { # PORT N: connect and close at once, N times
	nsx python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    socket.create_connection(("127.0.0.1", port)).close()
    time.sleep(0.05)
time.sleep(0.5)
PY
}

src_start
src_send 300 400 # history for the pod index to replay

# Plain pcapng with --pod: bare connections never get a stream.
fwd_start plain --plain --listen 127.0.0.1:5555 --pod no-such-pod
bare_connects 5555 20
kill "$FWD_PID"; wait "$FWD_PID" || true
n=$(streams "$TMP/plain.err")
[ "$n" = 0 ] || fail "20 bare connections opened $n streams (cursor + history replay each)"
log_has "$TMP/plain.err" "20 receivers" || fail "the forwarder did not see the 20 connections"
echo "plain: 20 bare connect/close, 0 streams started"

# TLS: peers that never send a ClientHello are dropped after 5 s without a stream.
P=$TMP/pki; mkdir "$P"
ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $1 failed"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=rawcap-test-ca \
	-keyout "$P/ca.key" -out "$P/ca.pem"
for n in server client; do
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
		-keyout "$P/$n.key" -out "$P/$n.csr"
	ossl x509 -req -in "$P/$n.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
		-extfile <(echo "subjectAltName=IP:127.0.0.1") -out "$P/$n.pem"
done
T1=$(date +%s.%N)
src_send 200 600
WANT=$LAST_SENT
sleep 0.3
T2=$(date +%s.%N)
fwd_start tls --listen 127.0.0.1:5556 --pod no-such-pod --from "$T1" --to "$T2" \
	--tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-ca "$P/ca.pem"
nsx python3 - <<'PY' &
import socket, time
idle = [socket.create_connection(("127.0.0.1", 5556)) for _ in range(20)]
time.sleep(8) # longer than the 5 s handshake timeout
PY
IDLE=$!
PIDS+=($IDLE)
wait "$IDLE" || true
wait_for 5 log_has "$TMP/tls.err" "no handshake in time" 20 || fail "the stalled handshakes were not timed out"
kill "$FWD_PID"; wait "$FWD_PID" || true
n=$(streams "$TMP/tls.err")
[ "$n" = 0 ] || fail "20 TLS peers that never said ClientHello opened $n streams"
grep -q "20 timed out" "$TMP/tls.err" || fail "stats do not count 20 timed-out handshakes: $(tail -1 "$TMP/tls.err")"
echo "TLS: 20 stalled handshakes, 0 streams started, 20 timed out"

# An authenticated receiver gets its stream.
fwd_start tls2 --listen 127.0.0.1:5557 --from "$T1" --to "$T2" \
	--tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-ca "$P/ca.pem"
timeout 15 ip netns exec "$NS" openssl s_client -quiet -connect 127.0.0.1:5557 -CAfile "$P/ca.pem" \
	-verify_return_error -cert "$P/client.pem" -key "$P/client.key" </dev/null >"$TMP/ok.pcapng" \
	2>"$TMP/s_client.err" || true
same_packets "$WANT" "$TMP/ok.pcapng" || fail "the authenticated receiver did not get its 200 packets"
kill "$FWD_PID"; wait "$FWD_PID" || true
[ "$(streams "$TMP/tls2.err")" = 1 ] || fail "one receiver, $(streams "$TMP/tls2.err") streams"
echo "TLS: the authenticated receiver got its 200 packets (1 stream)"
echo "PASS"
