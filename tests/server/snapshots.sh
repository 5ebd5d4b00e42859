#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# snapshots.sh - /v1/snapshots against the real capd in a private namespace:
# create (202, Location) -> poll until completed -> list -> download (byte
# for byte rawcap-pcap's export of the snapshot, tcpdump's packets) ->
# verify (ok; then not ok once a data file is damaged) -> delete (204, then
# 404). A snapshot outlives a server restart; a taken name is 409; bad
# bodies (unknown or repeated fields too: a typo must not widen the window;
# a NUL, raw or \u0000, that would cut a string short)
# are 400, an oversized one 413; deleting a snapshot being made cancels it
# (204, staging removed, slot back); one being downloaded is 409; one
# deleted by rawcap-snapshot under rawcap-pcap's export fails it.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
start_capd
start_server
make_window

post() { # BODY: POST /v1/snapshots, status code out, body in $T/post.json
	nsx curl -s -o "$T/post.json" -D "$T/post.hdr" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data-binary "$1" "$URL/v1/snapshots"
}
status() { nsx curl -s "$URL/v1/snapshots/$1" | jq -r .status; }

body=$(jq -cn --arg f "$T0" --arg t "$T1" --arg e "$F" '{name: "s1", from: $f, to: $t, filter: $e}')
code=$(post "$body")
[ "$code" = 202 ] || fail "POST /v1/snapshots: $code $(cat "$T/post.json")"
grep -qi '^Location: /v1/snapshots/s1' "$T/post.hdr" || fail "no Location: $(cat "$T/post.hdr")"
jq -e '.name == "s1" and .status == "in_progress"' "$T/post.json" >/dev/null ||
	fail "POST body $(cat "$T/post.json")"
for _ in $(seq 300); do
	st=$(status s1)
	[ "$st" != in_progress ] && break
	sleep 0.1
done
[ "$st" = completed ] || fail "snapshot s1 is $st: $(nsx curl -s "$URL/v1/snapshots/s1")"
nsx curl -s "$URL/v1/snapshots/s1" >"$T/s1.json"
jq -e --argjson n "$nref" '.packets == $n and .node == "n1" and .lost.reader == 0 and
	(.from_ns | type) == "number" and .manifest.name == "s1" and .filter == "'"$F"'"' \
	"$T/s1.json" >/dev/null || fail "GET /v1/snapshots/s1: $(cat "$T/s1.json")"
echo "create -> poll: completed, $nref packets"

# A taken name, bad bodies, an oversized body.
[ "$(post "$body")" = 409 ] || fail "a second s1 was not refused with 409"
jq -e '.error == "exists"' "$T/post.json" >/dev/null || fail "409 body $(cat "$T/post.json")"
for bad in '{"name": "../x", "last": "5m"}' '{"name": "s2", "from": 5}' 'not json' \
	'{"name": "s2", "last": "soon"}' '{"name": "s2", "last": "1m", "filter": "tcp port nope"}' \
	'{"last": "1m"}' '[1]' '{"name": "s2", "last": "1m", "fliter": "udp"}' \
	'{"name": "s2", "last": "1m", "pods": "web"}' '{"name": "s2", "last": "1m", "name": "s3"}' \
	'{"name": "s2\u0000x", "last": "1m"}' '{"name": "s2", "last": "1m", "filter": "udp\u0000 or tcp"}'; do
	[ "$(post "$bad")" = 400 ] || fail "$bad: not 400: $(cat "$T/post.json")"
	jq -e '.error == "bad_body" and (.detail | length) > 0' "$T/post.json" >/dev/null ||
		fail "$bad: body $(cat "$T/post.json")"
done
# a raw NUL: cJSON would end the name there too
printf '{"name": "s2\0x", "last": "1m"}' >"$T/nul.json"
[ "$(post @"$T/nul.json")" = 400 ] || fail "a raw NUL in a name: not 400: $(cat "$T/post.json")"
[ "$(nsx curl -s -o /dev/null -w '%{http_code}' "$URL/v1/snapshots/s2")" = 404 ] ||
	fail "a body with a NUL made snapshot s2"
