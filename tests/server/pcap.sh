#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pcap.sh - rawcap-server against the real capd in a private namespace, curl
# as the client: GET /v1/pcap of a window is byte for byte what rawcap-pcap
# writes for the same window (cmp), in both formats, and holds tcpdump's
# packets; GET /v1/node gives the data boundaries and capd's state; every
# bad input gets its error code and a JSON body; --max-exports gives 429;
# a client that disconnects stops its export; plain HTTP off loopback is
# refused; /metrics counts requests by endpoint and code.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
start_capd

# Plain HTTP off loopback is refused before anything is bound.
rc=0
nsx "$SERVER" --listen 0.0.0.0:$PORT --ring "$RING" --snapshots "$T/snaps" 2>"$T/refuse.out" || rc=$?
[ "$rc" = 2 ] || fail "rawcap-server on 0.0.0.0 exited $rc, expected 2"
grep -q "refusing to serve plain HTTP on 0.0.0.0:$PORT" "$T/refuse.out" ||
	fail "no clear refusal: $(cat "$T/refuse.out")"
echo "non-loopback without TLS: refused ($(cat "$T/refuse.out"))"

start_server --max-exports 2
make_window

# --- GET /v1/pcap, both formats: byte for byte rawcap-pcap's output.
Q="from=$T0&to=$T1"
code=$(nsx curl -s -o "$T/got.pcapng" -D "$T/got.hdr" -w '%{http_code}' -G "$URL/v1/pcap" \
	--data-urlencode "from=$T0" --data-urlencode "to=$T1" --data-urlencode "filter=$F")
[ "$code" = 200 ] || fail "GET /v1/pcap: $code $(cat "$T/got.pcapng")"
cmp "$T/got.pcapng" "$T/ref-pcap.pcapng" || fail "downloaded pcapng differs from rawcap-pcap's"
same_packets "$T/got.pcapng"
echo "GET /v1/pcap: $(stat -c %s "$T/got.pcapng") bytes, identical to rawcap-pcap's; $nref packets, as tcpdump's"
grep -qi '^Content-Type: application/x-pcapng' "$T/got.hdr" || fail "Content-Type: $(cat "$T/got.hdr")"
grep -qi '^Transfer-Encoding: chunked' "$T/got.hdr" || fail "not chunked"
grep -qiE '^Content-Disposition: attachment; filename="n1_[0-9]{8}T[0-9]{6}Z_[0-9]{8}T[0-9]{6}Z\.pcapng"' \
	"$T/got.hdr" || fail "Content-Disposition: $(cat "$T/got.hdr")"
for h in X-Rawcap-Node X-Rawcap-Window-From X-Rawcap-Window-To X-Rawcap-Held-From X-Rawcap-Held-To; do
	grep -qi "^$h: " "$T/got.hdr" || fail "no $h header"
done
grep -qi '^X-Rawcap-Missing-From' "$T/got.hdr" && fail "nothing is missing, yet X-Rawcap-Missing-From"

"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" --filter "$F" --format pcap \
	-q -o - 2>/dev/null | cat >"$T/ref-pcap.pcap"
code=$(nsx curl -s -o "$T/got.pcap" -D "$T/gotc.hdr" -w '%{http_code}' -G "$URL/v1/pcap" \
	--data-urlencode "from=$T0" --data-urlencode "to=$T1" --data-urlencode "filter=$F" \
	--data-urlencode format=pcap)
[ "$code" = 200 ] || fail "GET /v1/pcap format=pcap: $code"
cmp "$T/got.pcap" "$T/ref-pcap.pcap" || fail "downloaded pcap differs from rawcap-pcap's"
grep -qi '^Content-Type: application/vnd.tcpdump.pcap' "$T/gotc.hdr" || fail "pcap Content-Type"
echo "GET /v1/pcap format=pcap: identical to rawcap-pcap's"

# --- GET /v1/node
nsx curl -sf "$URL/v1/node" >"$T/node.json" || fail "GET /v1/node failed"
t0ns=$(python3 -c "import sys; print(int(float('$T0') * 1e9))" 2>/dev/null || echo 0)
jq -e --argjson t0 "$t0ns" '.node == "n1" and .ring == "'"$RING"'" and .generation >= 1 and
	(.oldest_ns | type) == "number" and .oldest_ns <= $t0 and .newest_ns > $t0 and
	(.oldest | test("^[0-9-]+T[0-9:]+\\.[0-9]{9}Z$")) and .packets >= 2000 and
	.capd.running == true and .capd.pid > 0 and (.loss | has("kernel_drop")) and
	.storage.dir == "'"$FIFO"'" and .storage.size > 0' "$T/node.json" >/dev/null ||
	fail "GET /v1/node: $(cat "$T/node.json")"
echo "GET /v1/node: $(jq -c '{oldest, newest, packets, capd}' "$T/node.json")"

