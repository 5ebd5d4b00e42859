#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# emfile.sh - accept(2) out of file descriptors backs off instead of
# spinning. rawcap-forward runs under an RLIMIT_NOFILE that leaves room for
# two receivers and one more socket: the third receiver is accepted but its
# cursor cannot be opened (it waits for a descriptor), the fourth waits in
# the listen backlog. For 3 s every accept(2) fails with EMFILE: the
# forwarder must retry a handful of times (backoff 50 ms doubling to 1 s),
# not thousands (a readable listener polled in a loop), and say so once.
# When two receivers leave, both waiting ones are served: the well-behaved
# receiver among them gets its packets byte for byte.
set -euo pipefail
NAME=emfile
. "$(dirname "$0")/lib.sh"
command -v prlimit >/dev/null || { echo "SKIP: prlimit missing"; exit 77; }

lowest_free_fd() { # PID: the number the process's next descriptor gets
	python3 -c 'import os, sys; used = {int(f) for f in os.listdir("/proc/%s/fd" % sys.argv[1])}
print(min(set(range(len(used) + 1)) - used))' "$1"
}
accept_failures() { sed -n 's/.* \([0-9]*\) accept failures.*/\1/p' "$1" | tail -1; }

src_start
# How many descriptors does the forwarder hold with two receivers?
fwd_start probe --plain --listen 127.0.0.1:5555
nsx python3 -c '
import os, socket, time
s = [socket.create_connection(("127.0.0.1", 5555)) for _ in range(2)]
end = time.time() + 30
while not os.path.exists("'"$TMP/probed"'") and time.time() < end:
    time.sleep(0.05)' &
PROBE=$!
PIDS+=($PROBE)
wait_until 10 log_has "$TMP/probe.err" "connected" 2
next=$(lowest_free_fd "$FWD_PID")
touch "$TMP/probed"
wait "$PROBE" || true
kill "$FWD_PID"; wait "$FWD_PID" || true
# RLIMIT_NOFILE bounds descriptor numbers: a third receiver's socket gets
# number $next and fits; opening its cursor needs one more and does not.
LIMIT=$((next + 1))
echo "forwarder with two receivers: next descriptor $next; RLIMIT_NOFILE $LIMIT"

ip netns exec "$NS" prlimit --nofile=$LIMIT:$LIMIT "$FWD" --ring "$RING" --plain \
	--listen 127.0.0.1:5556 2>"$TMP/fwd.err" &
FWD_PID=$!
PIDS+=($FWD_PID)
wait_until 5 log_has "$TMP/fwd.err" "listening on"

# Two receivers take the descriptors; two more wait in the backlog, the last is dumpcap.
nsx python3 - "$TMP/go" <<'PY' &
import os, socket, sys, time
held = [socket.create_connection(("127.0.0.1", 5556)) for _ in range(2)]
time.sleep(0.5)
more = socket.create_connection(("127.0.0.1", 5556))
end = time.time() + 60
while not os.path.exists(sys.argv[1]) and time.time() < end:
    time.sleep(0.05)
for s in held:
    s.close()
time.sleep(10)
PY
HOLD=$!
PIDS+=($HOLD)
wait_until 10 log_has "$TMP/fwd.err" "connected" 2
ip netns exec "$NS" dumpcap -q -i TCP@127.0.0.1:5556 -w "$TMP/late.pcapng" 2>"$TMP/dumpcap.err" &
DC=$!
PIDS+=($DC)
wait_until 10 log_has "$TMP/fwd.err" "Too many open files"
log_has "$TMP/fwd.err" "connected" 3 && fail "a third receiver was served without a descriptor for its cursor"
t0=$(awk '{print $14 + $15}' "/proc/$FWD_PID/stat")
sleep 3
t1=$(awk '{print $14 + $15}' "/proc/$FWD_PID/stat")
echo "forwarder CPU while out of descriptors: $((t1 - t0)) ticks in 3 s"
[ "$(count_in "$TMP/fwd.err" "Too many open files")" = 1 ] || fail "EMFILE logged more than once"

touch "$TMP/go" # two receivers leave: the backlog is accepted
wait_until 15 log_has "$TMP/fwd.err" "accepting receivers again"
wait_until 15 log_has "$TMP/fwd.err" "connected" 4
sleep 0.5
src_send 200 300
WANT=$LAST_SENT
sleep 1
kill "$FWD_PID"; wait "$FWD_PID" || true
wait_until 10 bash -c "! kill -0 $DC 2>/dev/null"
n=$(accept_failures "$TMP/fwd.err")
echo "accept(2) failed $n times while the forwarder was out of descriptors"
[ -n "$n" ] && [ "$n" -ge 2 ] || fail "no accept failure counted: $(tail -1 "$TMP/fwd.err")"
# 3+ s of backoff capped at 1 s is under 10 retries; a spinning loop makes thousands.
[ "$n" -le 30 ] || fail "accept(2) was retried $n times: the listener spins"
same_packets "$WANT" "$TMP/late.pcapng" ||
	fail "the receiver that waited in the backlog got $(pkts "$TMP/late.pcapng") packets, not 200"
echo "the receiver that waited out EMFILE got its 200 packets byte for byte"
echo "PASS"
