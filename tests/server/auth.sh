#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# auth.sh - rawcap-server off loopback (198.18.0.1 on a private namespace's
# lo): refused without TLS, and with TLS but no way to authenticate. With
# --token-file: no token, a wrong one and one of another length are 401
# (JSON), the right one passes (and /healthz is checked too). With --tls-ca:
# a client certificate the CA signed passes, none or one from another CA is
# 401. A --token-file-ro token may GET and HEAD; any other method with it is
# 403 and changes nothing. Bad credential files are usage errors (exit 2). No capd needed: past
# the check, /v1/node answers 503 (no ring), which proves the request got in.
set -euo pipefail

B=${RAWCAP_BUILD:?RAWCAP_BUILD must point at the build tree}
SERVER=$B/server/rawcap-server
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for namespaces"; exit 77; }
for t in curl jq openssl ip; do command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }; done

NS=rc-srvauth-$$
T=$(mktemp -d /tmp/rc-srvauth.XXXXXX)
export RAWCAP_SHM_DIR=$T/shm
ADDR=198.18.0.1
URL=https://$ADDR:9470
SRV=""
cleanup() {
	[ -z "$SRV" ] || kill "$SRV" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ ! -f "$T/server.err" ] || tail -5 "$T/server.err" >&2; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

mkdir -p "$T/snaps" "$RAWCAP_SHM_DIR"
ip netns add "$NS"
nsx ip link set lo up
nsx ip addr add $ADDR/32 dev lo

# A CA, the server's certificate for 198.18.0.1, a client's, and another CA's client.
cd "$T"
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
mkcert() { # NAME CA [EXT]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$1.key" -out "$1.csr" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
		${3:+-extfile <(printf '%s' "$3")} -out "$1.pem" 2>/dev/null
}
mkca ca
mkca otherca
mkcert server ca "subjectAltName=IP:$ADDR"
mkcert client ca
mkcert stranger otherca
cd - >/dev/null
printf 'correct-horse-battery-staple\n' >"$T/token"
printf 'short\n' >"$T/short"

run() { # ARGS...: exit status of a server that should not start
	local rc=0
	nsx "$SERVER" --snapshots "$T/snaps" --ring none "$@" 2>"$T/refused.err" || rc=$?
	echo "$rc"
}
[ "$(run --listen $ADDR:9470)" = 2 ] || fail "plain HTTP off loopback was not refused"
grep -q "refusing to serve plain HTTP" "$T/refused.err" || fail "$(cat "$T/refused.err")"
[ "$(run --listen $ADDR:9470 --tls-cert "$T/server.pem" --tls-key "$T/server.key")" = 2 ] ||
	fail "TLS without authentication off loopback was not refused"
grep -q "without authentication" "$T/refused.err" || fail "$(cat "$T/refused.err")"
[ "$(run --tls-cert "$T/server.pem")" = 2 ] || fail "--tls-cert without --tls-key"
[ "$(run --token-file "$T/short")" = 2 ] || fail "a short token was accepted"
[ "$(run --token-file "$T/nope")" = 2 ] || fail "a missing token file was accepted"
[ "$(run --snapshot-quota lots)" = 2 ] || fail "a bad --snapshot-quota was accepted"
echo "refused: plain HTTP off loopback, TLS without authentication, bad credential files"

start() { # ARGS...
	ip netns exec "$NS" "$SERVER" --snapshots "$T/snaps" --ring none --listen $ADDR:9470 \
		--tls-cert "$T/server.pem" --tls-key "$T/server.key" "$@" 2>"$T/server.err" &
	SRV=$!
	for _ in $(seq 100); do
		nsx curl -s -o /dev/null --cacert "$T/ca.pem" "$URL/healthz" && return 0
		sleep 0.1
	done
	fail "the server did not come up"
}
stop() { kill "$SRV"; wait "$SRV" || fail "rawcap-server exited $? on SIGTERM"; SRV=""; }
code() { nsx curl -s -o "$T/body" -w '%{http_code}' --cacert "$T/ca.pem" "$@"; }
expect401() {
	[ "$(code "$@")" = 401 ] || fail "$*: $(cat "$T/body")"
	jq -e '.error == "unauthorized" and (.detail | length) > 0' "$T/body" >/dev/null ||
		fail "$*: 401 body $(cat "$T/body")"
}

