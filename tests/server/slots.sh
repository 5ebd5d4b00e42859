#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# slots.sh - clients that stop reading cannot hold every download slot. With
# --max-exports 2, two downloads of a large window whose clients never read
# take both slots; once they have taken nothing for SERVER_EVICT_MS (2 s), a
# third download gets one of their places (200, a whole pcapng) instead of
# 429 for as long as they stay connected (the server's 30 s idle timeout,
# renewed by reconnecting). Before that, 429 with Retry-After, as before.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_capd
start_server --max-exports 2
nsx "$TRAFFIC" udp 127.0.0.1 9999 20000 0 >/dev/null 2>"$T/udp.err" || fail "udp traffic failed"
sleep 0.5

# Two downloads of the last 10 minutes (megabytes) whose clients never read.
nsx python3 - "$PORT" >"$T/stall.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
held = []
for _ in range(2):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /v1/pcap?last=10m HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(s)
print("holding", flush=True)
time.sleep(25)
PY
STALL=$!
PIDS+=("$STALL")
wait_for "$T/stall.out" holding
sleep 0.3
code=$(nsx curl -s -o /dev/null -w '%{http_code}' "$URL/v1/pcap?last=1s")
[ "$code" = 429 ] || fail "with both slots just taken: HTTP $code, expected 429"
echo "ok: both slots just taken: 429"
sleep 2.5
code=$(nsx curl -s -m 10 -o "$T/third.pcapng" -w '%{http_code}' "$URL/v1/pcap?last=2s")
[ "$code" = 200 ] || fail "with two clients that read nothing for 2.8 s: HTTP $code, expected 200" \
	"($(tail -2 "$T/server.err" | tr '\n' ' '))"
capinfos "$T/third.pcapng" >/dev/null 2>&1 || fail "the third download is not a whole pcapng"
grep -q "took nothing for .* ms ended to make room" "$T/server.err" || fail "no eviction said on stderr"
echo "ok: a stalled download made room for another: 200, a whole pcapng"
echo "PASS"
