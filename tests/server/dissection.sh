#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dissection.sh - PUT /v1/dissection switches rawcap-forward off and on at
# run time, capture untouched: capd, rawcap-forward (--control-dir) and
# rawcap-server (--control-dir) in one namespace, a msgpack receiver
# connected, UDP traffic. Off: the receiver gets no packet sent after the
# forwarder's 1 s check (waited 2 s), yet stays connected; on: packets flow
# again; a forwarder restarted while off stays off; a server restarted with
# another --dissection keeps the file's state; capd is the same process.
# GET's "forwarder" object (the forwarder's status file) follows: paused or
# forwarding and applied after each PUT (bounded wait, the time printed),
# receivers and counters, stale once the forwarder is killed, the stored
# state applied by a restarted one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FWD=$B/readers/rawcap-forward
SINK=$B/tests/msgpack_sink
[ -x "$SINK" ] || { echo "SKIP: msgpack_sink not built"; exit 77; }
CTL=$T/control
FPORT=5555

npk() { grep -c '^P ' "$1" 2>/dev/null || true; }
# wait_for SECONDS CMD...: CMD succeeds within SECONDS (every 0.1 s).
wait_for() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}
at_least() { [ "$(npk "$1")" -ge "$2" ]; }
udp() { nsx "$TRAFFIC" udp 127.0.0.1 9999 "$1" 0 >/dev/null 2>>"$T/udp.err" || fail "udp traffic failed"; }
# put ENABLED [RESUME]: PUT /v1/dissection, 200 and the state echoed back.
put() {
	local body="{\"enabled\": $1${2:+, \"resume\": \"$2\"}}"
	nsx curl -s -o "$T/put.json" -w '%{http_code}' -XPUT -d "$body" "$URL/v1/dissection" \
		>"$T/put.code"
	[ "$(cat "$T/put.code")" = 200 ] || fail "PUT $body: $(cat "$T/put.code") $(cat "$T/put.json")"
	jq -e --argjson e "$1" --arg r "${2:-live}" '.enabled == $e and .resume == $r' \
		"$T/put.json" >/dev/null || fail "PUT $body answered $(cat "$T/put.json")"
}
state() { nsx curl -s "$URL/v1/dissection" | jq -r '"\(.enabled) \(.resume)"'; }
# fwd JQ: the forwarder object of GET /v1/dissection satisfies JQ.
fwd() { nsx curl -s "$URL/v1/dissection" | jq -e ".forwarder | $1" >/dev/null; }
fwd_show() { nsx curl -s "$URL/v1/dissection" | jq -c .forwarder; }
# applied_after STATE: wait (bounded) until the forwarder says STATE and applied; print the ms.
applied_after() {
	local t0=$(date +%s%N)
	wait_for 10 fwd ".present and (.stale | not) and .applied and .state == \"$1\"" ||
		fail "the forwarder never said $1 and applied: $(fwd_show)"
	echo $((($(date +%s%N) - t0) / 1000000))
}
# Only the test's datagrams go out: the forwarder's own stream on lo stays out.
start_fwd() {
	ip netns exec "$NS" "$FWD" --ring "$RING" --listen 127.0.0.1:$FPORT --plain --format msgpack \
		--filter 'udp port 9999' --control-dir "$CTL" "$@" 2>>"$T/forward.err" &
	FWD_PID=$!
	PIDS+=("$FWD_PID")
}
# start_sink OUT: a receiver, connected (HELLO seen) before it returns.
start_sink() {
	local i
	for i in $(seq 50); do
		ip netns exec "$NS" "$SINK" 127.0.0.1:$FPORT --stream "s$RANDOM" --idle-exit 60000 \
			>"$1" 2>>"$T/sink.err" &
		SINK_PID=$!
		PIDS+=("$SINK_PID")
		wait_for 2 grep -q '^H ' "$1" && return 0
		kill "$SINK_PID" 2>/dev/null || true
	done
	fail "no receiver could connect to rawcap-forward"
}

start_capd
mkdir -m 0750 "$CTL"
start_server --control-dir "$CTL"
[ "$(state)" = "true live" ] || fail "no switch file: GET says $(state), not the default on"
start_fwd
start_sink "$T/s1.out"

udp 200
wait_for 10 at_least "$T/s1.out" 200 || fail "on: the receiver got $(npk "$T/s1.out") of 200 packets"
echo "on: the receiver gets the traffic ($(npk "$T/s1.out") packets)"
wait_for 5 fwd '.receivers == 1 and .packets >= 200 and .bytes > 0 and .state == "forwarding"' ||
	fail "forwarder object while on: $(fwd_show)"
[ "$(nsx curl -s "$URL/v1/dissection" | jq .forwarder.pid)" = "$FWD_PID" ] ||
	fail "forwarder pid: $(fwd_show), expected $FWD_PID"
