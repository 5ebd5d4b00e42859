#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""raw_http.py - one HTTP exchange over a raw socket, for tests of what
curl will not send (chunked bodies without end, pipelined requests, bodies
on GET, trickled bytes). Prints the status line of each answer, its
Content-Type, its body on one line, and "closed" when the server closed.

usage: raw_http.py PORT [--token T] [--pace S] [--expect] CASE
"""
import socket
import sys
import time


def request(method, path, headers, token):
    h = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        h.append(f"Authorization: Bearer {token}")
    h += headers
    return ("\r\n".join(h) + "\r\n\r\n").encode()


def chunked(data, size=4096):
    out = []
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out.append(b"%x\r\n" % len(part) + part + b"\r\n")
    return b"".join(out) + b"0\r\n\r\n"


def read_answers(s, timeout):
    """Every answer until the server closes or is silent for timeout s."""
    s.settimeout(timeout)
    buf = b""
    closed = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            buf += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    return buf, closed


def show(buf, closed):
    """The answers in buf, framed by Content-Length (rawcap's errors have one)."""
    while buf:
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip()
                  for l in lines[1:] if ":" in l}
        code = int(lines[0].split()[1]) if len(lines[0].split()) > 1 else 0
        n = 0 if code < 200 else int(fields.get("content-length", len(rest)))
        print(lines[0])
        if "content-type" in fields:
            print("type", fields["content-type"])
        if "connection" in fields:
            print("connection", fields["connection"])
        print("body", rest[:n].decode(errors="replace").replace("\n", " "))
        buf = rest[n:]
    if closed:
        print("closed")


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    token, pace, expect = None, 0.0, False
    while args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--token":
            token = args.pop(0)
        elif opt == "--pace":
            pace = float(args.pop(0))
        elif opt == "--expect":
            expect = True
    case, size = args[0], int(args[1]) if len(args) > 1 else 0
    body = b'{"name":"' + b"x" * max(size - 12, 0) + b'"}'
    ex = ["Expect: 100-continue"] if expect else []
    s = socket.create_connection(("127.0.0.1", port))
    if case == "chunked":  # POST, chunked body of size bytes
        wire = [request("POST", "/v1/snapshots", ["Transfer-Encoding: chunked",
                        "Content-Type: application/json"] + ex, token), chunked(body)]
    elif case == "length":  # POST, Content-Length body of size bytes
        wire = [request("POST", "/v1/snapshots", [f"Content-Length: {len(body)}",
                        "Content-Type: application/json"] + ex, token), body]
    elif case in ("get-length", "delete-chunked"):  # a body where none belongs
        m, p = ("GET", "/v1/node") if case == "get-length" else ("DELETE", "/v1/snapshots/nope")
        te = [f"Content-Length: {len(body)}"] if case == "get-length" else ["Transfer-Encoding: chunked"]
        wire = [request(m, p, te + ex, token), body if case == "get-length" else chunked(body)]
    elif case == "headers":  # size bytes of headers in one field
        wire = [request("GET", "/v1/node", ["X-Pad: " + "p" * size], token)]
    elif case == "many-headers":  # size headers
        wire = [request("GET", "/v1/node", [f"X-H{i}: v" for i in range(size)], token)]
    elif case in ("smuggle", "smuggle-chunked"):  # without credentials, a body that is a request
        inner = b'{"name":"smuggled"}'
        inner = request("POST", "/v1/snapshots", [f"Content-Length: {len(inner)}"], token) + inner
        te = (["Transfer-Encoding: chunked"] if case == "smuggle-chunked"
              else [f"Content-Length: {len(inner)}"])
        wire = [request("POST", "/v1/snapshots", te + ex, None),
                chunked(inner) if case == "smuggle-chunked" else inner]
    elif case == "pipelined":  # an oversized chunked POST, then a GET on the same connection
        wire = [request("POST", "/v1/snapshots", ["Transfer-Encoding: chunked"], token)
                + chunked(body) + request("GET", "/healthz", [], token)]
    elif case == "pipelined-ok":  # two GETs in one write
        wire = [request("GET", "/healthz", [], token) + request("GET", "/v1/snapshots", [], token)]
    elif case == "slow":  # headers, then a 100-byte body a byte a second (--pace ignored)
        wire = [request("POST", "/v1/snapshots", ["Content-Length: 100"], token)]
        s.sendall(wire[0])
        t0 = time.monotonic()
        try:
            for _ in range(size):
                s.sendall(b"x")
                time.sleep(1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf, closed = read_answers(s, 2)
        print("after %d s" % round(time.monotonic() - t0))
        show(buf, closed)
        return
    else:
        sys.exit(f"unknown case {case}")
    s.sendall(wire[0])
    if expect:
        time.sleep(0.3)
    try:
        for part in wire[1:]:
            if pace:
                for i in range(0, len(part), 16):
                    s.sendall(part[i:i + 16])
                    time.sleep(pace)
            else:
                s.sendall(part)
    except (BrokenPipeError, ConnectionResetError):
        print("send failed")
    show(*read_answers(s, 2))


main()
