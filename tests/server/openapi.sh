#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# openapi.sh - docs/openapi.yaml against the real server: every route of
# server/main.c is an operation of the document and back, and the answers
# of a running rawcap-server (capd capturing a private namespace's
# loopback) conform to it: status documented for the operation, content
# type, required headers, JSON bodies valid against their schemas
# (tests/server/openapi_check.py, python3-jsonschema). Covers every
# endpoint's success and its errors 400, 401, 403, 404, 405, 409, 413, 414, 431,
# 503; and the checker must reject an answer that breaks the document.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
SRC=${RAWCAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SPEC=$SRC/docs/openapi.yaml
CHECK=$SRC/tests/server/openapi_check.py
python3 -c 'import jsonschema, yaml' 2>/dev/null || { echo "SKIP: python3-jsonschema/yaml missing"; exit 77; }

python3 "$CHECK" "$SPEC" routes "$SRC/server/main.c" || fail "the spec and the route table differ"

# check WANT METHOD PATH [CURL-ARGS...]: the answer has status WANT; it is kept
# (in $T/ans, listed in $T/answers) for one run of the checker at the end.
n=0
check() {
	local want=$1 method=$2 path=$3 code
	shift 3
	n=$((n + 1))
	code=$(nsx curl -s -X "$method" -D "$T/ans/$n.hdr" -o "$T/ans/$n.body" -w '%{http_code}' \
		"$@" "$URL$path") || true
	touch "$T/ans/$n.body"
	cp "$T/ans/$n.body" "$T/ans.body"
	[ "$code" = "$want" ] || fail "$method $path: $code, expected $want: $(head -c 300 "$T/ans.body")"
	echo "$method ${path%%\?*} $T/ans/$n.hdr $T/ans/$n.body" >>"$T/answers"
}
# checkj WANT METHOD PATH BODY [CURL-ARGS...]: check with a JSON request body.
checkj() {
	local want=$1 method=$2 path=$3 body=$4
	shift 4
	check "$want" "$method" "$path" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}

start_capd
mkdir -p "$T/ctl" "$T/ans"
start_server --control-dir "$T/ctl"
T0=$(now)
sleep 0.2
nsx "$TRAFFIC" udp 127.0.0.1 9999 200 0 >/dev/null 2>"$T/udp.err" || fail "udp traffic failed"
sleep 0.5
T1=$(now)
sleep 0.5 # capd's sync interval is 200 ms

check 200 GET /healthz
check 200 GET /metrics
check 200 GET /v1/node
check 200 GET "/v1/pcap?from=$T0&to=$T1"
check 200 GET "/v1/pcap?from=$T0&to=$T1&format=pcap&filter=udp"
check 400 GET "/v1/pcap?format=jpeg"
check 400 GET "/v1/pcap?from=$T0&filter=tcp%20port%20nope"
check 414 GET "/v1/pcap?filter=$(head -c 5000 /dev/zero | tr '\0' a)"
check 431 GET /v1/node -H "X-Padding: $(head -c 9000 /dev/zero | tr '\0' a)"
check 404 GET /v1/nothing
check 405 DELETE /v1/node

# Snapshots: create -> poll (in_progress, then completed) -> list, verify, download, delete.
checkj 202 POST /v1/snapshots "{\"name\": \"s1\", \"from\": \"$T0\", \"to\": \"$T1\"}"
for _ in $(seq 300); do
	check 200 GET /v1/snapshots/s1
	jq -e '.status == "in_progress"' "$T/ans.body" >/dev/null || break
	sleep 0.1
done
jq -e '.status == "completed" or .status == "partial"' "$T/ans.body" >/dev/null ||
	fail "snapshot s1: $(cat "$T/ans.body")"
check 200 GET /v1/snapshots
checkj 409 POST /v1/snapshots "{\"name\": \"s1\", \"last\": \"1s\"}"
checkj 400 POST /v1/snapshots '{"name": "../x", "last": "1s"}'
checkj 413 POST /v1/snapshots "{\"name\": \"s2\", \"filter\": \"$(head -c 9000 /dev/zero | tr '\0' a)\"}"
check 200 POST /v1/snapshots/s1/verify
check 200 GET /v1/snapshots/s1/pcap
check 200 GET "/v1/snapshots/s1/pcap?format=pcap"
check 404 GET /v1/snapshots/nope
check 404 POST /v1/snapshots/nope/verify
checkj 400 POST /v1/snapshots/s1/upload '{"to": "http://nowhere"}'
checkj 400 POST /v1/snapshots/download '{"name": "s3"}'
check 204 DELETE /v1/snapshots/s1
check 404 DELETE /v1/snapshots/s1

check 200 GET /v1/dissection
checkj 200 PUT /v1/dissection '{"enabled": false, "resume": "backlog"}'
checkj 400 PUT /v1/dissection '{"enabled": "no"}'
jq -e '.dissection.enabled == false' <(nsx curl -s "$URL/v1/node") >/dev/null ||
	fail "the PUT did not show in /v1/node"
# The forwarder object with a forwarder running (the one above had none).
nsx curl -s "$URL/v1/dissection" >"$T/diss.json"
jq -e '.forwarder == {"present": false, "applied": false}' "$T/diss.json" >/dev/null ||
	fail "no forwarder yet: $(cat "$T/diss.json")"
ip netns exec "$NS" "$B/readers/rawcap-forward" --ring "$RING" --listen 127.0.0.1:0 --plain \
	--control-dir "$T/ctl" 2>"$T/forward.err" &
fpid=$!
PIDS+=("$fpid")
for i in $(seq 100); do [ -e "$T/ctl/forwarder" ] && break; sleep 0.1; done
check 200 GET /v1/dissection
jq -e '.forwarder.present and .forwarder.state == "paused" and .forwarder.applied' \
	"$T/ans.body" >/dev/null || fail "forwarder: $(cat "$T/ans.body")"
kill "$fpid"
wait "$fpid" 2>/dev/null || true
printf 'pid=1\nstate=maybe\n' >"$T/ctl/forwarder"
check 200 GET /v1/dissection
jq -e '.forwarder.error == "not a forwarder status file"' "$T/ans.body" >/dev/null ||
	fail "a bad status file: $(cat "$T/ans.body")"
echo "capd's server: $n answers as expected"

# Tokens (allowed on loopback too), and no ring: 401, 403, 503, a failed job.
printf 'openapi-full-token-0123\n' >"$T/token"
printf 'openapi-read-only-token\n' >"$T/token-ro"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "rawcap-server exited $? on SIGTERM"
ip netns exec "$NS" "$SERVER" --listen 127.0.0.1:$PORT --ring none --snapshots "$T/snaps" \
	--token-file "$T/token" --token-file-ro "$T/token-ro" 2>>"$T/server.err" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for _ in $(seq 100); do
	[ "$(nsx curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 401 ] && break
	sleep 0.1
done
check 401 GET /healthz
check 401 GET /v1/node
check 503 GET /v1/node -H 'Authorization: Bearer openapi-read-only-token'
check 200 GET /healthz -H 'Authorization: Bearer openapi-read-only-token'
checkj 403 POST /v1/snapshots '{"name": "x", "last": "1s"}' -H 'Authorization: Bearer openapi-read-only-token'
check 403 DELETE /v1/snapshots/x -H 'Authorization: Bearer openapi-read-only-token'
checkj 202 POST /v1/snapshots '{"name": "x", "last": "1s"}' -H 'Authorization: Bearer openapi-full-token-0123'
for _ in $(seq 100); do # no ring: the job fails
	check 200 GET /v1/snapshots/x -H 'Authorization: Bearer openapi-read-only-token'
	jq -e '.status == "in_progress"' "$T/ans.body" >/dev/null || break
	sleep 0.1
done
jq -e '.status == "failed" and (.error | length) > 0' "$T/ans.body" >/dev/null ||
	fail "snapshot x without a ring: $(cat "$T/ans.body")"

python3 "$CHECK" "$SPEC" answers "$T/answers" || fail "an answer does not conform to docs/openapi.yaml"

# The checker is not a rubber stamp: an answer that breaks the document fails.
nsx curl -s -D "$T/bad.hdr" -o "$T/ans.body" -H 'Authorization: Bearer openapi-read-only-token' \
	"$URL/v1/node"
jq -c '.detail = ""' "$T/ans.body" >"$T/bad.body"
python3 "$CHECK" "$SPEC" answer GET /v1/node "$T/bad.hdr" "$T/bad.body" 2>/dev/null &&
	fail "an error with an empty detail passed the check"
sed 's/^HTTP\/1.1 503/HTTP\/1.1 418/' "$T/bad.hdr" >"$T/bad2.hdr"
python3 "$CHECK" "$SPEC" answer GET /v1/node "$T/bad2.hdr" "$T/ans.body" 2>/dev/null &&
	fail "an undocumented status passed the check"
echo "$n answers conform to docs/openapi.yaml; broken ones are caught"
echo "PASS"
