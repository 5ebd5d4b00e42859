#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tls.sh - rawcap-forward over TLS with a test CA made by the openssl CLI:
# a client with a CA-signed certificate receives the stream byte for byte;
# with mutual TLS on, clients without a certificate, with an untrusted one,
# or speaking plain TCP are refused and get no packet; a slow client gets the
# whole window; a client that half-closes (FIN or close_notify) still gets it
# all, one that closes is dropped as closed.
set -euo pipefail
NAME=tls
. "$(dirname "$0")/lib.sh"
P=$TMP/pki
make_pki "$P"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=rogue \
	-keyout "$P/rogue.key" -out "$P/rogue.pem"

src_start
send_window 200 600
A=$WANT
fwd_start fwd --listen 127.0.0.1:5555 --from "$T1" --to "$T2" \
	--tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-ca "$P/ca.pem"

client() { # OUT ARGS...: a TLS client that verifies the server, stream to OUT
	local out=$1; shift
	timeout 15 ip netns exec "$NS" openssl s_client -quiet -connect 127.0.0.1:5555 \
		-CAfile "$P/ca.pem" -verify_return_error "$@" </dev/null >"$out" 2>>"$TMP/s_client.err" || true
}
client "$TMP/ok.pcapng" -cert "$P/client.pem" -key "$P/client.key"
n=$(pkts "$TMP/ok.pcapng")
[ "$n" = 200 ] || fail "TLS client got ${n:-no} packets, 200 were sent"
same_packets "$A" "$TMP/ok.pcapng" || fail "TLS: packet bytes differ"
echo "mTLS: client with a CA-signed certificate received all 200 packets"

client "$TMP/nocert.out"
client "$TMP/rogue.out" -cert "$P/rogue.pem" -key "$P/rogue.key"
timeout 20 ip netns exec "$NS" python3 -c "
import socket; s = socket.create_connection(('127.0.0.1', 5555)); s.settimeout(3)
open('$TMP/plain.out', 'wb').write(s.recv(65536))" 2>/dev/null || true
for o in nocert rogue plain; do
	[ ! -s "$TMP/$o.out" ] || fail "$o client received $(stat -c %s "$TMP/$o.out") bytes"
done
wait_until 30 log_has "$TMP/fwd.err" "TLS handshake failed" 3
echo "mTLS: clients without a certificate, with an untrusted one, and plain TCP were refused"

# Server verification works the other way too: a client trusting another CA refuses us.
timeout 10 ip netns exec "$NS" openssl s_client -quiet -connect 127.0.0.1:5555 -CAfile "$P/rogue.pem" \
	-verify_return_error -cert "$P/client.pem" -key "$P/client.key" </dev/null >"$TMP/wrongca.out" 2>/dev/null || true
[ ! -s "$TMP/wrongca.out" ] || fail "a client that does not trust our CA still got data"
kill "$FWD_PID"; wait "$FWD_PID" || true
grep -q "receivers (4 refused)\|receivers (5 refused)" "$TMP/fwd.err" || fail "stats do not count the refused clients"

# A receiver slower than the forwarder, behind small socket buffers: records
# wait in TLS's write buffer whenever the socket is full, and the end of the
# window must not close the stream before they are out.
nsx sysctl -q -w net.ipv4.tcp_rmem="4096 65536 131072" net.ipv4.tcp_wmem="4096 65536 131072"
send_window 2000 1000
fwd_start fwd2 --listen 127.0.0.1:5556 --from "$T1" --to "$T2" \
	--tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-ca "$P/ca.pem"
timeout 30 ip netns exec "$NS" openssl s_client -quiet -connect 127.0.0.1:5556 -CAfile "$P/ca.pem" \
	-verify_return_error -cert "$P/client.pem" -key "$P/client.key" </dev/null 2>>"$TMP/s_client.err" |
	python3 -c "
import sys, time
out = open('$TMP/slow.pcapng', 'wb')
while (b := sys.stdin.buffer.read1(16384)):
    out.write(b)
    time.sleep(0.005)" || true
n=$(pkts "$TMP/slow.pcapng" || true)
[ "$n" = 2000 ] || fail "slow TLS client got ${n:-no} packets, 2000 were sent"
same_packets "$WANT" "$TMP/slow.pcapng" || fail "slow TLS client: packet bytes differ"
log_has "$TMP/fwd2.err" "window delivered" || fail "the slow client's stream did not end with the window"
echo "a slow TLS client received all 2000 packets, and the stream ended with the window"
kill "$FWD_PID"; wait "$FWD_PID" || true
# A receiver that half-closes right after its handshake sends nothing more but
# still reads: with a bare FIN (shutdown(SHUT_WR), no close_notify, as a
# plain TCP receiver does) or with TLS 1.3's close_notify, which ends only
# its sending side, it gets the whole window byte for byte. One that closes
# (FIN, then a reset for our next record) is dropped as closed, not as a
# protocol error.
send_window 2000 1000
fwd_start fwd3 --listen 127.0.0.1:5557 --from "$T1" --to "$T2" \
	--tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-ca "$P/ca.pem"
hows=fin
if command -v go >/dev/null; then # a client that sends close_notify and still reads
	GOCACHE=$TMP/go GOPATH=$TMP/go timeout 120 go build -o "$TMP/closewrite" \
		"$(dirname "$0")/tls_closewrite.go" || fail "building tls_closewrite.go failed"
	hows="fin notify"
else
	echo "SKIP part: go missing, no TLS 1.3 close_notify receiver"
fi
for how in $hows; do
	if [ $how = fin ]; then
		halfclose_client 5557 "$TMP/half-$how.pcapng" "$P" 2>>"$TMP/s_client.err" || true
	else
		timeout 25 ip netns exec "$NS" "$TMP/closewrite" 127.0.0.1:5557 "$P/ca.pem" "$P/client.pem" \
			"$P/client.key" >"$TMP/half-$how.pcapng" 2>>"$TMP/s_client.err" || true
	fi
	n=$(pkts "$TMP/half-$how.pcapng" || true)
	[ "$n" = 2000 ] || fail "TLS receiver half-closed ($how) got ${n:-no} packets, 2000 were sent"
	same_packets "$WANT" "$TMP/half-$how.pcapng" || fail "TLS receiver half-closed ($how): packet bytes differ"
done
wait_until 10 log_has "$TMP/fwd3.err" "window delivered" $(wc -w <<<"$hows")
! log_has "$TMP/fwd3.err" "closed the connection\|protocol error" || fail "a half-closed TLS receiver was dropped"
echo "TLS receivers that half-closed at once ($hows) received all 2000 packets"
kill "$FWD_PID"; wait "$FWD_PID" || true
fwd_start fwd4 --listen 127.0.0.1:5558 --from "$T1" \
	--tls-cert "$P/server.pem" --tls-key "$P/server.key" --tls-ca "$P/ca.pem"
timeout 15 ip netns exec "$NS" python3 -c "
import socket, ssl
ctx = ssl.create_default_context(cafile='$P/ca.pem')
ctx.check_hostname = False
ctx.load_cert_chain('$P/client.pem', '$P/client.key')
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', 5558)))
s.recv(1)
s.close()" 2>>"$TMP/s_client.err" || fail "closing TLS client failed"
src_send 100 500
wait_until 10 log_has "$TMP/fwd4.err" "receiver closed the connection"
! log_has "$TMP/fwd4.err" "protocol error" || fail "a closed TLS receiver was a protocol error"
echo "a TLS receiver that closed is dropped as closed"
kill "$FWD_PID"; wait "$FWD_PID" || true
echo "PASS"
