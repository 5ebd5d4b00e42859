#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fake_apiserver.py - a loopback HTTPS stand-in for the Kubernetes API server.

It plays a scripted scenario (a JSON file naming recordings in
tests/k8s/recordings/): for each resource path, a queue of list responses
and a queue of watch responses, consumed one per request. Watch responses
are sent as the real server does (chunked, one JSON event per line) and end
by closing cleanly, by dropping the connection mid-chunk, or by holding the
connection open silently. Every request is logged as one JSON line (path,
query, whether the bearer token matched) so the test can assert the
list -> watch -> 410 -> relist sequence. A list step with "label_select"
filters its items by the request's labelSelector (equality-based terms),
as `kubectl get pods -l` expects of the server. Only the standard library
is used.

A list step may also be generated ({"generate": {...}}, see serve_generated):
numbered objects, some with annotations of a given size, served in pages as
the request's limit and continue ask (unless "one_page"), streamed so that
the server never holds a page; a continue offset can be answered once with
410 Expired, and a page can be cut once in the middle of its body.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATE = {}
LOCK = threading.Lock()


def load(name):
    with open(os.path.join(STATE["dir"], name)) as f:
        return f.read()


def event_lines(step):
    """Yield the raw lines (bytes, newline included) of a watch step."""
    for item in step.get("lines", []):
        if isinstance(item, dict) and "raw" in item:
            yield item["raw"].encode() + b"\n"
        elif isinstance(item, dict) and "oversize" in item:
            # a real pod event whose annotation makes the line item["oversize"] bytes
            pod = json.loads(load(item["file"]))
            pod["object"]["metadata"]["annotations"] = {"big": "x" * item["oversize"]}
            yield json.dumps(pod, separators=(",", ":")).encode() + b"\n"
        else:
            text = load(item)
            for line in text.splitlines():
                if line.strip():
                    yield json.dumps(json.loads(line), separators=(",", ":")).encode() + b"\n"


def label_match(labels, selector):
    """Equality-based label selector (k=v, k==v, k!=v, k, !k; comma = and), as the API
    server applies it to a list; None if the selector uses anything else."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if " in " in term or " notin " in term or "(" in term:
            return None
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def select_items(body, query):
    """A list body with only the items the query's labelSelector selects."""
    selector = query.get("labelSelector", [""])[0]
    doc = json.loads(body)
    keep = []
    for item in doc.get("items", []):
        m = label_match(item.get("metadata", {}).get("labels", {}) or {}, selector)
        if m is None:
            return 400, '{"kind":"Status","code":400,"reason":"BadRequest"}'
        if m:
            keep.append(item)
    doc["items"] = keep
    return 200, json.dumps(doc)