start --token-file "$T/token"
grep -q "serving ring .* on https://$ADDR:9470 " "$T/server.err" || fail "start line: $(cat "$T/server.err")"
expect401 "$URL/healthz"
expect401 "$URL/v1/node"
expect401 -H 'Authorization: Bearer correct-horse-battery-stapl' "$URL/v1/node"
expect401 -H 'Authorization: Bearer correct-horse-battery-staple-and-more' "$URL/v1/node"
expect401 -H 'Authorization: Basic Y29ycmVjdA==' "$URL/v1/node"
expect401 -X POST -H 'Content-Type: application/json' -d '{"name": "x", "last": "1m"}' "$URL/v1/snapshots"
[ "$(code -H 'Authorization: Bearer correct-horse-battery-staple' "$URL/v1/node")" = 503 ] ||
	fail "the right token did not get in: $(cat "$T/body")"
[ "$(code -H 'Authorization: Bearer correct-horse-battery-staple' "$URL/healthz")" = 200 ] ||
	fail "/healthz with the token"
nsx curl -s -o /dev/null --max-time 5 "http://$ADDR:9470/healthz" && fail "plain HTTP answered on the TLS port"
stop
echo "token: none, wrong, longer, Basic: 401; the right one gets in"

start --tls-ca "$T/ca.pem"
expect401 "$URL/v1/node"
expect401 --cert "$T/stranger.pem" --key "$T/stranger.key" "$URL/v1/node"
[ "$(code --cert "$T/client.pem" --key "$T/client.key" "$URL/v1/node")" = 503 ] ||
	fail "the CA's client did not get in: $(cat "$T/body")"
stop
echo "client certificates: none or another CA's: 401; the CA's gets in"

start --tls-ca "$T/ca.pem" --token-file "$T/token"
[ "$(code -H 'Authorization: Bearer correct-horse-battery-staple' "$URL/v1/node")" = 503 ] ||
	fail "token alone with both configured"
[ "$(code --cert "$T/client.pem" --key "$T/client.key" "$URL/v1/node")" = 503 ] ||
	fail "certificate alone with both configured"
expect401 "$URL/v1/node"
stop
echo "both configured: either one gets in, neither is 401"

# A read-only token may GET; PUT, POST and DELETE with it are 403 before any
# work (no snapshot appears), while the full token still may.
printf 'read-only-token-for-viewers\n' >"$T/token-ro"
[ "$(run --token-file "$T/token" --token-file-ro "$T/token")" = 2 ] ||
	fail "the same token as full and read-only was accepted"
[ "$(run --token-file-ro "$T/short")" = 2 ] || fail "a short read-only token was accepted"
mkdir -p "$T/ctl"
start --token-file "$T/token" --token-file-ro "$T/token-ro" --control-dir "$T/ctl"
RO='Authorization: Bearer read-only-token-for-viewers'
RW='Authorization: Bearer correct-horse-battery-staple'
[ "$(code -H "$RO" "$URL/v1/node")" = 503 ] || fail "read-only GET /v1/node: $(cat "$T/body")"
[ "$(code -H "$RO" "$URL/v1/snapshots")" = 200 ] || fail "read-only GET /v1/snapshots: $(cat "$T/body")"
[ "$(code -I -H "$RO" "$URL/healthz")" = 200 ] || fail "read-only HEAD /healthz"
expect403() {
	[ "$(code -H "$RO" "$@")" = 403 ] || fail "read-only $*: $(cat "$T/body")"
	jq -e '.error == "forbidden" and (.detail | length) > 0' "$T/body" >/dev/null ||
		fail "$*: 403 body $(cat "$T/body")"
}
expect403 -X POST -H 'Content-Type: application/json' -d '{"name": "ro", "last": "1m"}' "$URL/v1/snapshots"
expect403 -X DELETE "$URL/v1/snapshots/ro"
expect403 -X POST "$URL/v1/snapshots/ro/verify"
expect403 -X PUT -H 'Content-Type: application/json' -d '{"enabled": false}' "$URL/v1/dissection"
[ "$(code -H "$RO" "$URL/v1/dissection")" = 200 ] || fail "read-only GET /v1/dissection"
jq -e '.enabled == true' "$T/body" >/dev/null || fail "a refused PUT changed the switch: $(cat "$T/body")"
[ -z "$(ls "$T/snaps")" ] || fail "a refused POST made a snapshot: $(ls "$T/snaps")"
expect401 -H 'Authorization: Bearer read-only-token-for-viewer' "$URL/v1/node"
[ "$(code -X PUT -H "$RW" -H 'Content-Type: application/json' -d '{"enabled": false}' \
	"$URL/v1/dissection")" = 200 ] || fail "the full token could not PUT: $(cat "$T/body")"
nsx curl -s --cacert "$T/ca.pem" -H "$RW" "$URL/metrics" >"$T/metrics"
grep -q 'code="403"' "$T/metrics" || fail "403s are not in /metrics"
stop
echo "read-only token: GET and HEAD pass; POST, PUT, DELETE are 403 and change nothing"
echo "PASS"