[ "$(stat -c %a "$CTL/forwarder")" = 640 ] || fail "status file mode $(stat -c %a "$CTL/forwarder")"

put false
jq -e '.forwarder.present' "$T/put.json" >/dev/null || fail "PUT: no forwarder: $(cat "$T/put.json")"
echo "off: the forwarder says paused and applied $(applied_after paused) ms after the PUT"
[ "$(stat -c %a "$CTL/dissection")" = 640 ] || fail "switch file mode $(stat -c %a "$CTL/dissection")"
sleep 2 # the forwarder looks at the file once a second
wait_for 5 grep -q '^Z 1' "$T/s1.out" || fail "off: no pause notice in the receiver's stream"
n=$(npk "$T/s1.out")
udp 200
sleep 1.5
[ "$(npk "$T/s1.out")" = "$n" ] || fail "off: $(($(npk "$T/s1.out") - n)) packets still sent"
kill -0 "$SINK_PID" 2>/dev/null || fail "off: the receiver was disconnected"
[ "$(nsx curl -s "$URL/v1/node" | jq -c .dissection)" = '{"enabled":false,"resume":"live"}' ] ||
	fail "GET /v1/node: dissection $(nsx curl -s "$URL/v1/node" | jq -c .dissection)"
echo "off: nothing sent 2 s after PUT, the receiver still connected"

# A killed forwarder turns stale (its file stays, no longer rewritten), never applied.
kill -KILL "$FWD_PID"
wait "$FWD_PID" 2>/dev/null || true
kill "$SINK_PID" 2>/dev/null || true
wait_for 15 fwd '.present and .stale and (.applied | not)' ||
	fail "killed forwarder not stale: $(fwd_show)"
echo "killed forwarder: stale, not applied ($(fwd_show))"

# A forwarder restarted while off stays off, whatever its flags say.
start_fwd --dissection on
wait_for 10 fwd "(.stale | not) and .pid == $FWD_PID" || fail "restarted forwarder: $(fwd_show)"
fwd '.state == "paused" and .applied' || fail "restarted forwarder applied: $(fwd_show)"
start_sink "$T/s2.out"
udp 200
sleep 1.5
[ "$(npk "$T/s2.out")" = 0 ] || fail "restarted while off: $(npk "$T/s2.out") packets sent"
wait_for 5 fwd '.receivers == 1 and .packets == 0' || fail "restarted, receiver: $(fwd_show)"
echo "restart while off: the new forwarder stays off and says so (paused, applied)"

# A server restarted with another initial state keeps the file's.
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
start_server --control-dir "$CTL" --dissection on
[ "$(state)" = "false live" ] || fail "server restart: GET says $(state), not the file's off"

put true backlog
echo "on: the forwarder says forwarding and applied $(applied_after forwarding) ms after the PUT"
fwd '.resume == "backlog"' || fail "resume mode not applied: $(fwd_show)"
wait_for 5 grep -q '^Z 0' "$T/s2.out" || true # a receiver that joined paused may get no notice
n=$(npk "$T/s2.out")
udp 200
wait_for 10 at_least "$T/s2.out" $((n + 200)) ||
	fail "on again: the receiver got $(($(npk "$T/s2.out") - n)) of 200 new packets"
echo "on again (resume backlog): packets flow ($(npk "$T/s2.out") in all)"

# Bad requests change nothing.
expect 400 bad_body -XPUT -d '{"enabled": "yes"}' "$URL/v1/dissection"
expect 400 bad_body -XPUT -d '{"enabled": false, "resume": "later"}' "$URL/v1/dissection"
expect 400 bad_body -XPUT -d 'off' "$URL/v1/dissection"
expect 400 bad_body -XPUT -d '{"enabled": false, "resum": "backlog"}' "$URL/v1/dissection"
expect 400 bad_body -XPUT -d '{"enabled": false, "resume": "backlog\u0000x"}' "$URL/v1/dissection"
expect 405 method_not_allowed -XPOST -d '{"enabled": false}' "$URL/v1/dissection"
[ "$(state)" = "true backlog" ] || fail "bad PUTs changed the state to $(state)"

# Capture never restarted: the same capd, started once, is the one the server sees.
kill -0 "$CAPD_PID" 2>/dev/null || fail "capd is gone"
[ "$(grep -c 'capturing into ring' "$T/capd.err")" = 1 ] || fail "capd started more than once"
pid=$(nsx curl -s "$URL/v1/node" | jq -r .capd.pid)
[ "$pid" = "$CAPD_PID" ] || fail "GET /v1/node: capd pid $pid, expected $CAPD_PID"
echo "capd: pid $CAPD_PID throughout"
echo PASS
