#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""http_load.py - load and attack capd's /metrics and /healthz endpoint.

  http_load.py seq ADDR:PORT N
      N sequential GET /healthz requests, each on a new HTTP/1.0 connection.
      Prints "ok=A failed=B first_failed=I".
  http_load.py attack ADDR:PORT --idle N [--slow M] [--until FILE] [--seconds S]
      Hold N idle connections (reopened when the server closes them) and M
      slowloris connections (a header byte every --slow-gap seconds), and
      probe /healthz and /metrics once per --probe-every seconds while they
      are held, until FILE exists or S seconds passed. --ready FILE is
      created once the connections are held. Prints "probes=P healthz_ok=H
      metrics_ok=M max_ms=X reopened=R held=N" (N: the most held at once).

Used by tests/capd/http.sh and bench/soak.sh. Bounded in time and count;
only the address it is given is contacted.
"""
import argparse
import os
import socket
import sys
import time


def addr(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def get(a, path, timeout=3.0):
    """One HTTP/1.0 GET on a new connection: (status line, body) or None."""
    try:
        s = socket.create_connection(a, timeout=timeout)
        s.sendall(b"GET " + path.encode() + b" HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(errors="replace"), body


def seq(a, n):
    ok = failed = first = 0
    for i in range(1, n + 1):
        r = get(a, "/healthz")
        if r and r[0].startswith("HTTP/1.0 200") and r[1] == b"ok\n":
            ok += 1
        else:
            failed += 1
            first = first or i
    print(f"ok={ok} failed={failed} first_failed={first}")
    return 0


def closed_by_peer(s):
    try:
        s.setblocking(False)
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def attack(a, o):
    idle, slow, reopened = [], [], 0
    deadline = time.monotonic() + o.seconds

    def refill(most):
        # At most MOST new connections a call: capd closes a held connection
        # at its header deadline (5 s), and reopening all 1,000 at once kept
        # the loop from probing on time (7 probes in 14 s under load).
        nonlocal reopened
        for pool, want in ((idle, o.idle), (slow, o.slow)):
            alive = []
            for s in pool:
                if closed_by_peer(s):
                    s.close()
                    reopened += 1
                else:
                    alive.append(s)
            pool[:] = alive
            while len(pool) < want and most > 0:
                most -= 1
                try:
                    pool.append(socket.create_connection(a, timeout=3))
                except OSError:
                    break
                if pool is slow:
                    pool[-1].sendall(b"GET /healthz HTTP/1.1\r\n")

    refill(o.idle + o.slow)
    reopened = 0
    most_held = len(idle) + len(slow)
    if o.ready:
        open(o.ready, "w").close()
    probes = hok = mok = 0
    max_ms = 0.0
    next_probe = time.monotonic()
    while time.monotonic() < deadline and not (o.until and os.path.exists(o.until)):
        for s in slow:  # one byte of an endless header each, then back to sleep
            try:
                s.sendall(b"X")
            except OSError:
                pass
        now = time.monotonic()
        if now >= next_probe:
            t0 = time.monotonic()
            h = get(a, "/healthz")
            m = get(a, "/metrics")
            max_ms = max(max_ms, (time.monotonic() - t0) * 1000)
            probes += 1
            hok += bool(h and h[0].endswith("200 OK") and h[1] == b"ok\n")
            mok += bool(m and m[0].endswith("200 OK") and b"capd_up 1" in m[1])
            next_probe += o.probe_every
        refill(100)
        most_held = max(most_held, len(idle) + len(slow))
        time.sleep(min(o.slow_gap, max(0.0, next_probe - time.monotonic())))
    for s in idle + slow:
        s.close()
    print(f"probes={probes} healthz_ok={hok} metrics_ok={mok} max_ms={max_ms:.0f} "
          f"reopened={reopened} held={most_held}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seq")
    s.add_argument("addr", type=addr)
    s.add_argument("n", type=int)
    t = sub.add_parser("attack")
    t.add_argument("addr", type=addr)
    t.add_argument("--idle", type=int, default=1000)
    t.add_argument("--slow", type=int, default=0)
    t.add_argument("--slow-gap", type=float, default=0.5)
    t.add_argument("--probe-every", type=float, default=1.0)
    t.add_argument("--until")
    t.add_argument("--ready")
    t.add_argument("--seconds", type=float, default=60.0)
    o = p.parse_args()
    if o.cmd == "seq":
        return seq(o.addr, o.n)
    return attack(o.addr, o)


if __name__ == "__main__":
    sys.exit(main())
