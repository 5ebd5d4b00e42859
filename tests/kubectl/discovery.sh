#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# discovery.sh - kubectl-rawcap's default way to the nodes, with Debian's real
# kubectl (.deps/kubectl, see scripts/install-deps.sh) against the project's
# fake HTTPS API server (tests/k8s/fake_apiserver.py), in a network namespace
# of its own, with a kubeconfig written here.
#
# 1. Real kubectl throughout: discovery lists rawcap's pods by label
#    (the server filters by the labelSelector kubectl sends), picks one pod per
#    node (not a terminating one), names the node whose pod is not running,
#    and tries a port-forward per node; the fake server cannot upgrade a
#    connection, so each node fails with kubectl's own words, and nothing
#    kubectl started is left behind.
# 2. port-forward alone replaced by pf_standin.py (the one step that needs a
#    real cluster): bounds and export reach the nodes through it (named
#    container port used); --nodes narrows; a failing port-forward names its
#    node; and after exit, Ctrl-C and SIGKILL no process it started remains.
set -euo pipefail

B=${RAWCAP_BUILD:?}
S=${RAWCAP_SRC:?}
KR=$B/cli/kubectl-rawcap
REAL=${RAWCAP_TEST_KUBECTL:-$S/.deps/kubectl/usr/bin/kubectl}
HERE=$S/tests/kubectl
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
[ -x "$REAL" ] || { echo "SKIP: Debian's kubectl not unpacked ($REAL): run scripts/install-deps.sh"; exit 77; }
for t in openssl python3 tshark; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
"$REAL" version --client 2>/dev/null | grep -q 'GitVersion:"v1\.' || { echo "SKIP: $REAL is not kubectl"; exit 77; }

