#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# follow.sh - `rawcap-pcap --follow -o - | tshark -r -` sees packets sent
# after it started, within a second. The ring is fed live from tcpdump on
# the namespace's loopback (tcpdump -U -w - | pktwriter), a capd stand-in.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

netns_up
mkfifo "$T/live"
# --immediate-mode: no kernel block timeout (up to 1 s) in the stand-in's path.
ip netns exec "$NS" tcpdump -i lo -s 0 -U --immediate-mode -w "$T/live" udp 2>/dev/null &
PIDS+=($!)
"$PKTW" "$RING" - <"$T/live" >/dev/null &
PIDS+=($!)
# One long-lived sender (a python start-up per packet is slow on a busy machine).
mkfifo "$T/cmd"
ip netns exec "$NS" python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for line in open(sys.argv[1]):
    s.sendto(line.strip().encode(), ("127.0.0.1", 9999))' "$T/cmd" &
PIDS+=($!)
exec 7>"$T/cmd"
send_one() { echo "$1" >&7; }
# The ring appears with the first packet tcpdump hands over.
for _ in $(seq 100); do
	send_one prime
	[ -e "$RAWCAP_SHM_DIR"/rawcap-"$RING" ] && break
	sleep 0.1
done
[ -e "$RAWCAP_SHM_DIR"/rawcap-"$RING" ] || fail "ring never appeared"
sleep 0.3

mkfifo "$T/stream" "$T/totshark"
# A pass-through between rawcap-pcap and tshark notes when each pcapng block
# arrives: tshark itself reads a pipe a record ahead, so latency is measured
# on the stream, and tshark checks the content.
python3 -u -c '
import sys
src, log, out = open(sys.argv[1], "rb", buffering=0), open(sys.argv[2], "w"), open(sys.argv[3], "wb")
def readn(n):
    b = b""
    while len(b) < n:
        c = src.read(n - len(b))
        if not c: return None
        b += c
    return b
while True:
    h = readn(8)
    if h is None: break
    body = readn(int.from_bytes(h[4:8], "little") - 8)
    if body is None: break
    out.write(h + body); out.flush()
    print(body.hex(), file=log, flush=True)
out.close()' "$T/stream" "$T/blocks.txt" "$T/totshark" &
PIDS+=($!)
tshark -r - -T fields -e udp.payload <"$T/totshark" >"$T/seen.txt" 2>"$T/tshark.err" &
tshark_pid=$!
PIDS+=($tshark_pid)
"$PCAP" --ring "$RING" --follow -o - >"$T/stream" 2>"$T/pcap.err" &
pcap_pid=$!
PIDS+=($pcap_pid)
# Ready when the section header went through the whole chain.
for _ in $(seq 300); do [ -s "$T/blocks.txt" ] && break; sleep 0.05; done
[ -s "$T/blocks.txt" ] || fail "the stream never started: $(cat "$T/pcap.err")"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
for i in $(seq 1 10); do
	start=$(date +%s%N)
	send_one "after-$i-$$"
	until grep -q "$(hex "after-$i-$$")" "$T/blocks.txt" 2>/dev/null; do
		now=$(date +%s%N)
		[ $((now - start)) -lt 1000000000 ] || fail "packet $i not streamed within 1 s"
		sleep 0.05
	done
done
kill -TERM "$pcap_pid"
wait "$pcap_pid" || fail "rawcap-pcap --follow exited $? on SIGTERM: $(cat "$T/pcap.err")"
wait "$tshark_pid" || fail "tshark -r - failed: $(cat "$T/tshark.err")"
for i in $(seq 1 10); do
	grep -qx "$(hex "after-$i-$$")" "$T/seen.txt" || fail "tshark -r - did not see packet $i"
done
grep -q "$(hex prime)" "$T/seen.txt" && fail "--follow delivered packets from before it started"

# --follow into a file that is there: written under its name as it goes (as
# tcpdump -w does), so tshark -r NAME reads the packets while it runs.
echo "an older export" >"$T/live.pcapng"
"$PCAP" --ring "$RING" --follow -o "$T/live.pcapng" 2>"$T/pcap2.err" &
pcap_pid=$!
PIDS+=($pcap_pid)
sleep 0.5
send_one "grown-$$"
for _ in $(seq 100); do
	tshark -r "$T/live.pcapng" -T fields -e udp.payload 2>/dev/null | grep -qx "$(hex "grown-$$")" && break
	sleep 0.1
done
tshark -r "$T/live.pcapng" -T fields -e udp.payload 2>/dev/null | grep -qx "$(hex "grown-$$")" ||
	fail "--follow -o FILE: the packet is not in FILE while it runs ($(head -c 16 "$T/live.pcapng" | od -An -c | head -1))"
ls -A "$T" | grep -q '^\.live\.pcapng-' && fail "--follow -o FILE wrote a temporary file beside it"
kill -TERM "$pcap_pid"
wait "$pcap_pid" || fail "rawcap-pcap --follow -o FILE exited $? on SIGTERM: $(cat "$T/pcap2.err")"
exec 7>&-
echo "PASS: 10 packets sent after --follow started were streamed within 1 s each and read by tshark -r -; --follow -o FILE grows under its name"
