#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# s3.sh - POST /v1/snapshots/NAME/upload and POST /v1/snapshots/download
# against the real capd and the S3 test server (tests/s3/server.js: s3rver
# behind a SigV4-verifying front) on the loopback of a private namespace:
# create a snapshot -> upload (202, poll "transfer" until completed) ->
# delete it locally -> download (202, poll) -> it verifies and its export is
# byte for byte the original's. Credentials reach only rawcap-server's
# environment (random per run) and never show in an answer or its log.
# Bad input: no such snapshot 404, bad URL or body 400, a taken name 409;
# a download of what is not there fails saying why, and DELETE forgets it.
# An upload of a name being downloaded is 409. --snapshot-quota holds while
# a download runs: one that does not fit fails saying so and leaves nothing
# (not on disk, not staged, not listed as a snapshot); one that fits completes.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
S3DIR=$(cd "$(dirname "$0")/../s3" && pwd)
command -v node >/dev/null || { echo "SKIP: node missing"; exit 77; }
bash "$S3DIR/setup.sh" >"$T/setup.log" 2>&1 || fail "npm packages of the S3 test server: $(tail -3 "$T/setup.log")"

for v in AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
	AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_REGION \
	AWS_DEFAULT_REGION AWS_CONFIG_FILE; do
	unset "$v"
done
export HOME=$T
AWS_ACCESS_KEY_ID=AKIA$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
AWS_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr '+/' 'xy')
S3_PORT=9000
S3=s3://bkt/cluster/n1

start_capd
ip netns exec "$NS" env S3_TEST_ACCESS_KEY="$AWS_ACCESS_KEY_ID" S3_TEST_SECRET_KEY="$AWS_SECRET_ACCESS_KEY" \
	node "$S3DIR/server.js" --dir "$T/store" --port $S3_PORT --bucket bkt --log "$T/s3.log" \
	>"$T/s3.err" 2>&1 &
S3_PID=$!
PIDS+=($!)
for _ in $(seq 300); do grep -q '^ready' "$T/s3.err" && break; sleep 0.1; done
grep -q '^ready' "$T/s3.err" || fail "S3 test server did not start: $(cat "$T/s3.err")"
# The server's credentials and endpoint come from its environment only.
AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
	AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT start_server
make_window

post() { # PATH BODY: status code out, body in $T/post.json
	nsx curl -s -o "$T/post.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary "$2" "$URL$1"
}
# wait_transfer NAME OP: until its transfer is no longer running; its status out.
wait_transfer() {
	local st
	for _ in $(seq 600); do
		nsx curl -s "$URL/v1/snapshots/$1" >"$T/get.json"
		st=$(jq -r --arg op "$2" 'if .transfer.op == $op then .transfer.status else "none" end' "$T/get.json")
		case $st in uploading | downloading) ;; *) echo "$st"; return ;; esac
		sleep 0.1
	done
	echo timeout
}

body=$(jq -cn --arg f "$T0" --arg t "$T1" --arg e "$F" '{name: "s1", from: $f, to: $t, filter: $e}')
[ "$(post /v1/snapshots "$body")" = 202 ] || fail "POST /v1/snapshots: $(cat "$T/post.json")"
for _ in $(seq 300); do
	[ "$(nsx curl -s "$URL/v1/snapshots/s1" | jq -r .status)" = completed ] && break
	sleep 0.1
done
"$PCAP" --snapshot "$T/snaps/s1" --format pcap -q -o "$T/orig.pcap" || fail "export of s1"
[ "$(count "$T/orig.pcap")" = "$nref" ] || fail "s1 holds $(count "$T/orig.pcap") of $nref packets"
same_packets "$T/orig.pcap"

# Upload: 202 at once, then the transfer in GET until completed.
code=$(post /v1/snapshots/s1/upload "{\"to\": \"$S3\"}")
[ "$code" = 202 ] || fail "upload: $code $(cat "$T/post.json")"
jq -e '.name == "s1" and .status == "uploading"' "$T/post.json" >/dev/null || fail "upload body $(cat "$T/post.json")"
st=$(wait_transfer s1 upload)
[ "$st" = completed ] || fail "upload ended $st: $(cat "$T/get.json")"
jq -e '.status == "completed" and .transfer.bytes > 0 and .transfer.bytes == .transfer.bytes_total' \
	"$T/get.json" >/dev/null || fail "GET after upload: $(cat "$T/get.json")"