[ "$(post "{\"name\": \"s2\", \"filter\": \"$(head -c 9000 /dev/zero | tr '\0' a)\"}")" = 413 ] ||
	fail "an oversized body was not refused with 413"
echo "409 for a taken name, 400 for bad bodies, 413 for an oversized one"

# It outlives the server.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "rawcap-server exited $? on SIGTERM"
start_server
nsx curl -s "$URL/v1/snapshots" >"$T/list.json"
jq -e '[.snapshots[] | select(.name == "s1" and .status == "completed")] | length == 1' \
	"$T/list.json" >/dev/null || fail "list after restart: $(cat "$T/list.json")"
echo "list after a server restart: s1 completed"

# Download: what rawcap-pcap makes of the same snapshot, tcpdump's packets.
# (its window, the default, given to rawcap-pcap: the same window gives the same bytes)
"$PCAP" --snapshot "$T/snaps/s1" --from "$(jq -r .from "$T/s1.json")" --to "$(jq -r .to "$T/s1.json")" \
	-q -o - 2>/dev/null | cat >"$T/ref-snap.pcapng"
code=$(nsx curl -s -o "$T/snap.pcapng" -w '%{http_code}' "$URL/v1/snapshots/s1/pcap")
[ "$code" = 200 ] || fail "GET /v1/snapshots/s1/pcap: $code"
cmp "$T/snap.pcapng" "$T/ref-snap.pcapng" || fail "snapshot download differs from rawcap-pcap's"
same_packets "$T/snap.pcapng"
echo "download: identical to rawcap-pcap --snapshot, $nref packets as tcpdump's"
expect 404 not_found "$URL/v1/snapshots/nope/pcap"

# Verify: intact, then damaged.
nsx curl -s -X POST "$URL/v1/snapshots/s1/verify" >"$T/verify.json"
jq -e '.name == "s1" and .ok == true' "$T/verify.json" >/dev/null || fail "verify: $(cat "$T/verify.json")"
seg=$(find "$T/snaps/s1/data" -type f | head -1)
chmod u+w "$seg"
printf 'XXXX' | dd of="$seg" bs=1 seek=100 conv=notrunc status=none
nsx curl -s -X POST "$URL/v1/snapshots/s1/verify" >"$T/verify.json"
jq -e '.ok == false and (.detail | length) > 0' "$T/verify.json" >/dev/null ||
	fail "verify of a damaged snapshot: $(cat "$T/verify.json")"
echo "verify: ok, then not ok once damaged ($(jq -r .detail "$T/verify.json"))"
expect 404 not_found -X POST "$URL/v1/snapshots/nope/verify"

# Delete: 204, then gone.
code=$(nsx curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/snapshots/s1")
[ "$code" = 204 ] || fail "DELETE: $code"
[ ! -e "$T/snaps/s1" ] || fail "s1 still on disk after DELETE"
expect 404 not_found "$URL/v1/snapshots/s1"
expect 404 not_found -X DELETE "$URL/v1/snapshots/s1"
echo "delete: 204, then 404"

# "last" works.
[ "$(post '{"name": "s3", "last": "1m"}')" = 202 ] || fail "POST last: $(cat "$T/post.json")"
for _ in $(seq 300); do [ "$(status s3)" != in_progress ] && break; sleep 0.1; done
[ "$(status s3)" = completed ] || fail "s3: $(nsx curl -s "$URL/v1/snapshots/s3")"
echo "last=1m: completed"

# A snapshot being made is cancelled by DELETE (204): its staging directory
# goes and its export slot comes back. Four jobs waiting for 2099 held every
# slot (429 for downloads) until restart, and DELETE answered 409.
for n in 1 2 3 4; do
	[ "$(post '{"name": "f'$n'", "from": "now", "to": "2099-01-01T00:00:00Z"}')" = 202 ] ||
		fail "POST f$n: $(cat "$T/post.json")"
done
expect 429 too_many_exports "$URL/v1/snapshots/s3/pcap"
ls -a "$T/snaps" | grep -q '^\.tmp-f1-' || fail "no staging directory for f1: $(ls -a "$T/snaps")"
for n in 1 2 3 4; do
	code=$(nsx curl -s -o "$T/del.json" -w '%{http_code}' -m 20 -X DELETE "$URL/v1/snapshots/f$n")
	[ "$code" = 204 ] || fail "DELETE f$n in progress: $code $(cat "$T/del.json")"
	expect 404 not_found "$URL/v1/snapshots/f$n"
done
! ls -a "$T/snaps" | grep -q '^\.tmp-' || fail "staging left after DELETE: $(ls -a "$T/snaps")"
code=$(nsx curl -s -o /dev/null -w '%{http_code}' "$URL/v1/snapshots/s3/pcap")
[ "$code" = 200 ] || fail "download after the cancels: $code (slots not given back)"
echo "DELETE while in progress: 204, staging removed, slots back"

# A snapshot being downloaded cannot be deleted (409) and its download stays
# whole: deleting its files under the export ended the body early, cleanly,
# a short file that said nothing of it. ~25 MB paced at 3 MB/s, more than
# the sockets buffer, so the export still reads when DELETE comes.
nsx "$TRAFFIC" tcp 127.0.0.1 9998 25000000 >/dev/null 2>"$T/tcp2.err" || fail "tcp traffic failed"
[ "$(post '{"name": "big", "last": "5s"}')" = 202 ] || fail "POST big: $(cat "$T/post.json")"
for _ in $(seq 300); do [ "$(status big)" != in_progress ] && break; sleep 0.1; done
[ "$(status big)" = completed ] || fail "big: $(nsx curl -s "$URL/v1/snapshots/big")"
nsx curl -s -o "$T/big-ref.pcapng" "$URL/v1/snapshots/big/pcap" || fail "download big"
[ "$(stat -c %s "$T/big-ref.pcapng")" -gt 20000000 ] || fail "big is $(stat -c %s "$T/big-ref.pcapng") bytes"
nsx curl -s --limit-rate 3M -o "$T/big-slow.pcapng" "$URL/v1/snapshots/big/pcap" &
slow=$!
for _ in $(seq 100); do # its first bytes: it is reading
	[ -s "$T/big-slow.pcapng" ] && break
	sleep 0.05
done
expect 409 in_progress -X DELETE "$URL/v1/snapshots/big"
wait "$slow" || fail "the paced download failed"
cmp -s "$T/big-slow.pcapng" "$T/big-ref.pcapng" || fail "the download during a DELETE is not whole"

# rawcap-snapshot delete from another process under rawcap-pcap's export
# of a copy (two 16 MiB segments): the export fails (exit 1, says the files
# were removed); it ended early with exit 0 and a well-formed, short file.
SNAPCLI=$(dirname "$PCAP")/rawcap-snapshot
cp -a "$T/snaps/big" "$T/snaps/bigcopy" || fail "no copy of big"
[ "$(ls "$T/snaps/bigcopy/data" | wc -l)" -ge 2 ] || fail "big has one segment"
mkfifo "$T/slow"
"$PCAP" --snapshot "$T/snaps/bigcopy" -o - >"$T/slow" 2>"$T/vanish.err" &
vp=$!
exec 7<"$T/slow"
head -c 4096 <&7 >/dev/null # it is exporting, and blocks on the full pipe
"$SNAPCLI" delete --dest "$T/snaps" bigcopy >/dev/null || fail "rawcap-snapshot delete bigcopy"
cat <&7 >"$T/vanish.pcapng"
exec 7<&-
set +e; wait "$vp"; rc=$?; set -e
[ "$rc" != 0 ] && grep -q removed "$T/vanish.err" ||
	fail "export of a snapshot deleted under it: exit $rc, $(stat -c %s "$T/vanish.pcapng") bytes: $(cat "$T/vanish.err")"
echo "a snapshot deleted under rawcap-pcap's export: exit $rc, said so"

code=$(nsx curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/snapshots/big")
[ "$code" = 204 ] || fail "DELETE big after its download: $code"
echo "DELETE during a download: 409, the download whole; after it: 204"

# A quota the snapshots already fill: 507 at once.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "rawcap-server exited $? on SIGTERM"
start_server --snapshot-quota 4096
[ "$(post '{"name": "s5", "last": "1m"}')" = 507 ] || fail "over quota: $(cat "$T/post.json")"
jq -e '.error == "quota_exceeded"' "$T/post.json" >/dev/null || fail "507 body $(cat "$T/post.json")"
echo "--snapshot-quota already used: 507"

kill -0 "$CAPD_PID" || fail "capd died"
echo "PASS"