def gen_object(g, i):
    """Object i of a generated list: a service, or a namespace ("kind": "Namespace")."""
    md = {"name": "obj-%04d" % i, "namespace": "default", "uid": "uid-%04d" % i,
          "resourceVersion": str(1000 + i)}
    if i in g.get("big", []):
        md["annotations"] = {"blob": "x" * g["big_bytes"]}
    if g.get("kind") == "Namespace":
        return {"metadata": md, "status": {"phase": "Active"}}
    return {"metadata": md, "spec": {"type": "ClusterIP", "clusterIP": "198.19.%d.%d" % (i // 250, i % 250 + 1),
                                     "ports": [{"port": 80, "protocol": "TCP"}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, path, query, auth_ok, served):
        entry = {"t": time.time(), "path": path, "query": {k: v[0] for k, v in query.items()},
                 "auth_ok": auth_ok, "served": served}
        with LOCK:
            with open(STATE["log"], "a") as f:
                f.write(json.dumps(entry) + "\n")

    def send_body(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def hold(self, query):
        limit = min(int(query.get("timeoutSeconds", ["60"])[0]), 120)
        end = time.time() + limit
        while time.time() < end and not STATE["stop"].is_set():
            time.sleep(0.1)

    def serve_watch(self, step, query):
        if step.get("status", 200) != 200:
            return self.send_body(step["status"], load(step["body"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if step.get("wait_file"):
            # hold the events until the test says so (bounded): the test
            # sends traffic first, then lets the pod changes happen
            path = os.path.join(STATE["trigger_dir"], step["wait_file"])
            end = time.time() + 60
            while not os.path.exists(path) and time.time() < end and not STATE["stop"].is_set():
                time.sleep(0.05)
        for line in event_lines(step):
            self.chunk(line)
            time.sleep(step.get("gap", 0.02))
        end = step.get("end", "close")
        if end == "drop":
            # half a chunk, then the connection dies
            self.wfile.write(b"400\r\n{\"type\":\"ADDED\",\"obj")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if end == "hold":
            self.hold(query)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def serve_generated(self, g, query):
        """A page of a generated list: items [offset, offset + limit), continue "o-<next>"."""
        cont = query.get("continue", [""])[0]
        offset = int(cont[2:]) if cont.startswith("o-") else 0
        limit = int(query.get("limit", ["0"])[0]) or g["count"]
        if g.get("one_page"):
            limit = g["count"]
        with LOCK:
            once = STATE.setdefault("once", set())
            expire = cont and offset == g.get("expire_at") and ("expire", offset) not in once
            cut = offset == g.get("drop_at") and ("drop", offset) not in once
            once.add(("expire" if expire else "drop" if cut else "ok", offset))
        if expire:
            return self.send_body(410, load("status-410.json"))
        end = min(offset + limit, g["count"])
        md = {"resourceVersion": str(g.get("rv", 5000))}
        if end < g["count"]:
            md["continue"] = "o-%d" % end
        head = ('{"kind":"%sList","apiVersion":"v1","metadata":%s,"items":['
                % (g.get("kind", "Service"), json.dumps(md))).encode()
        parts = [json.dumps(gen_object(g, i), separators=(",", ":")).encode() for i in range(offset, end)]
        length = len(head) + sum(len(x) for x in parts) + max(len(parts) - 1, 0) + 2
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            self.wfile.write(head)
            for n, part in enumerate(parts):
                if cut and n == len(parts) // 2:
                    self.wfile.flush()  # half the page, then the connection dies
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write((b"," if n else b"") + part)
            self.wfile.write(b"]}")
        except OSError:
            pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        auth_ok = self.headers.get("Authorization") == "Bearer " + STATE["token"]
        if not auth_ok:
            self.record(url.path, query, False, "401")
            return self.send_body(401, '{"kind":"Status","code":401}')
        kind = "watch" if query.get("watch") == ["1"] else "list"
        with LOCK:
            steps = STATE["scenario"].get(url.path, {}).get(kind, [])
            if len(steps) > 1:
                step = steps.pop(0)
            elif steps:
                step = steps[0]
            else:
                step = None
        served = "none" if step is None else step.get("name", step.get("body", kind))
        self.record(url.path, query, True, served)
        if step is None:
            if kind == "watch":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.hold(query)
                self.wfile.write(b"0\r\n\r\n")
                return
            return self.send_body(404, '{"kind":"Status","code":404}')
        if step.get("stuck"):
            return self.hold(query)
        if kind == "watch":
            return self.serve_watch(step, query)
        if step.get("label_select"):
            # a list the server filters by the request's labelSelector, as the real one does
            return self.send_body(*select_items(load(step["body"]), query))
        if "generate" in step:
            return self.serve_generated(step["generate"], query)
        return self.send_body(step.get("status", 200), load(step["body"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--trigger-dir", default="/nonexistent")
    args = ap.parse_args()
    with open(args.scenario) as f:
        STATE["scenario"] = json.load(f)
    STATE.update(dir=os.path.dirname(os.path.abspath(args.scenario)), log=args.log,
                 token=args.token, stop=threading.Event(),
                 trigger_dir=args.trigger_dir)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    STATE["stop"].set()


if __name__ == "__main__":
    sys.exit(main())