objs=$(find "$T/store/bkt" -path '*/cluster/n1/s1/*' -name '*._S3rver_object' | wc -l)
[ "$objs" -ge 2 ] || fail "the S3 server holds $objs objects of s1"
echo "upload: 202, completed, $(jq -r .transfer.bytes "$T/get.json") bytes, $objs objects"

# Bad input for upload.
expect 404 not_found -X POST -d "{\"to\": \"$S3\"}" "$URL/v1/snapshots/nope/upload"
for bad in '{}' '{"to": 5}' 'not json' '{"to": "http://bkt/x"}' '{"to": "s3://B!/x"}' \
	"{\"to\": \"$S3\", \"endpoint\": \"ftp://x\"}" \
	"{\"to\": \"$S3\", \"endpoint\": \"http://198.18.0.99:9000\"}" \
	"{\"to\": \"$S3\", \"regoin\": \"eu-west-1\"}" "{\"to\": \"$S3\", \"to\": \"$S3\"}"; do
	expect 400 bad_body -X POST --data-binary "$bad" "$URL/v1/snapshots/s1/upload"
done
# The server's own endpoint may be repeated; another one (where its signed
# requests would go) is refused above.
code=$(nsx curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary \
	"{\"to\": \"s3://bkt/again\", \"endpoint\": \"http://127.0.0.1:$S3_PORT\"}" "$URL/v1/snapshots/s1/upload")
[ "$code" = 202 ] || fail "upload naming the server's own endpoint: $code"
for _ in $(seq 1 120); do # bounded: 60 s
	st=$(nsx curl -s "$URL/v1/snapshots/s1" | jq -r '.transfer.status')
	[ "$st" = uploading ] || break
	sleep 0.5
done
[ "$st" = completed ] || fail "upload naming the server's own endpoint: $st"
echo "upload: 404 for no such snapshot, 400 for bad bodies, URLs and a foreign endpoint"

