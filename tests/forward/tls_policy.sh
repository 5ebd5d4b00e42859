#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tls_policy.sh - TLS where others can reach the forwarder authenticates the
# client. A TLS --listen on a non-loopback address (wildcard or a
# namespace-local 198.18.0.0/15 address) without --tls-ca is refused at
# start: exit 2, a message naming the way out, nothing listening. With
# --tls-any-client it starts, and a client without a certificate is served.
# Loopback (127.0.0.1, [::1]) without --tls-ca, and --plain anywhere, start
# as before (both are explicit choices).
set -euo pipefail
NAME=tlspol
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

P=$TMP/pki; mkdir "$P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=fwd \
	-addext subjectAltName=IP:198.18.0.1 -keyout "$P/key.pem" -out "$P/cert.pem" >/dev/null 2>&1 ||
	fail "openssl req failed"
ip -n "$NS" link add rc0 type veth peer name rc1
ip -n "$NS" addr add 198.18.0.1/32 dev rc0
ip -n "$NS" link set rc0 up && ip -n "$NS" link set rc1 up
src_start
TLS=(--tls-cert "$P/cert.pem" --tls-key "$P/key.pem")

refused() { # ADDR: must exit 2 at once, naming --tls-ca and --tls-any-client
	local rc=0
	timeout 10 ip netns exec "$NS" "$FWD" --ring "$RING" --listen "$1" "${TLS[@]}" \
		2>"$TMP/refused.err" || rc=$?
	[ "$rc" = 2 ] || fail "TLS on $1 without --tls-ca: exit $rc, not 2: $(cat "$TMP/refused.err")"
	grep -q -- "--tls-ca" "$TMP/refused.err" && grep -q -- "--tls-any-client" "$TMP/refused.err" ||
		fail "the refusal does not say how to proceed: $(cat "$TMP/refused.err")"
	echo "refused: TLS on $1 without client certificates: $(cat "$TMP/refused.err")"
}
refused 0.0.0.0:5555
refused 198.18.0.1:5555
refused "[::]:5555"
nsx ss -ltnH | grep -q ":5555 " && fail "something listens on 5555 after the refusals"

starts() { # LOG ARGS...: must start listening
	fwd_start "$@"
	kill "$FWD_PID"; wait "$FWD_PID" || true
	echo "starts: ${*:2}"
}
starts lo4 --listen 127.0.0.1:5556 "${TLS[@]}"
starts lo6 --listen "[::1]:5557" "${TLS[@]}"
starts plain --listen 0.0.0.0:5558 --plain

# --tls-any-client: explicitly open; a client without a certificate gets the stream.
send_window 50 300
fwd_start any --listen 198.18.0.1:5559 "${TLS[@]}" --tls-any-client --from "$T1" --to "$T2"
timeout 15 ip netns exec "$NS" openssl s_client -quiet -connect 198.18.0.1:5559 -CAfile "$P/cert.pem" \
	-verify_return_error </dev/null >"$TMP/any.pcapng" 2>"$TMP/s_client.err" || true
same_packets "$WANT" "$TMP/any.pcapng" || fail "--tls-any-client: the client did not get its 50 packets"
echo "--tls-any-client: a client without a certificate received its 50 packets"

rc=0
ip netns exec "$NS" "$FWD" --ring "$RING" --listen 0.0.0.0:5560 "${TLS[@]}" --tls-any-client \
	--tls-ca "$P/cert.pem" 2>"$TMP/both.err" || rc=$?
[ "$rc" = 2 ] || fail "--tls-any-client with --tls-ca: exit $rc, not a usage error"
echo "PASS"
