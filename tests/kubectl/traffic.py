#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""traffic.py - one simulated node's share of the tests' cross-node traffic.

traffic.py PREFIX ME ALL
PREFIX.ME is this node's address (e.g. 198.18.0 and 2), ALL the comma list of
every node's last octet. Runs a TCP echo server on PREFIX.ME:9998 for the
others, then sends each other node 150 UDP datagrams to port 9999 (sizes
varying, each naming its sender and sequence number) and, every tenth one, a
TCP message it waits to see echoed. Bounded: every wait has a timeout, the
whole run takes a few seconds. Exits non-zero if a peer's echo server could
not be reached.
"""
import socket
import sys
import threading
import time

prefix, me = sys.argv[1], int(sys.argv[2])
peers = [int(p) for p in sys.argv[3].split(",") if int(p) != me]
addr = lambda n: "%s.%d" % (prefix, n)


def echo(c):
    c.settimeout(8)
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    c.close()


def serve(srv):
    for _ in peers:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        threading.Thread(target=echo, args=(c,)).start()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr(me), 9998))
srv.listen(4)
srv.settimeout(8)
threading.Thread(target=serve, args=(srv,)).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr(me), 9999))
time.sleep(0.5)
conns = []
for p in peers:
    for _ in range(50):
        try:
            conns.append(socket.create_connection((addr(p), 9998), timeout=5))
            break
        except OSError:
            time.sleep(0.1)
if len(conns) != len(peers):
    sys.exit("traffic: node %d reached %d of %d peers" % (me, len(conns), len(peers)))
for i in range(150):
    for p in peers:
        u.sendto(b"n%d-%05d-" % (me, i) + b"u" * (i * 37 % 900), (addr(p), 9999))
    if i % 10 == 0:
        for c in conns:
            c.sendall(b"t" * (100 + i))
            c.recv(65536)
    time.sleep(0.002)
for c in conns:
    c.close()
