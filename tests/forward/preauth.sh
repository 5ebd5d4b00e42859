#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# preauth.sh - a peer costs nothing before it is authenticated. With a pod
# selection (which replays 10 minutes of metadata history per receiver), 20
# bare TCP connect/close over plain TCP cannot be told from receivers that
# half-close (`nc -N`, which must be served): each starts a stream, which is
# dropped as closed as soon as its first bytes meet the reset, with no
# packet sent. Over TLS, 70 peers that never
# start their handshake get no stream either, time out after 5 s (the
# oldest make room when more than 64 wait), and a receiver that
# authenticates meanwhile gets its packets byte for byte.
set -euo pipefail
NAME=preauth
. "$(dirname "$0")/lib.sh"

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

# Plain pcapng with --pod: a bare connect/close is a FIN, as a half-close is
# (halfclose.sh), so it gets a stream; its first bytes meet the reset and it
# is dropped at once, before any packet.
fwd_start plain --plain --listen 127.0.0.1:5555 --pod no-such-pod
bare_connects 5555 20
wait_until 10 log_has "$TMP/plain.err" "receiver closed the connection: 0 packets" 20
kill "$FWD_PID"; wait "$FWD_PID" || true
log_has "$TMP/plain.err" "20 receivers" || fail "the forwarder did not see the 20 connections"
! log_has "$TMP/plain.err" "stopping" || fail "a bare connection was still held at the end"
echo "plain: 20 bare connect/close, each dropped as closed by its first bytes, no packet sent"

# TLS: 70 peers that never send a ClientHello (more than the 64 kept in
# their handshake at once) are dropped without a stream, while a receiver
# that authenticates meanwhile is served at once.
P=$TMP/pki
make_pki "$P"
send_window 200 600
fwd_start tls --listen 127.0.0.1:5556 --from "$T1" --to "$T2" \
	--tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-ca "$P/ca.pem"
nsx python3 - "$TMP/stalled" <<'PY' &
import socket, sys, time
idle = [socket.create_connection(("127.0.0.1", 5556)) for _ in range(70)]
open(sys.argv[1], "w").close()
time.sleep(8) # longer than the 5 s handshake timeout
PY
IDLE=$!
PIDS+=($IDLE)
wait_until 10 test -e "$TMP/stalled"
timeout 15 ip netns exec "$NS" openssl s_client -quiet -connect 127.0.0.1:5556 -CAfile "$P/ca.pem" \
	-verify_return_error -cert "$P/client.pem" -key "$P/client.key" </dev/null >"$TMP/ok.pcapng" \
	2>"$TMP/s_client.err" || true
same_packets "$WANT" "$TMP/ok.pcapng" ||
	fail "the authenticated receiver got $(pkts "$TMP/ok.pcapng") packets, not its 200, beside 70 stalled peers"
echo "TLS: a receiver authenticated beside 70 stalled handshakes got its 200 packets"
wait "$IDLE" || true
wait_until 5 log_has "$TMP/tls.err" "no handshake in time" 20
kill "$FWD_PID"; wait "$FWD_PID" || true
stats=$(tail -1 "$TMP/tls.err")
n=$(streams "$TMP/tls.err")
[ "$n" = 1 ] || fail "70 stalled TLS peers and 1 receiver opened $n streams: $stats"
grep -q "70 timed out" <<<"$stats" || fail "stats do not count 70 peers dropped in their handshake: $stats"
log_has "$TMP/tls.err" "too many peers in their handshake" || fail "the pool of peers in their handshake is not bounded"
echo "TLS: 70 stalled handshakes, 0 streams for them, all 70 timed out or evicted"
echo "PASS"
