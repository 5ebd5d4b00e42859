#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""relay.py - a TCP relay for the end-to-end tests: what a kubelet does for
`kubectl port-forward`, reaching a process that listens on a pod's loopback.

relay.py LISTEN_HOST:PORT TARGET_HOST:PORT
Accepts on LISTEN (port 0: an ephemeral one) and joins each connection to a
new one to TARGET, bytes both ways, half-closes passed on. Prints
"relaying HOST:PORT -> TARGET" once listening. Ends on SIGTERM/SIGINT.
relay() is also used by pf_standin.py.
"""
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            dst.sendall(d)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        # one side reset: reset the other too, as a dead pod's stream would
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def join(client, target, on_connect=None):
    try:
        upstream = socket.create_connection(target, timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    if on_connect:
        on_connect()
    t = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
    t.start()
    pipe(client, upstream)
    t.join()
    client.close()
    upstream.close()


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def listen(addr):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(addr)
    srv.listen(16)
    return srv


def relay(srv, target, on_connect=None):
    """Serve srv forever, joining every connection to target."""
    while True:
        c, _ = srv.accept()
        threading.Thread(target=join, args=(c, target, on_connect), daemon=True).start()


if __name__ == "__main__":
    srv = listen(hostport(sys.argv[1]))
    print("relaying %s:%d -> %s" % (srv.getsockname() + (sys.argv[2],)), flush=True)
    try:
        relay(srv, hostport(sys.argv[2]))
    except KeyboardInterrupt:
        pass
