#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# traffic.py - known processes for the eBPF tests: a TCP server and client that
# exchange a fixed number of bytes, a UDP sender and receiver. Each writes its
# pid to --pidfile before it touches the network, then waits for --go (a file)
# so that the test can start capturing first.
import argparse, os, socket, sys, time

def wait_go(path):
    deadline = time.time() + 20
    while path and not os.path.exists(path):
        if time.time() > deadline:
            sys.exit("traffic.py: timed out waiting for " + path)
        time.sleep(0.02)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["tcp-server", "tcp-client", "udp-send", "udp-recv"])
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--pidfile")
    p.add_argument("--go")
    p.add_argument("--linger", type=float, default=0)
    p.add_argument("--hold", type=float, default=0, help="tcp-client: keep the connection open this long")
    a = p.parse_args()

    def ready():
        # The pid file says the socket is bound: a peer started after it finds it.
        if a.pidfile:
            with open(a.pidfile + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(a.pidfile + ".tmp", a.pidfile)

    payload = b"x" * a.size
    if a.mode == "tcp-server":
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.host, a.port)); s.listen(1)
        ready()
        c, _ = s.accept()
        got = 0
        while got < a.count * a.size:
            b = c.recv(65536)
            if not b:
                break
            got += len(b)
        c.sendall(b"ok")
        c.close()
        print(got)
    elif a.mode == "tcp-client":
        ready()
        wait_go(a.go)
        s = socket.create_connection((a.host, a.port), timeout=10)
        for _ in range(a.count):
            s.sendall(payload)
        time.sleep(a.hold)
        s.shutdown(socket.SHUT_WR)
        s.recv(16)
        s.close()
    elif a.mode == "udp-send":
        ready()
        wait_go(a.go)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(a.count):
            s.sendto(payload, (a.host, a.port))
            time.sleep(0.002)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Generous: on a loaded machine the sender may start many seconds later.
        s.bind((a.host, a.port)); s.settimeout(60)
        ready()
        for _ in range(a.count):
            try:
                s.recvfrom(65536)
            except socket.timeout:
                break
    time.sleep(a.linger)

main()
