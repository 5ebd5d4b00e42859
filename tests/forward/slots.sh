#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# slots.sh - receivers that never read cannot lock others out. With 4
# receiver slots: 3 receivers that never read and 1 that reads slowly hold
# them while 3 MB go by. A well-behaved receiver that arrives then takes the
# slot of a non-reader (evicted) and gets every packet sent after it, byte
# for byte; the other non-readers are dropped after --send-timeout, and the
# slow reader, which keeps acknowledging bytes, is never dropped.
set -euo pipefail
NAME=slots
. "$(dirname "$0")/lib.sh"

# Small socket buffers, so that a receiver that does not read holds bytes quickly.
nsx sysctl -q -w net.ipv4.tcp_rmem="4096 16384 65536" net.ipv4.tcp_wmem="4096 16384 65536"
src_start
fwd_start fwd --plain --listen 127.0.0.1:5555 --max-clients 4 --send-timeout 8s \
	--client-buffer 600Ki

# 3 non-readers and a slow reader; at the end, say which ones the forwarder closed.
nsx python3 - "$TMP/peers.out" "$TMP/done" <<'PY' &
import os, socket, sys, time
out, done = sys.argv[1:3]
def conn():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", 5555))
    return s
idle = [conn() for _ in range(3)]
slow = conn()
slow.settimeout(0.2)
got, end = 0, time.time() + 60
while time.time() < end and not os.path.exists(done): # the slow reader: 2 KB every 100 ms
    try:
        got += len(slow.recv(2048))
    except socket.timeout:
        pass
    time.sleep(0.1)
def closed(s):                  # drain what is buffered; EOF or reset means the server closed it
    s.settimeout(0.5)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
with open(out, "w") as f:
    f.write("idle_closed=%d slow_closed=%d slow_bytes=%d\n"
            % (sum(closed(s) for s in idle), closed(slow), got))
PY
PEERS=$!
PIDS+=($PEERS)
wait_until 10 log_has "$TMP/fwd.err" "connected" 4

src_send 3000 1000 # 3 MB: far more than the non-readers' buffers take
sleep 3            # > 2 s without a byte acknowledged: evictable
ip netns exec "$NS" dumpcap -q -i TCP@127.0.0.1:5555 -w "$TMP/good.pcapng" 2>"$TMP/dumpcap.err" &
DC=$!
PIDS+=($DC)
wait_until 10 log_has "$TMP/fwd.err" "connected" 5
log_has "$TMP/fwd.err" "evicted" || fail "no non-reader was evicted to make room"
sleep 0.5
src_send 300 500
WANT=$LAST_SENT
wait_until 20 log_has "$TMP/fwd.err" "took no data in time" 2
touch "$TMP/done"
wait "$PEERS" || fail "peer script failed"
kill "$FWD_PID"; wait "$FWD_PID" || true
wait_until 10 bash -c "! kill -0 $DC 2>/dev/null"

same_packets "$WANT" "$TMP/good.pcapng" ||
	fail "the well-behaved receiver got $(pkts "$TMP/good.pcapng") packets, not the 300 sent after it"
echo "the receiver that arrived while 4 slots were held got its 300 packets byte for byte"
cat "$TMP/peers.out"
grep -q "idle_closed=3 slow_closed=0" "$TMP/peers.out" ||
	fail "the forwarder should have closed the 3 non-readers and kept the slow reader"
stats=$(tail -1 "$TMP/fwd.err")
echo "$stats"
grep -q "1 evicted" <<<"$stats" || fail "stats: not 1 evicted"
grep -q "2 timed out" <<<"$stats" || fail "stats: not 2 timed out"
echo "PASS"
