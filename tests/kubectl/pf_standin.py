#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pf_standin.py - stands in for `kubectl port-forward` only, the one step of
kubectl-rawcap's default path that cannot run without a cluster (the fake API
server cannot upgrade a connection to a pod). Everything else, discovery
included, runs Debian's real kubectl (see kubectl_standin.sh).

Invoked with kubectl's arguments (... port-forward --namespace NS --address
127.0.0.1 pod/NAME :PORT), it behaves as kubectl does on the outside: binds an
ephemeral port on 127.0.0.1, prints "Forwarding from 127.0.0.1:P -> PORT",
then "Handling connection for P" per connection. Behind the port it serves the
files of $RC_PF_DIR/data/NAME/ (v1/node, v1/pcap, ...) with the standard
library's HTTP server. It records its pid and arguments in $RC_PF_DIR/pids/.

$RC_PF_MODE: "serve" (default); "slow": /v1/pcap sends its headers and a
section header, then nothing, until killed; "fail:NAME": for pod NAME, say
what kubectl says when the pod is gone and exit 1; "relay": join each
connection to the pod's address in $RC_PF_DIR/relay/NAME (HOST, a relay.py
in the pod's network namespace forwarding to its loopback) and the remote
port, as the kubelet joins a port-forward to the pod's loopback: the
end-to-end test reaches real rawcap-servers this way.
"""
import http.server
import os
import sys
import time

args = sys.argv[1:]
pod = next(a[4:] for a in args if a.startswith("pod/"))
remote = next(a[1:] for a in args if a.startswith(":"))
base = os.environ["RC_PF_DIR"]
mode = os.environ.get("RC_PF_MODE", "serve")
os.makedirs(os.path.join(base, "pids"), exist_ok=True)
with open(os.path.join(base, "pids", pod), "w") as f:
    f.write("%d %s\n" % (os.getpid(), " ".join(args)))
if mode == "fail:" + pod:
    sys.stderr.write('error: error upgrading connection: pods "%s" not found\n' % pod)
    sys.exit(1)

if mode == "relay":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import relay

    with open(os.path.join(base, "relay", pod)) as f:
        host = f.read().strip()
    srv = relay.listen(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    print("Forwarding from 127.0.0.1:%d -> %s" % (port, remote), flush=True)
    relay.relay(srv, (host, int(remote)),
                lambda: print("Handling connection for %d" % port, flush=True))

SHB = bytes.fromhex("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000")


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *a, **kw):
        super().__init__(*a, directory=os.path.join(base, "data", pod), **kw)

    def log_message(self, fmt, *a):
        pass

    def do_GET(self):
        print("Handling connection for %d" % srv.server_address[1], flush=True)
        if mode == "slow" and self.path.startswith("/v1/pcap"):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-pcapng")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(SHB), SHB))
            self.wfile.flush()
            with open(os.path.join(base, "pids", pod + ".streaming"), "w"):
                pass
            while True:
                time.sleep(1)
        return super().do_GET()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
print("Forwarding from 127.0.0.1:%d -> %s" % (srv.server_address[1], remote), flush=True)
srv.serve_forever()
