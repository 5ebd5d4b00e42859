#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pod_test.sh - pod-aware export. Real UDP traffic on the loopback of a test
# netns between the addresses of two "pods" (web-a 198.18.3.7, web-b
# 198.18.3.8) and a node address; then web-b is deleted and its address is
# given to web-d, and traffic goes on. The fake API server tells the watcher
# (tests/k8s/k8s_driver, which also captures lo with AF_PACKET) about it.
# rawcap-pcap --pod/--label/--namespace must export exactly the packets of
# the selected pod at each packet's time, and its pcapng comments (read back
# with tshark) must name the pod that held each address at that time.
# rawcap-snapshot create --pod and rawcap-forward --pod must keep exactly the
# same packets; the window starts after web-a/web-b were announced, so the
# snapshot resolves them only if it kept the metadata of the lookback.
set -euo pipefail
. "$RAWCAP_SRC/tests/k8s/api.sh"
k8s_test_init pod
command -v tshark >/dev/null || { echo "SKIP: tshark missing"; exit 77; }
for a in 198.18.3.7 198.18.3.8 198.18.3.20; do
	ip netns exec "$NS" ip addr add "$a/32" dev lo
done

api_cert
start_server scenario-pods.json --trigger-dir "$TMP"
cat >"$TMP/kubeconfig" <<KC
apiVersion: v1
clusters:
- cluster:
    certificate-authority: $TMP/cert.pem
    server: https://127.0.0.1:$PORT
  name: c
contexts:
- context: {cluster: c, user: u}
  name: x
- context:
    cluster: c
    user: u
  name: ctx
current-context: ctx
users:
- name: u
  user:
    token: $TOKEN
KC

ip netns exec "$NS" "$B/tests/k8s_driver" --ring "$RING" --kubeconfig "$TMP/kubeconfig" \
	--node node-1 --resources 1 --resync 0 --capture lo --duration 60 \
	>"$TMP/stats.json" 2>"$TMP/driver.err" &
DRIVER=$!
PIDS+=("$DRIVER")

wait_meta() { # pattern: until a pod record matching it is in the ring
	for _ in $(seq 100); do
		"$B/readers/rawcap-tap" --ring "$RING" --kind pod 2>/dev/null | grep -q "$1" && return 0
		sleep 0.1
	done
	fail "metadata '$1' never reached the ring: $(cat "$TMP/driver.err")"
}

send() { # phase: UDP datagrams between node (.20), the pods' addresses, tagged
	ip netns exec "$NS" $PY - "$1" <<'PY'
import socket, sys, time
phase = sys.argv[1]
ips = {"node": "198.18.3.20", "a": "198.18.3.7", "b": "198.18.3.8", "d": "198.18.3.8"}
flows = {"p1": [("node", "a", 5), ("node", "b", 7), ("a", "b", 3)],
         "p2": [("node", "a", 4), ("node", "d", 6), ("d", "a", 2)]}[phase]
rx = {}
for ip in set(ips.values()):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind((ip, 9999))
    rx[ip] = r
for src, dst, n in flows:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ips[src], 0))
    for i in range(n):
        s.sendto(f"{phase}:{src}>{dst}:{i}".encode(), (ips[dst], 9999))
        rx[ips[dst]].recv(100)
    s.close()
PY
}

wait_meta '"name":"web-a"'
wait_meta '"name":"web-b"'
# a full disk under rawcap-tap's output: said once, with its errno, as a write
# (it said "Input/output error" twice, the second time as "reading records")
rc=0
"$B/readers/rawcap-tap" --ring "$RING" --kind pod >/dev/full 2>"$TMP/tap-full.err" || rc=$?
[ "$rc" = 1 ] && [ "$(cat "$TMP/tap-full.err")" = \
	"rawcap-tap: writing standard output: No space left on device" ] ||
	fail "rawcap-tap >/dev/full: exit $rc: $(cat "$TMP/tap-full.err")"
T0=$(($(date +%s) + 1)) # window start: after the pods' metadata (it is in the lookback)
while [ "$(date +%s)" -lt "$T0" ]; do sleep 0.05; done
send p1
sleep 0.3
touch "$TMP/phase2"
wait_meta '"name":"web-d","labels"'
send p2
sleep 0.3
kill -TERM "$DRIVER"
wait "$DRIVER" || fail "driver failed: $(cat "$TMP/driver.err")"
T1=$(($(date +%s) + 1)) # window end (exclusive): after everything
while [ "$(date +%s)" -lt "$T1" ]; do sleep 0.05; done

export_pcap() { # out args...
	local out=$1
	shift
	"$B/readers/rawcap-pcap" --ring "$RING" -q -o "$TMP/$out.pcapng" "$@" ||
		fail "rawcap-pcap $* failed"
	tshark -r "$TMP/$out.pcapng" -Y udp.port==9999 -T fields -e data.data -e frame.comment \
		>"$TMP/$out.txt" 2>/dev/null || fail "tshark cannot read $out.pcapng"
}
export_pcap all
export_pcap pod-a --pod web-a
export_pcap pod-b --pod rc-test/web-b
export_pcap pod-d --pod web-d
export_pcap label-db --label app=db
export_pcap ns --namespace rc-test
export_pcap other --namespace kube-system