NS=rc-kdisc-$$
T=$(mktemp -d /tmp/rc-kdisc.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for f in "$T"/pf/pids/*; do
		[ -f "$f" ] && kill "$(cut -d' ' -f1 "$f")" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.err; do [ -s "$f" ] && { echo "--- $f" >&2; tail -8 "$f" >&2; }; done
	exit 1
}
nsx() { ip netns exec "$NS" "$@"; }
ip netns add "$NS"
nsx ip link set lo up

. "$HERE/fake_cluster.sh"
start_fake_cluster "$NS"

# kr EXPECTED-EXIT NAME args...: run kubectl-rawcap in the namespace, output in $T/NAME.out/.err
kr() {
	local want=$1 name=$2 rc=0
	shift 2
	nsx timeout 60 "$KR" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	[ "$rc" = "$want" ] || fail "$name: exit $rc, want $want: $(cat "$T/$name.err")"
}
# nothing kubectl-rawcap started may outlive it: no process with our kubeconfig
# in its arguments, and every stand-in recorded in pf/pids gone
no_leftovers() {
	local i p
	for i in $(seq 50); do
		p=$(pgrep -f -- "--kubeconfig $T/kubeconfig" || true)
		for f in "$T"/pf/pids/*; do
			[ -f "$f" ] && kill -0 "$(cut -d' ' -f1 "$f")" 2>/dev/null && p="$p $(cut -d' ' -f1 "$f")"
		done
		[ -z "${p// /}" ] && return 0
		sleep 0.1
	done
	fail "$1: processes left behind: $p"
}

# ---- 1. Debian's kubectl for everything ----
kr 1 real bounds --kubectl "$REAL" --kubeconfig "$T/kubeconfig" --request-timeout 10
no_leftovers "real kubectl"
grep -q '"path": "/api/v1/namespaces/rawcap/pods", "query": {"labelSelector": "app.kubernetes.io/name=rawcap"' \
	"$T/requests.log" || fail "get pods did not select by the chart's labels"
grep -q "node-a" "$T/real.out" && grep -q "node-b" "$T/real.out" || fail "nodes missing: $(cat "$T/real.out")"
grep -q "node-c.*pod rawcap-c2d4f is not running (phase Pending)" "$T/real.out" || fail "node-c: $(cat "$T/real.out")"
grep -q "node-d" "$T/real.out" && fail "a pod without rawcap's labels was used"
grep -q "ignoring pod rawcap-zz9x1 is not scheduled" "$T/real.err" || fail "unscheduled pod not said"
grep -q "node-a.*kubectl port-forward to pod rawcap-7xk2p failed" "$T/real.out" ||
	fail "node-a: port-forward failure not named: $(cat "$T/real.out")"
# kubectl port-forward looked up the running pod on node-b, not the terminating one
grep -q '"/api/v1/namespaces/rawcap/pods/rawcap-b4mn8"' "$T/requests.log" || fail "node-b: wrong pod"
grep -q 'rawcap-9qwzt"' "$T/requests.log" && fail "node-b: the terminating pod was used"

kr 1 nosel bounds --kubectl "$REAL" --kubeconfig "$T/kubeconfig" --selector app=nothing
grep -q "no rawcap pods in namespace rawcap with labels app=nothing" "$T/nosel.err" ||
	fail "empty selection: $(cat "$T/nosel.err")"
kr 1 unauth bounds --kubectl "$REAL" --kubeconfig "$T/kubeconfig-bad"
grep -qi "get pods.*\(unauthorized\|must be logged in\)" "$T/unauth.err" ||
	fail "401 not said: $(cat "$T/unauth.err")"
kr 1 nokubectl bounds --kubectl "$T/no-such-kubectl" --kubeconfig "$T/kubeconfig"
grep -q "no-such-kubectl" "$T/nokubectl.err" || fail "missing kubectl not named"
kr 2 usage bounds --kubeconfig "$T/kubeconfig" --endpoints n1=http://127.0.0.1:1
no_leftovers "failures"

# ---- 2. port-forward stood in for; everything else still Debian's kubectl ----
export RC_REAL_KUBECTL=$REAL RC_PF_DIR=$T/pf
SK=$HERE/kubectl_standin.sh
for pod in rawcap-7xk2p rawcap-b4mn8; do
	mkdir -p "$T/pf/data/$pod/v1"
	tail -c +4 "$S/tests/fuzz/corpus/pcapng/le" >"$T/pf/data/$pod/v1/pcap"
done
cat >"$T/pf/data/rawcap-7xk2p/v1/node" <<'J'
{"node": "node-a", "oldest": "2026-11-30T07:00:00Z", "newest": "2026-11-30T07:10:00Z",
 "packets": 1000, "loss": {"kernel": 2, "ring_full": 0}}
J
cat >"$T/pf/data/rawcap-b4mn8/v1/node" <<'J'
{"node": "node-b", "oldest": "2026-11-30T07:05:00.5Z", "newest": "2026-11-30T07:20:00Z",
 "packets": 2000, "loss": {}}
J
kr 1 sb bounds --kubectl "$SK" --kubeconfig "$T/kubeconfig"
grep -q "common window: 2026-11-30T07:05:00.500000000Z .. 2026-11-30T07:10:00.000000000Z (4m59.5s) on 2 of 3 nodes" \
	"$T/sb.out" || fail "common window: $(cat "$T/sb.out")"
grep -q "kernel=2" "$T/sb.out" || fail "loss by cause: $(cat "$T/sb.out")"
grep -q "pod/rawcap-7xk2p :18474" "$T/pf/pids/rawcap-7xk2p" || fail "the named container port was not used"
no_leftovers "bounds"
kr 0 sbn bounds --kubectl "$SK" --kubeconfig "$T/kubeconfig" --nodes node-b,node-a --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [n["node_queried"] for n in d["nodes"]] == ["node-a","node-b"], d' \
	"$T/sbn.out" || fail "--json/--nodes: $(cat "$T/sbn.out")"
kr 1 sbx bounds --kubectl "$SK" --kubeconfig "$T/kubeconfig" --nodes node-a,node-x
grep -q "node-x.*no rawcap pod on this node" "$T/sbx.out" || fail "unknown --nodes name: $(cat "$T/sbx.out")"
# each node's file says it dropped 5 packets: the export is whole but partial
# (the file's interfaces differ in link type: native keeps both, as served)
kr 1 se export --kubectl "$SK" --kubeconfig "$T/kubeconfig" --nodes node-a,node-b --last 1h \
	--linktype native -o "$T/se.pcapng"
grep -q "node-a: partial, 5 packets (0.0 MB); 5 packets dropped on the node" "$T/se.err" ||
	fail "loss through the port-forward: $(cat "$T/se.err")"
[ "$(tshark -r "$T/se.pcapng" 2>/dev/null | wc -l)" = 10 ] || fail "export through port-forwards: not 2 x 5 packets"
tshark -r "$T/se.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u | tr '\n' ' ' |
	grep -qx "node-a/eth0 node-a/tun0 node-b/eth0 node-b/tun0 " || fail "interfaces not per node"
no_leftovers "export"
# every node, node-c's pod Pending: named, the others merged
kr 1 seall export --kubectl "$SK" --kubeconfig "$T/kubeconfig" --last 1h --linktype native \
	-o "$T/seall.pcapng"
grep -q "node-c: failed, 0 packets .*pod rawcap-c2d4f is not running (phase Pending)" "$T/seall.err" ||
	fail "export with a Pending pod: $(cat "$T/seall.err")"
[ "$(tshark -r "$T/seall.pcapng" 2>/dev/null | wc -l)" = 10 ] || fail "export beside a Pending pod: not 2 x 5 packets"
no_leftovers "export beside a Pending pod"
RC_PF_MODE=fail:rawcap-b4mn8 kr 1 sf bounds --kubectl "$SK" --kubeconfig "$T/kubeconfig" --nodes node-a,node-b
grep -q 'node-b.*port-forward to pod rawcap-b4mn8 failed: error: error upgrading connection: pods "rawcap-b4mn8" not found' \
	"$T/sf.out" || fail "failing port-forward: $(cat "$T/sf.out")"
grep -q "^node-a .*ok" "$T/sf.out" || fail "one failing node hid another"
no_leftovers "failing port-forward"

# Ctrl-C (SIGINT) and SIGKILL during an export: nothing it started survives.
for sig in INT KILL; do
	rm -f "$T"/pf/pids/*
	RC_PF_MODE=slow ip netns exec "$NS" "$KR" export --kubectl "$SK" --kubeconfig "$T/kubeconfig" --nodes node-a,node-b \
		--last 1h -o "$T/sig.pcapng" 2>"$T/sig$sig.err" &
	pid=$!
	for _ in $(seq 100); do
		[ -f "$T/pf/pids/rawcap-7xk2p.streaming" ] && [ -f "$T/pf/pids/rawcap-b4mn8.streaming" ] && break
		sleep 0.1
	done
	[ -f "$T/pf/pids/rawcap-b4mn8.streaming" ] || fail "SIG$sig: streams did not start"
	kill -"$sig" "$pid"
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	no_leftovers "SIG$sig"
	if [ "$sig" = INT ]; then
		[ "$rc" = 1 ] || fail "Ctrl-C: exit $rc, want 1"
		grep -q "interrupted" "$T/sigINT.err" || fail "Ctrl-C not said: $(cat "$T/sigINT.err")"
		tshark -r "$T/sig.pcapng" >/dev/null 2>&1 || fail "Ctrl-C left an unreadable file"
	fi
done
echo PASS
