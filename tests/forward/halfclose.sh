#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# halfclose.sh - rawcap-forward over plain TCP and a receiver that half-closes
# (shutdown(SHUT_WR) right after connecting, as `nc -N host port </dev/null`
# does): it sends nothing more but reads, and gets the whole window byte for
# byte; while it is half-closed the forwarder does not spin on its readable
# EOF; a msgpack receiver that half-closes after its HELLO gets every packet;
# a receiver that closes fully is dropped as closed once a send meets its
# reset. (TLS: tls.sh.)
set -euo pipefail
NAME=halfclose
. "$(dirname "$0")/lib.sh"

src_start
send_window 2000 1000
fwd_start fwd --listen 127.0.0.1:5555 --plain --from "$T1" --to "$T2"
halfclose_client 5555 "$TMP/half.pcapng" || fail "half-closing client failed"
n=$(pkts "$TMP/half.pcapng" || true)
[ "$n" = 2000 ] || fail "half-closed receiver got ${n:-no} packets, 2000 were sent"
same_packets "$WANT" "$TMP/half.pcapng" || fail "half-closed receiver: packet bytes differ"
wait_until 10 log_has "$TMP/fwd.err" "window delivered"
! log_has "$TMP/fwd.err" "closed the connection" || fail "the half-closed receiver was dropped as closed"
echo "a receiver that half-closed at once received all 2000 packets"
kill "$FWD_PID"; wait "$FWD_PID" || true

# msgpack: a receiver that half-closes right after its HELLO (so it sends no
# ACK) gets every packet and END, and ends as delivered.
fwd_start fwdm --listen 127.0.0.1:5558 --plain --format msgpack --from "$T1" --to "$T2"
timeout 25 ip netns exec "$NS" "$SINK" --stream hc --half-close --idle-exit 10000 127.0.0.1:5558 \
	>"$TMP/m.out" 2>"$TMP/m.err" || fail "msgpack sink failed: $(cat "$TMP/m.err")"
[ "$(count_in "$TMP/m.out" '^P ')" = 2000 ] || fail "half-closed msgpack receiver got $(count_in "$TMP/m.out" '^P ') packets, 2000 were sent"
log_has "$TMP/m.out" '^E ' || fail "half-closed msgpack receiver got no END"
wait_until 10 log_has "$TMP/fwdm.err" "window delivered"
! log_has "$TMP/fwdm.err" "closed the connection" || fail "the half-closed msgpack receiver was dropped as closed"
echo "a msgpack receiver that half-closed after its HELLO received all 2000 packets and END"
kill "$FWD_PID"; wait "$FWD_PID" || true

# Live: the half-closed receiver stays, and the forwarder sleeps in poll(2).
fwd_start fwd2 --listen 127.0.0.1:5556 --plain --from "$T1"
halfclose_client 5556 "$TMP/live.pcapng" &
HC=$!
PIDS+=($HC)
wait_until 10 log_has "$TMP/fwd2.err" ": connected"
sleep 1
t0=$(cpu_ticks "$FWD_PID")
sleep 3
t1=$(cpu_ticks "$FWD_PID")
echo "forwarder CPU with a half-closed receiver: $((t1 - t0)) ticks in 3 s (CLK_TCK $(getconf CLK_TCK))"
# A readable-at-EOF socket polled for POLLIN spins a core (~300 ticks).
[ $((t1 - t0)) -lt 60 ] || fail "the forwarder spins with a half-closed receiver: $((t1 - t0)) ticks in 3 s"
src_send 100 500
has_pkts() { [ "$(pkts "$1" || true)" -ge "$2" ] 2>/dev/null; }
wait_until 10 has_pkts "$TMP/live.pcapng" 2100
kill -0 "$HC" 2>/dev/null || fail "the half-closed live receiver was dropped"
echo "a half-closed live receiver stays connected, is fed, and the forwarder idles"
kill "$FWD_PID"; wait "$FWD_PID" || true
wait "$HC" || true

# A receiver that closes (reads a little, then close(2)) is dropped as closed
# once the next packets meet its reset.
fwd_start fwd3 --listen 127.0.0.1:5557 --plain --from "$T1"
timeout 15 ip netns exec "$NS" python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', 5557)); s.recv(1); s.close()" || fail "closing client failed"
src_send 100 500
wait_until 10 log_has "$TMP/fwd3.err" "receiver closed the connection"
echo "a receiver that closed is dropped as closed"
kill "$FWD_PID"; wait "$FWD_PID" || true
echo "PASS"
