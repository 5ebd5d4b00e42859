#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# liveness.sh - readers tell a dead capd from a live one (librawcap's
# rawcap_writer_state): killed (SIGKILL: the kernel drops capd's writer lock),
# stopped (SIGTERM), hung (SIGSTOP: lock held, no heartbeat for 5 s). rawcap-stat
# never says "live (writer pid N)" for a capd that is gone, and readers that
# follow (rawcap-pcap --follow, rawcap-tap --follow) say once that capd is not
# running, keep waiting, say once that it is back, and carry on with what the
# restarted capd captures.
set -euo pipefail
TNAME=live
. "$(dirname "$0")/lib.sh"
STAT=$RAWCAP_BUILD/readers/rawcap-stat
N=500

state() { "$STAT" --ring "$RING" --interval 0 | sed -n 's/^state *//p'; }
# wait_for FILE PATTERN: up to 15 s for a line to appear.
wait_for() {
	for _ in $(seq 150); do grep -q "$2" "$1" && return 0; sleep 0.1; done
	fail "no '$2' in $1: $(cat "$1")"
}
wait_state() { # wait_state PATTERN: rawcap-stat's state line, within 15 s
	local s
	for _ in $(seq 150); do
		s=$(state)
		grep -q "$1" <<<"$s" && { echo "rawcap-stat: state $s"; return 0; }
		sleep 0.1
	done
	fail "rawcap-stat state '$s', want '$1'"
}

start_capd "$TMP/capd1.log" --ring-size 4Mi --interfaces lo --filter "udp port 9999"
wait_state "^live (writer pid $CAPD_PID,"
"$RAWCAP_BUILD/readers/rawcap-pcap" --ring "$RING" --follow -o "$TMP/follow.pcapng" \
	2>"$TMP/pcap.err" &
PCAP=$!
PIDS+=("$PCAP")
"$RAWCAP_BUILD/readers/rawcap-tap" --ring "$RING" --follow >/dev/null 2>"$TMP/tap.err" &
TAP=$!
PIDS+=("$TAP")
sleep 1

kill -KILL "$CAPD_PID"
wait "$CAPD_PID" 2>/dev/null || true
wait_state "^not running (capd was killed or crashed;"
"$STAT" --ring "$RING" --json --interval 0 | grep -q '"state":"not running"' || fail "json state"
wait_for "$TMP/pcap.err" "capd is not running: it was killed or crashed.*waiting for it to restart"
wait_for "$TMP/tap.err" "capd is not running: it was killed or crashed.*waiting for it to restart"
kill -0 "$PCAP" && kill -0 "$TAP" || fail "a following reader gave up"

start_capd "$TMP/capd2.log" --ring-size 4Mi --interfaces lo --filter "udp port 9999"
wait_state "^live (writer pid $CAPD_PID,"
wait_for "$TMP/pcap.err" "capd is running again"
wait_for "$TMP/tap.err" "capd is running again"
nsx "$TRAFFIC" udp 127.0.0.1 9999 $N 0 >/dev/null

kill -STOP "$CAPD_PID"
wait_state "^not responding (capd holds the ring but does not beat;"
kill -CONT "$CAPD_PID"
wait_state "^live"

stop_capd "$TMP/capd2.log"
wait_state "^stopped (capd exited;"
wait_for "$TMP/pcap.err" "capd is not running: it stopped"
kill -TERM "$PCAP" "$TAP"
wait "$PCAP" || fail "rawcap-pcap --follow did not end cleanly"
wait "$TAP" 2>/dev/null || true
got=$(tcpdump -nr "$TMP/follow.pcapng" udp port 9999 2>/dev/null | wc -l)
echo "rawcap-pcap --follow across the restart: $got of $N datagrams sent to the restarted capd"
[ "$got" = $N ] || fail "the following reader did not carry on after the restart"
echo "--- rawcap-pcap said:"
cat "$TMP/pcap.err"
echo "PASS"
