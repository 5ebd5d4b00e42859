#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http_slowloris.sh - capd's /healthz stays reachable while slowloris clients
# from more than one address hold every connection slot: each sends one
# header byte a second and never ends its headers. MHD's idle timeout is one
# of silence and the per-address limit is half the slots, so two addresses
# (127.0.0.2 and 127.0.0.3 reach a hostNetwork 0.0.0.0 listener from the
# node itself) held them all for as long as they liked: kubelet's liveness
# probe failed and restarted capd. capd now gives a request's headers 5 s
# from the connection's start, swept by its own loop.
set -euo pipefail
TNAME=loris
. "$(dirname "$0")/lib.sh"
rc_need curl python3
PORT=9471
ulimit -n 640 # capd fits its connection limit to RLIMIT_NOFILE: fewer to hold here

start_capd "$TMP/capd.log" --ring-size 16Mi --interfaces lo --stats-listen 0.0.0.0:$PORT
line=$(grep -m1 "metrics on http" "$TMP/capd.log")
echo "$line"
max=$(sed -n 's/.*at most \([0-9]*\) connections.*/\1/p' <<<"$line")
per=$(sed -n 's/.*, \([0-9]*\) per address.*/\1/p' <<<"$line")
[ -n "$max" ] && [ -n "$per" ] || fail "no limits in: $line"

nsx timeout 60 python3 - "$PORT" "$per" "$max" >"$TMP/attack.out" 2>&1 <<'EOF' || true
import socket, subprocess, sys, time
port, per, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = []
for src in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
    for _ in range(per):
        if len(socks) >= total + 8:
            break
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            s.send(b"G")
            socks.append(s)
        except OSError:
            s.close()
print(f"held={len(socks)}", flush=True)
ok = probes = 0
t0 = time.monotonic()
while time.monotonic() - t0 < 16:
    for s in socks:  # one more byte of a header that never ends
        try:
            s.send(b"E")
        except OSError:
            pass
    if time.monotonic() - t0 >= 6:  # past the 5 s header deadline of the first ones
        r = subprocess.run(["curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}",
                            f"http://127.0.0.1:{port}/healthz"], capture_output=True, text=True)
        probes += 1
        ok += r.stdout == "200"
    time.sleep(1)
print(f"probes={probes} ok={ok}", flush=True)
EOF
att=$(tr '\n' ' ' <"$TMP/attack.out")
echo "attack: $att"
held=$(kv held "$att")
[ -n "$held" ] && [ "$held" -ge "$max" ] || fail "the attacker did not hold every slot: $att"
probes=$(kv probes "$att")
[ -n "$probes" ] && [ "$probes" -ge 5 ] || fail "too few probes: $att"
[ "$(kv ok "$att")" -ge $((probes - 1)) ] || fail "/healthz unreachable under slowloris: $att"
kill -0 "$CAPD_PID" || fail "capd died"
stop_capd "$TMP/capd.log"
echo "PASS: /healthz answered while slowloris clients from 3 addresses held every slot"
