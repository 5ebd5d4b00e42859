#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# limits.sh - rawcap-server's limits on what a client sends, over real
# sockets (tests/server/raw_http.py writes what curl will not): a body over
# 8 KiB gets a 413 JSON error and nothing is done, chunked or with
# Content-Length, with or without "Expect: 100-continue" (a chunked one was
# cut without an answer after "100 Continue"); a body on GET or DELETE is
# 413; headers over 8 KiB or 100 fields are 431; a request without
# credentials is 401 before its body is read, and a request hidden in that
# body is never run; pipelined requests are answered in order; a body
# trickled a byte a second is cut with the 10 s request deadline (MHD's own
# timeout is one of silence). Another user's --snapshot-dir in a 1777
# directory is refused: said at start and by GET /v1/snapshots, the node API
# served. No capd: past the checks, a POST makes a
# snapshot job that fails (no ring), which GET /v1/snapshots then lists.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
SERVER=$B/server/rawcap-server
RAW="$(dirname "$0")/raw_http.py"
rc_need_root
rc_need python3 curl jq ip
rc_tmp srvlimits
T=$TMP
NS=rc-srvlim-$$
PORT=9470
TOKEN=correct-horse-battery-staple
nsx() { ip netns exec "$NS" "$@"; }

rc_netns_add "$NS"
printf '%s\n' "$TOKEN" >"$T/token"
# A --snapshot-dir another user made in a directory others may write (/tmp)
# is refused: said at start, naming its owner, while the node API is still
# served (it exited 2: the pod crash-looped over snapshot storage), and
# GET /v1/snapshots answers 500 with the reason (was an empty 200).
mkdir -m 1777 "$T/pub" && chmod 1777 "$T/pub" && mkdir "$T/pub/snaps" && chown nobody "$T/pub/snaps"
ip netns exec "$NS" "$SERVER" --snapshots "$T/pub/snaps" --ring none --listen 127.0.0.1:$PORT \
	--token-file "$T/token" 2>"$T/start.out" &
SPID=$!
PIDS+=("$SPID")
wait_until 10 nsx curl -sf -H "Authorization: Bearer $TOKEN" -o /dev/null \
	http://127.0.0.1:$PORT/healthz
grep -q "snaps: a directory of uid 65534 in a directory others may write" "$T/start.out" ||
	fail "a refused --snapshot-dir not said at start: $(cat "$T/start.out")"
code=$(nsx curl -s -o "$T/list.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	http://127.0.0.1:$PORT/v1/snapshots)
[ "$code" = 500 ] && jq -e '.error == "snapshot_dir_unusable"' "$T/list.out" >/dev/null &&
	grep -q "a directory of uid 65534" "$T/list.out" ||
	fail "GET /v1/snapshots of a refused --snapshot-dir: $code $(cat "$T/list.out")"
# /v1/node served (here without a ring: its own 503 no_ring)
nsx curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/v1/node >"$T/node.out"
jq -e '.error == "no_ring"' "$T/node.out" >/dev/null ||
	fail "GET /v1/node with a refused --snapshot-dir: $(cat "$T/node.out")"
kill "$SPID" && wait "$SPID" || true
echo "ok: another user's --snapshot-dir in a 1777 directory said at start and by GET /v1/snapshots (500), /v1/node served"
mkdir -p "$T/snaps"
ip netns exec "$NS" "$SERVER" --snapshots "$T/snaps" --ring none --listen 127.0.0.1:$PORT \
	--token-file "$T/token" 2>"$T/server.err" &
PIDS+=($!)
wait_until 10 nsx curl -sf -H "Authorization: Bearer $TOKEN" -o /dev/null \
	http://127.0.0.1:$PORT/healthz

raw() { nsx python3 "$RAW" $PORT --token "$TOKEN" "$@" >"$T/out" 2>&1 || true; }
jobs_listed() {
	nsx curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/v1/snapshots |
		jq '.snapshots | length'
}
# expect STATUS CODE WHAT: the answer in $T/out, a JSON error, the connection closed.
expect() {
	grep -q "^HTTP/1.1 $1 " "$T/out" || fail "$3: want $1, got: $(cat "$T/out")"
	grep -q '^type application/json' "$T/out" || fail "$3: not JSON: $(cat "$T/out")"
	grep -q "\"error\":\"$2\"" "$T/out" || fail "$3: want error $2: $(cat "$T/out")"
	grep -q '^closed' "$T/out" || fail "$3: the connection stayed open"
	echo "ok: $3: $1 $2"
}

for ex in "" --expect; do
	raw $ex chunked 20000
	expect 413 body_too_large "chunked 20000 bytes ${ex:-without Expect}"
	grep -q 'larger than 8192 bytes' "$T/out" || fail "413 says not why: $(cat "$T/out")"
	raw $ex chunked 10000000
	expect 413 body_too_large "chunked 10 MB ${ex:-without Expect}"
	raw $ex length 20000
	expect 413 body_too_large "Content-Length 20000 ${ex:-without Expect}"
	raw $ex delete-chunked 100
	expect 413 body_too_large "DELETE with a chunked body ${ex:-without Expect}"
done
raw get-length 100
expect 413 body_too_large "GET with a body"
[ "$(jobs_listed)" = 0 ] || fail "a refused body made a snapshot job"
echo "ok: no refused body made a job"

raw headers 20000
expect 431 headers_too_large "20 KB of headers"
raw many-headers 150
expect 431 headers_too_large "150 short header fields"
raw many-headers 50
grep -q '^HTTP/1.1 503 ' "$T/out" || fail "50 header fields: $(cat "$T/out")"
echo "ok: 50 header fields pass (503: no ring)"

for c in smuggle smuggle-chunked; do
	nsx python3 "$RAW" $PORT $c >"$T/out" 2>&1 || true
	expect 401 unauthorized "$c: a POST without credentials"
done
sleep 0.5
[ "$(jobs_listed)" = 0 ] || fail "the request inside a refused body was run"
echo "ok: the requests inside refused bodies were not run"

raw pipelined-ok
[ "$(grep -c '^HTTP/1.1 200 ' "$T/out")" = 2 ] || fail "pipelined GETs: $(cat "$T/out")"
echo "ok: two pipelined GETs answered"
raw pipelined 20000
expect 413 body_too_large "a pipelined request after an oversized chunked body"
[ "$(grep -c '^HTTP/1.1 ' "$T/out")" = 1 ] || fail "answered past a 413: $(cat "$T/out")"

raw chunked 100
grep -q '^HTTP/1.1 202 ' "$T/out" || fail "a small chunked body: $(cat "$T/out")"
[ "$(jobs_listed)" = 1 ] || fail "a small chunked body made no job"
echo "ok: a small chunked body is taken (202)"

raw slow 25
grep -q '^closed' "$T/out" || fail "a trickled body kept its connection: $(cat "$T/out")"
s=$(awk '/^after/ {print $2}' "$T/out")
[ "$s" -le 15 ] || fail "a trickled body held its connection $s s"
echo "ok: a body trickled a byte a second is cut after $s s"
echo "PASS"