# --- errors: code and JSON body.
expect 400 bad_query "$URL/v1/pcap?from=yesterday-ish"
expect 400 bad_query "$URL/v1/pcap?from=$T1&to=$T0"
expect 400 bad_query "$URL/v1/pcap?$Q&filter=tcp%20port%20nope"
expect 400 bad_query "$URL/v1/pcap?$Q&format=erf"
expect 400 bad_query "$URL/v1/pcap?$Q&snaplen=4"
expect 400 bad_query "$URL/v1/pcap?$Q&color=blue"
expect 400 bad_query "$URL/v1/pcap?from=$T0&from=$T0"
expect 400 bad_query "$URL/v1/pcap?last=5m&from=$T0"
expect 400 bad_query "$URL/v1/pcap?last=soon"
# zero is refused in words that hold for zero, not with a range it lies inside
expect 400 bad_query "$URL/v1/pcap?last=0s"
jq -e '.detail | startswith("bad last '"'0s'"': a duration longer than 0 is needed")' \
	"$T/err.json" >/dev/null || fail "last=0s: $(cat "$T/err.json")"
expect 400 bad_query "$URL/v1/pcap?from=0"
jq -e '.detail | startswith("bad from '"'0'"': a time after 1970-01-01T00:00:00Z is needed")' \
	"$T/err.json" >/dev/null || fail "from=0: $(cat "$T/err.json")"
expect 404 not_found "$URL/v1/nothing"
expect 405 method_not_allowed -X POST "$URL/v1/node"
expect 414 query_too_long "$URL/v1/pcap?filter=$(head -c 5000 /dev/zero | tr '\0' a)"
grep -q "bad_query" "$T/err.json" && fail "414 body"
echo "errors: 400 (time, order, filter, format, snaplen, unknown, repeated, last, zero), 404, 405, 414"

# A ring that does not exist: 503 no_ring.
ip netns exec "$NS" "$SERVER" --listen 127.0.0.1:$((PORT + 1)) --ring "nope$$" --snapshots "$T/snaps" \
	2>"$T/server2.err" &
PIDS+=("$!")
for _ in $(seq 100); do nsx curl -s "127.0.0.1:$((PORT + 1))/healthz" >/dev/null && break; sleep 0.1; done
expect 503 no_ring "127.0.0.1:$((PORT + 1))/v1/node"
expect 503 no_ring "127.0.0.1:$((PORT + 1))/v1/pcap"
echo "no ring: 503"

# --- --max-exports 2: two downloads of a window that ends in 60 s run; a third gets 429.
for i in 1 2; do
	ip netns exec "$NS" curl -s -N -o "$T/slow$i.pcapng" "$URL/v1/pcap?from=$T0&to=%2B60s" 2>/dev/null &
	SLOW[$i]=$!
	PIDS+=("${SLOW[$i]}")
done
running() { nsx curl -s "$URL/metrics" | awk '/^rawcap_server_exports_running/ {print $2}'; }
for _ in $(seq 100); do [ "$(running)" = 2 ] && break; sleep 0.1; done
[ "$(running)" = 2 ] || fail "two exports should be running: $(running)"
code=$(nsx curl -s -D "$T/429.hdr" -o "$T/err.json" -w '%{http_code}' "$URL/v1/pcap?$Q")
[ "$code" = 429 ] || fail "third export: $code, expected 429"
grep -qi '^Retry-After: ' "$T/429.hdr" || fail "429 without Retry-After"
jq -e '.error == "too_many_exports"' "$T/err.json" >/dev/null || fail "429 body $(cat "$T/err.json")"
echo "--max-exports 2: the third download gets 429 with Retry-After"

# Clients that disconnect stop their exports (they wait for a window ending in 60 s).
kill "${SLOW[1]}" "${SLOW[2]}"
for _ in $(seq 100); do [ "$(running)" = 0 ] && break; sleep 0.1; done
[ "$(running)" = 0 ] || fail "exports still running after their clients left: $(running)"
echo "disconnect: both exports stopped"
code=$(nsx curl -s -o /dev/null -w '%{http_code}' "$URL/v1/pcap?$Q&filter=udp")
[ "$code" = 200 ] || fail "a download after the disconnects: $code"

# --- /metrics counts requests by endpoint and code.
nsx curl -s "$URL/metrics" >"$T/metrics.txt"
grep -q '^rawcap_server_requests_total{endpoint="/v1/pcap",code="200"} [1-9]' "$T/metrics.txt" ||
	fail "no 200 count for /v1/pcap: $(cat "$T/metrics.txt")"
grep -q '^rawcap_server_requests_total{endpoint="/v1/pcap",code="429"} 1$' "$T/metrics.txt" ||
	fail "no 429 count"
grep -q '^rawcap_server_bytes_streamed_total [1-9]' "$T/metrics.txt" || fail "no bytes streamed"

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "rawcap-server exited $? on SIGTERM"
kill -0 "$CAPD_PID" || fail "capd died"
echo "PASS"
