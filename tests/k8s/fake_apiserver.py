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
