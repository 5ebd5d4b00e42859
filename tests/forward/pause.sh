#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pause.sh - dissection off and on at runtime without touching capture:
# SIGUSR1 pauses forwarding (nothing is sent, the ring keeps filling),
# SIGUSR2 resumes; --resume live skips what was captured meanwhile (and says
# so), --resume backlog delivers it. --paused starts paused.
set -euo pipefail
NAME=pause
. "$(dirname "$0")/lib.sh"
[ -x "$SINK" ] || { echo "SKIP: msgpack_sink not built"; exit 77; }

npk() { count_in "$1" "^P "; }
npk_is() { [ "$(npk "$1")" = "$2" ]; }
src_start
SENT=1; LAST_SENT=$TMP/sent-1.pcap
gen 100 300 "$LAST_SENT"
BATCH=$LAST_SENT

# --resume live (the default)
fwd_start live --plain --listen 127.0.0.1:5555 --format msgpack
LIVE=$FWD_PID
ip netns exec "$NS" "$SINK" --idle-exit 30000 127.0.0.1:5555 >"$TMP/s1.out" 2>"$TMP/s1.err" &
S1=$!; PIDS+=($S1)
wait_until 10 log_has "$TMP/s1.out" "^H "
feed "$BATCH"
wait_until 5 npk_is "$TMP/s1.out" 100
kill -USR1 "$LIVE"
wait_until 5 log_has "$TMP/s1.out" "^Z 1"
TB=$(date +%s.%N)
feed "$BATCH" # captured while paused
sleep 1
[ "$(npk "$TMP/s1.out")" = 100 ] || fail "paused, yet $(($(npk "$TMP/s1.out") - 100)) packets were sent"
# Capture went on: a second forwarder replays what the ring took meanwhile.
fwd_start check --plain --listen 127.0.0.1:5556 --from "$TB" --to now
timeout 15 ip netns exec "$NS" tshark -i TCP@127.0.0.1:5556 -w "$TMP/during.pcapng" >/dev/null 2>&1 || true
same_packets "$BATCH" "$TMP/during.pcapng" || fail "the ring did not keep capturing while forwarding was paused"
echo "paused: nothing sent, while the ring captured all 100 packets"
kill -USR2 "$LIVE"
wait_until 5 log_has "$TMP/s1.out" "^Z 0"
feed "$BATCH"
wait_until 5 npk_is "$TMP/s1.out" 200
sleep 0.5
[ "$(npk "$TMP/s1.out")" = 200 ] || fail "live resume delivered the paused backlog"
read -r _ gfirst gcount greason < <(grep "^G " "$TMP/s1.out") || fail "no skip notice"
[ "$greason" = 3 ] && [ "$gcount" = 100 ] || fail "skip notice says $gcount records, reason $greason"
echo "resume live: skipped exactly the 100 paused packets (reported as skipped, not lost)"

# --paused start, --resume backlog
fwd_start backlog --plain --listen 127.0.0.1:5557 --format msgpack --paused --resume backlog
ip netns exec "$NS" "$SINK" --idle-exit 30000 127.0.0.1:5557 >"$TMP/s2.out" 2>"$TMP/s2.err" &
S2=$!; PIDS+=($S2)
wait_until 10 log_has "$TMP/s2.out" "^H "
feed "$BATCH"
sleep 1
[ "$(npk "$TMP/s2.out")" = 0 ] || fail "--paused, yet packets were sent"
kill -USR2 "$FWD_PID"
feed "$BATCH"
wait_until 5 npk_is "$TMP/s2.out" 200
! grep -q "^G " "$TMP/s2.out" || fail "backlog resume reported a gap"
awk '$1 == "P" {print $2}' "$TMP/s2.out" | awk 'NR > 1 && $1 != prev + 1 {exit 1} {prev = $1}' ||
	fail "backlog resume: sequence numbers not contiguous"
echo "resume backlog: the 100 packets captured while paused, then the next 100, in order"
echo "PASS"