# Delete it here, download it back: 202, then completed, verified, the same bytes.
code=$(nsx curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/snapshots/s1")
[ "$code" = 204 ] || fail "DELETE s1: $code"
[ ! -e "$T/snaps/s1" ] || fail "s1 is still on disk"
code=$(post /v1/snapshots/download "{\"name\": \"s1\", \"from\": \"s3://bkt/cluster/n1\"}")
[ "$code" = 202 ] || fail "download: $code $(cat "$T/post.json")"
jq -e '.name == "s1" and .status == "downloading"' "$T/post.json" >/dev/null || fail "download body $(cat "$T/post.json")"
st=$(wait_transfer s1 download)
[ "$st" = completed ] || fail "download ended $st: $(cat "$T/get.json")"
jq -e --argjson n "$nref" '.status == "completed" and .packets == $n and .transfer.op == "download"' \
	"$T/get.json" >/dev/null || fail "GET after download: $(cat "$T/get.json")"
nsx curl -s -X POST "$URL/v1/snapshots/s1/verify" | jq -e '.ok == true' >/dev/null || fail "downloaded s1 does not verify"
"$PCAP" --snapshot "$T/snaps/s1" --format pcap -q -o "$T/back.pcap" || fail "export of the downloaded s1"
cmp "$T/orig.pcap" "$T/back.pcap" || fail "the downloaded snapshot exports other bytes"
nsx curl -s "$URL/v1/snapshots" | jq -e '[.snapshots[] | select(.name == "s1")] | length == 1' >/dev/null ||
	fail "s1 is not listed once: $(nsx curl -s "$URL/v1/snapshots")"
echo "download: 202, completed, verifies, its export is the original's byte for byte"

# Bad input for download: a name that exists, bad bodies.
expect 409 exists -X POST -d '{"name": "s1", "from": "s3://bkt/cluster/n1"}' "$URL/v1/snapshots/download"
for bad in '{"from": "s3://bkt/x"}' '{"name": "../x", "from": "s3://bkt/x"}' '{"name": "s9"}' \
	'{"name": "s9", "from": "bkt/x"}' '[]' '{"name": "s9", "from": "s3://bkt/x", "form": "x"}'; do
	expect 400 bad_body -X POST --data-binary "$bad" "$URL/v1/snapshots/download"
done
echo "download: 409 for a name that exists, 400 for bad bodies"

# A download of what is not there: a failed transfer that says why; DELETE forgets it.
[ "$(post /v1/snapshots/download '{"name": "s9", "from": "s3://bkt/cluster/n1"}')" = 202 ] ||
	fail "download of s9: $(cat "$T/post.json")"
st=$(wait_transfer s9 download)
[ "$st" = failed ] || fail "download of a missing snapshot ended $st"
jq -e '.status == "failed" and (.transfer.error | test("s9")) and (.error | length) > 0' "$T/get.json" >/dev/null ||
	fail "GET of a failed download: $(cat "$T/get.json")"
[ ! -e "$T/snaps/s9" ] || fail "a failed download left s9"
code=$(nsx curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/snapshots/s9")
[ "$code" = 204 ] || fail "DELETE of a failed download: $code"
expect 404 not_found "$URL/v1/snapshots/s9"
echo "download of a missing snapshot: failed ($(jq -r .transfer.error "$T/get.json")), forgotten by DELETE"

# An upload of a name being downloaded: 409, not 404 (the S3 server is
# stopped, so the download waits for its manifest).
code=$(nsx curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/snapshots/s1")
[ "$code" = 204 ] || fail "DELETE s1: $code"
kill -STOP "$S3_PID"
code=$(post /v1/snapshots/download "{\"name\": \"s1\", \"from\": \"s3://bkt/cluster/n1\"}")
[ "$code" = 202 ] || { kill -CONT "$S3_PID"; fail "download while stopped: $code $(cat "$T/post.json")"; }
code=$(nsx curl -s -o "$T/err.json" -w '%{http_code}' -X POST -d "{\"to\": \"$S3\"}" "$URL/v1/snapshots/s1/upload")
kill -CONT "$S3_PID"
[ "$code" = 409 ] && jq -e '.error == "in_progress"' "$T/err.json" >/dev/null ||
	fail "upload of a snapshot being downloaded: $code $(cat "$T/err.json")"
[ "$(wait_transfer s1 download)" = completed ] || fail "download after SIGCONT: $(cat "$T/get.json")"
size=$(jq -r .transfer.bytes_total "$T/get.json")
echo "upload of a snapshot being downloaded: 409 in_progress"

# --snapshot-quota while downloading: s1 does not fit in half its size.
quota_server() { # QUOTA: the server again, with that --snapshot-quota
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || fail "rawcap-server exited $? on SIGTERM"
	AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
		AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT start_server --snapshot-quota "$1"
}
code=$(nsx curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/snapshots/s1")
[ "$code" = 204 ] || fail "DELETE s1: $code"
[ "$size" -gt 0 ] || fail "no size for s1"
quota_server $((size / 2))
[ "$(post /v1/snapshots/download '{"name": "s1", "from": "s3://bkt/cluster/n1"}')" = 202 ] ||
	fail "download under the quota: $(cat "$T/post.json")"
st=$(wait_transfer s1 download)
[ "$st" = failed ] || fail "a download larger than the quota ended $st: $(cat "$T/get.json")"
jq -e '.status == "failed" and (.transfer.error | test("quota"))' "$T/get.json" >/dev/null ||
	fail "GET of a download over the quota: $(cat "$T/get.json")"
[ -z "$(ls -A "$T/snaps")" ] || fail "a download over the quota left $(ls -A "$T/snaps")"
nsx curl -s "$URL/v1/snapshots" | jq -e '[.snapshots[] | select(.status == "completed")] | length == 0' \
	>/dev/null || fail "listed after a download over the quota: $(nsx curl -s "$URL/v1/snapshots")"
echo "quota: a download larger than it fails ($(jq -r .transfer.error "$T/get.json")), nothing left"
quota_server $((size * 2 + (1 << 20)))
[ "$(post /v1/snapshots/download '{"name": "s1", "from": "s3://bkt/cluster/n1"}')" = 202 ] ||
	fail "download within the quota: $(cat "$T/post.json")"
[ "$(wait_transfer s1 download)" = completed ] || fail "download within the quota: $(cat "$T/get.json")"
nsx curl -s -X POST "$URL/v1/snapshots/s1/verify" | jq -e '.ok == true' >/dev/null ||
	fail "s1 downloaded within the quota does not verify"
[ "$(ls -A "$T/snaps")" = s1 ] || fail "left in the snapshot directory: $(ls -A "$T/snaps")"
echo "quota: a download that fits completes and verifies"

# No secret in any answer or in the server's log.
for f in "$T"/*.json "$T/server.err"; do
	! grep -qF -- "$AWS_SECRET_ACCESS_KEY" "$f" || fail "the secret key appears in $f"
done
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "rawcap-server exited $? on SIGTERM"
echo PASS
