#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# self_first.sh - rawcap's own connections are left out of the capture from
# their first packets, without waiting for capd's periodic socket dump (up to
# a second, in which a forwarder replaying history or a snapshot upload
# would put megabytes of its own stream into the ring). capd captures the
# namespace's loopback with no filter; 3 MB of UDP are captured first. Then
# at once, two forwarders as capd's user replay them: one connects out to a
# sink (its SYN is looked up: capd finds the socket it comes from), one
# listens and a client connects (its first packet after the handshake is
# looked up; the listener is younger than the last dump, so the client's
# SYN asks whose listener it reaches). tcpdump records both streams; the
# ring holds none of the outgoing one's packets and, of the listening
# one's, at most the handshake's SYN and SYN-ACK.
set -euo pipefail
NAME=selffirst
. "$(dirname "$0")/lib.sh"
rc_need setpriv
PCAP=$B/readers/rawcap-pcap
USER_=nobody
GROUP_=$(id -gn "$USER_")
AS_USER=(setpriv --reuid="$USER_" --regid="$GROUP_" --clear-groups)
OUT_PORT=57013 IN_PORT=57014
count() { tcpdump -r "$1" -n "${@:2}" 2>/dev/null | wc -l; }

capd_start "$NS" "$TMP/capd.err" --ring "$RING" --ring-size 32Mi --interfaces lo --user "$USER_"
T0=$(date +%s.%N)
nsx python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(bytes([i % 251]) * 1000, ("127.0.0.1", 9))'
sleep 0.3
ip netns exec "$NS" tcpdump -i lo -B 16384 -U -w "$TMP/ref.pcap" \
	"tcp port $OUT_PORT or tcp port $IN_PORT" 2>"$TMP/tcpdump.err" &
TD=$!
PIDS+=($TD)
wait_until 5 log_has "$TMP/tcpdump.err" listening

# reader listen|connect PORT OUT: read up to 3 MB (or until 3 s of silence), write the count to
# OUT. As root: not rawcap's. A listener says it is ready in OUT.ready.
cat >"$TMP/reader.py" <<'PY'
import socket, sys
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "listen":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port)); l.listen(1); l.settimeout(20)
    open(out + ".ready", "w").close()
    c, _ = l.accept()
else:
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
c.settimeout(3); n = 0
try:
    while n < 3000000:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
except socket.timeout:
    pass
open(out, "w").write(str(n))
PY
ip netns exec "$NS" python3 "$TMP/reader.py" listen "$OUT_PORT" "$TMP/sink.bytes" &
SINK_PID=$!
PIDS+=($SINK_PID)
wait_until 10 test -e "$TMP/sink.bytes.ready" # a refused connection is no one's to exclude
ip netns exec "$NS" "${AS_USER[@]}" "$FWD" --ring "$RING" --plain --from "$T0" \
	--connect "127.0.0.1:$OUT_PORT" 2>"$TMP/fwd-out.err" &
FWD_OUT=$!
PIDS+=($FWD_OUT)
ip netns exec "$NS" "${AS_USER[@]}" "$FWD" --ring "$RING" --plain --from "$T0" \
	--listen "127.0.0.1:$IN_PORT" 2>"$TMP/fwd-in.err" &
FWD_IN=$!
PIDS+=($FWD_IN)
wait_until 10 log_has "$TMP/fwd-in.err" "listening on"
nsx python3 "$TMP/reader.py" connect "$IN_PORT" "$TMP/client.bytes"
wait "$SINK_PID" || true
kill "$FWD_OUT" "$FWD_IN"
wait "$FWD_OUT" "$FWD_IN" 2>/dev/null || true
sleep 0.5
T1=$(date +%s.%N)
rc_tcpdump_stop "$TD" "$TMP/ref.pcap" "$TMP/tcpdump.err" any
capd_stop "$TMP/capd.err"

out_got=$(cat "$TMP/sink.bytes" 2>/dev/null || echo 0)
in_got=$(cat "$TMP/client.bytes")
out_ref=$(count "$TMP/ref.pcap" "tcp port $OUT_PORT")
in_ref=$(count "$TMP/ref.pcap" "tcp port $IN_PORT")
echo "the sink got $out_got bytes, the client $in_got; tcpdump saw $out_ref and $in_ref packets"
[ "$out_got" -ge 1000000 ] && [ "$in_got" -ge 1000000 ] || fail "the forwarders did not stream"
"$PCAP" --ring "$RING" --from "$T0" --to "$T1" --format pcap -q -o "$TMP/ring.pcap" ||
	fail "rawcap-pcap failed"
# The connection that carried the stream (its retries once the sink closed were refused:
# no socket is left by the time capd looks, and none of them carries a byte).
conn=$(tcpdump -r "$TMP/ref.pcap" -nn "tcp dst port $OUT_PORT and greater 1000" 2>/dev/null |
	sed -n '1s/.* 127\.0\.0\.1\.\([0-9]*\) > .*/\1/p')
[ -n "$conn" ] || fail "tcpdump saw no stream to the sink"
out_ring=$(count "$TMP/ring.pcap" "tcp port $OUT_PORT and port $conn")
in_ring=$(count "$TMP/ring.pcap" "tcp port $IN_PORT and tcp[tcpflags] & tcp-syn == 0")
echo "in the ring: $out_ring packets of the outgoing stream," \
	"$in_ring of the incoming one past its handshake"
[ "$out_ring" = 0 ] || fail "the ring holds $out_ring packets of the forwarder's outgoing stream"
[ "$in_ring" = 0 ] || fail "the ring holds $in_ring packets of the listening forwarder's stream"
line=$(grep "capd: final:" "$TMP/capd.err")
lookups=$(sed -n 's/.* self_lookups=\([0-9]*\).*/\1/p' <<<"$line")
[ "${lookups:-0}" -ge 2 ] || fail "capd looked up ${lookups:-no} connections: $line"
echo "capd looked up $lookups connections"
echo "PASS"