# rawcap-snapshot create --pod: only web-a's packets, read back from the snapshot alone
"$B/readers/rawcap-snapshot" create --ring "$RING" --dest "$TMP/snaps" --name pod-a \
	--from "$T0" --to "$T1" --pod web-a >"$TMP/snap.out" 2>&1 ||
	fail "rawcap-snapshot create --pod failed: $(cat "$TMP/snap.out")"
grep -q '"filter": *"pods: --pod web-a"' "$TMP/snaps/pod-a/manifest.json" ||
	fail "manifest does not record the selection: $(cat "$TMP/snaps/pod-a/manifest.json")"
"$B/readers/rawcap-pcap" --snapshot "$TMP/snaps/pod-a" -q -o "$TMP/snap-a.pcapng" ||
	fail "rawcap-pcap --snapshot of the pod snapshot failed"
tshark -r "$TMP/snap-a.pcapng" -Y udp.port==9999 -T fields -e data.data -e frame.comment \
	>"$TMP/snap-a.txt" 2>/dev/null || fail "tshark cannot read snap-a.pcapng"

# rawcap-forward --pod: into a plain TCP receiver, classic pcap
ip netns exec "$NS" $PY - "$TMP" <<'PY' &
import socket, sys
tmp = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(10)
open(f"{tmp}/fwd.port.tmp", "w").write(str(srv.getsockname()[1]))
__import__("os").rename(f"{tmp}/fwd.port.tmp", f"{tmp}/fwd.port")
conn, _ = srv.accept()
conn.settimeout(10)
with open(f"{tmp}/fwd-a.pcap", "wb") as f:
    while True:
        b = conn.recv(65536)
        if not b:
            break
        f.write(b)
PY
RECV=$!
PIDS+=("$RECV")
for _ in $(seq 100); do [ -s "$TMP/fwd.port" ] && break; sleep 0.05; done
[ -s "$TMP/fwd.port" ] || fail "TCP receiver did not start"
ip netns exec "$NS" timeout 10 "$B/readers/rawcap-forward" --ring "$RING" --from "$T0" \
	--to "$T1" --pod web-a --connect "127.0.0.1:$(cat "$TMP/fwd.port")" --plain \
	--format pcap 2>"$TMP/fwd.err" || fail "rawcap-forward --pod failed: $(cat "$TMP/fwd.err")"
wait "$RECV" || fail "TCP receiver failed"
tshark -r "$TMP/fwd-a.pcap" -Y udp.port==9999 -T fields -e data.data -e frame.comment \
	>"$TMP/fwd-a.txt" 2>/dev/null || fail "tshark cannot read the forwarded pcap"

$PY - "$TMP" <<'PY' || fail "pod-aware export is wrong"
import collections, sys
tmp = sys.argv[1]

def load(name):
    out = []
    for line in open(f"{tmp}/{name}.txt"):
        data, _, comment = line.rstrip("\n").partition("\t")
        out.append((bytes.fromhex(data.replace(":", "")).decode(), comment))
    return out

allp = load("all")
tags = collections.Counter(t for t, _ in allp)
assert len(tags) == 27, f"expected 27 distinct datagrams in the capture, got {len(tags)}"
# comments name the pod that held each address at the packet's time
want_comment = {"p1:node>a": "dst pod rc-test/web-a", "p1:node>b": "dst pod rc-test/web-b",
                "p1:a>b": "src pod rc-test/web-a; dst pod rc-test/web-b",
                "p2:node>a": "dst pod rc-test/web-a", "p2:node>d": "dst pod rc-test/web-d",
                "p2:d>a": "src pod rc-test/web-d; dst pod rc-test/web-a"}
for tag, comment in allp:
    flow = tag.rsplit(":", 1)[0]
    assert comment == want_comment[flow], (tag, comment)

def check(name, flows):
    got = collections.Counter(t for t, _ in load(name))
    want = collections.Counter({t: n for t, n in tags.items() if t.rsplit(":", 1)[0] in flows})
    assert got == want, (name, sorted(got.items()), sorted(want.items()))
    print(f"{name}: {sum(got.values())} packets, exactly the selected pod's")

check("pod-a", {"p1:node>a", "p1:a>b", "p2:node>a", "p2:d>a"})
check("pod-b", {"p1:node>b", "p1:a>b"})
check("pod-d", {"p2:node>d", "p2:d>a"})
check("label-db", {"p2:node>d", "p2:d>a"})
check("ns", set(want_comment))
check("other", set())
check("snap-a", {"p1:node>a", "p1:a>b", "p2:node>a", "p2:d>a"})
check("fwd-a", {"p1:node>a", "p1:a>b", "p2:node>a", "p2:d>a"})
# the snapshot kept the metadata (of the lookback too): its comments still name the pods
for tag, comment in load("snap-a"):
    assert comment == want_comment[tag.rsplit(":", 1)[0]], ("snap-a", tag, comment)
PY
grep -q -- "$TOKEN" "$TMP/driver.err" && fail "the token appears in stderr"
echo "k8s pod-aware export test: PASS"
