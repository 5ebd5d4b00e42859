#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sink.py - a dissector's end of `kubectl rawcap dissect` for the tests.

sink.py PORT OUT [--cert CERT --key KEY] [--accept N]
Listens on 127.0.0.1:PORT (TLS with CERT/KEY when given, through Python's
ssl module, i.e. OpenSSL), accepts up to N connections (default 1) and
appends what the first one that completes a handshake sends to OUT. A
handshake a client aborts (it did not trust the certificate) is written
to stderr and the next connection is taken. Exits after N connections or
60 s without one.
"""
import argparse
import socket
import ssl
import sys

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("out")
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--accept", type=int, default=1)
a = ap.parse_args()

ctx = None
if a.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", a.port))
s.listen(4)
s.settimeout(60)
got = False
with open(a.out, "wb") as f:
    for _ in range(a.accept):
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        c.settimeout(60)
        try:
            if ctx:
                c = ctx.wrap_socket(c, server_side=True)
            while True:
                d = c.recv(65536)
                if not d:
                    break
                if not got:
                    f.write(d)
        except (ssl.SSLError, OSError) as e:
            print("sink: %s" % e, file=sys.stderr)
            continue
        finally:
            c.close()
        got = True
