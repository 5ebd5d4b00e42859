#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# endpoints.sh - kubectl-rawcap over --endpoints, through libcurl's multi
# interface to real HTTP servers: three nodes are Python's stock file server
# (http.server) serving each node's answers as files at the API's paths, in a
# network namespace of its own. No rawcap-server logic is imitated: this
# checks the client side of the transport (parallel streams, back-pressure
# with pause and resume, per-node failures); e2e.sh runs the same client
# against rawcap-server itself.
#
# export through HTTP equals merge of the same files; an unreachable node and
# a node answering 404 are named while the others merge; bounds reads
# /v1/node; dissection status reads /v1/dissection (a node answering 200
# with something else, or more than 8 MiB, is failed, exit 1); dissect streams the
# merged window to a plain TCP dissector and to a TLS one (sink.py), and
# refuses a TLS dissector whose certificate it cannot verify; usage errors
# exit 2.
set -euo pipefail

B=${RAWCAP_BUILD:?}
S=${RAWCAP_SRC:?}
KR=$B/cli/kubectl-rawcap
PCAP=$B/readers/rawcap-pcap
PKTW=$B/tests/pktwriter
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
for t in python3 tshark openssl; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
NS=rc-kend-$$
T=$(mktemp -d /tmp/rc-kend.XXXXXX)
export RAWCAP_SHM_DIR=$T/shm
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.err; do [ -s "$f" ] && { echo "--- $f" >&2; tail -6 "$f" >&2; }; done
	exit 1
}
nsx() { ip netns exec "$NS" "$@"; }
# Waits (bounded) until something listens on PORT in the namespace, without
# connecting: the dissector sinks below count the connections they accept.
wait_listen() {
	for _ in $(seq 300); do
		[ -n "$(nsx ss -Hltn "sport = :$1")" ] && return 0
		sleep 0.1
	done
	fail "nothing listens on port $1"
}
ip netns add "$NS"
nsx ip link set lo up
mkdir -p "$RAWCAP_SHM_DIR"

# Each node's window: 6 MiB of packets filled at once (interleaved times), via rawcap-pcap.
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$T/empty.pcap"
fills=()
for n in n1 n2 n3; do
	mkdir -p "$T/www-$n/v1"
	echo go | "$PKTW" --size $((4 << 20)) --storage "$T/fifo-$n" --storage-size $((24 << 20)) \
		--fill $((6 << 20)) "ke$$$n" "$T/empty.pcap" >"$T/fill-$n.out" &
	fills+=($!)
done
wait "${fills[@]}"
for n in n1 n2 n3; do
	"$PCAP" --ring "ke$$$n" --storage "$T/fifo-$n" -q -o "$T/www-$n/v1/pcap" || fail "export $n"
	cp "$T/www-$n/v1/pcap" "$T/$n.pcapng"
done
mkdir -p "$T/www-n5" # answers 404 for everything
cat >"$T/www-n1/v1/node" <<'J'
{"node": "n1", "oldest": "2026-11-30T07:00:00Z", "newest": "2026-11-30T08:00:00Z", "packets": 5, "loss": {}}
J
cat >"$T/www-n2/v1/node" <<'J'
{"node": "n2", "oldest": "2026-11-30T07:30:00Z", "newest": "2026-11-30T07:45:00.25Z", "packets": 7, "loss": {"kernel": 3}}
J
echo '{"enabled": false, "resume": "live", "forwarder": {"connected": true, "receivers": 2}}' \
	>"$T/www-n1/v1/dissection"
mkdir -p "$T/www-n6/v1" # answers 200 with what is not rawcap-server's answer
echo '<html>a login page</html>' >"$T/www-n6/v1/node"
echo '{"status": "ok"}' >"$T/www-n6/v1/dissection"
head -c $((9 << 20)) /dev/zero | tr '\0' ' ' >"$T/www-n6/v1/snapshots" # past the client's 8 MiB cap
port=18470
for n in n1 n2 n3 n5 n6; do
	port=$((port + 1))
	ip netns exec "$NS" python3 -m http.server --bind 127.0.0.1 --directory "$T/www-$n" "$port" \
		>/dev/null 2>&1 &
	PIDS+=($!)
	eval "URL_$n=http://127.0.0.1:$port"
done
for p in 18471 18472 18473 18474 18475; do wait_listen "$p"; done
EP="n1=$URL_n1,n2=$URL_n2,n3=$URL_n3"

kr() { # EXPECTED-EXIT NAME args...
	local want=$1 name=$2 rc=0
	shift 2
	nsx timeout 120 "$KR" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	[ "$rc" = "$want" ] || fail "$name: exit $rc, want $want"
}
pkts() { tshark -r "$1" -T fields -e frame.time_epoch -e frame.len -e frame.interface_name 2>/dev/null; }
bytes() { tshark -r "$1" -x 2>/dev/null | grep -E '^[0-9a-f]{4}  ' | md5sum; }

# export over HTTP = merge of the same files
kr 0 merge merge -q -o "$T/files.pcapng" n1="$T/n1.pcapng" n2="$T/n2.pcapng" n3="$T/n3.pcapng"
kr 0 export export -q --endpoints "$EP" --last 1h -o "$T/http.pcapng"
[ "$(pkts "$T/http.pcapng" | wc -l)" -gt 10000 ] || fail "export is too small"
pkts "$T/http.pcapng" >"$T/a.txt"
pkts "$T/files.pcapng" >"$T/b.txt"
cmp -s "$T/a.txt" "$T/b.txt" || fail "export over HTTP differs from the merge of the files"
[ "$(bytes "$T/http.pcapng")" = "$(bytes "$T/files.pcapng")" ] || fail "bytes differ"
grep -q "n1: complete" "$T/export.err" || fail "no per-node report"
capinfos "$T/http.pcapng" 2>/dev/null | grep -q "kubectl rawcap: window .* of every node" ||
	fail "no window in the section comment"

# one node unreachable, one answering 404: both named, the others merged
kr 1 partial export -q --endpoints "$EP,n4=http://127.0.0.1:18479,n5=$URL_n5" --last 1h \
	-o "$T/partial.pcapng"
grep -q "n4: failed.*" "$T/partial.err" || fail "unreachable node not named: $(cat "$T/partial.err")"
grep -q "n5: failed.*HTTP 404" "$T/partial.err" || fail "404 not named: $(cat "$T/partial.err")"
pkts "$T/partial.pcapng" >"$T/c.txt"
cmp -s "$T/a.txt" "$T/c.txt" || fail "a failed node changed the others' merge"
capinfos "$T/partial.pcapng" 2>/dev/null | grep -q "node n4:" || fail "failed node not in the file's comment"

# --nodes narrows
kr 0 narrow export -q --endpoints "$EP" --nodes n2 --last 1h -o "$T/n2only.pcapng"
[ "$(pkts "$T/n2only.pcapng" | cut -f3 | sort -u)" = "n2/lo" ] || fail "--nodes n2 merged others"

# bounds and dissection status
kr 1 bounds bounds --endpoints "$EP"
grep -q "^n1 .*2026-11-30T07:00:00.000000000Z .*1h0m0s .* ok" "$T/bounds.out" || fail "bounds n1: $(cat "$T/bounds.out")"
grep -q "kernel=3" "$T/bounds.out" || fail "bounds loss"
grep -q "^n3 .*failed: HTTP 404" "$T/bounds.out" || fail "bounds n3"
grep -q "common window: 2026-11-30T07:30:00.000000000Z .. 2026-11-30T07:45:00.250000000Z (15m0.2s) on 2 of 3" \
	"$T/bounds.out" || fail "common window: $(cat "$T/bounds.out")"
kr 0 dstat dissection status --endpoints "n1=$URL_n1"
grep -q "^n1 .*off .*live .*yes .*2" "$T/dstat.out" || fail "dissection status: $(cat "$T/dstat.out")"
# a node answering 200 with something else is failed, not empty or unknown
kr 1 bounds6 bounds --endpoints "n1=$URL_n1,n6=$URL_n6"
grep -q "^n6 .*failed: HTTP 200, .* not rawcap-server's answer (not a JSON object)" "$T/bounds6.out" ||
	fail "bounds n6: $(cat "$T/bounds6.out")"
grep -q "n6: HTTP 200" "$T/bounds6.err" || fail "bounds n6 not named: $(cat "$T/bounds6.err")"
kr 1 dstat6 dissection status --endpoints "n1=$URL_n1,n6=$URL_n6"
grep -q "^n6 .*not rawcap-server's answer (no \"enabled\")" "$T/dstat6.out" ||
	fail "dissection status n6: $(cat "$T/dstat6.out")"
kr 1 list6 snapshot list --endpoints "n6=$URL_n6"
grep -q "n6: .*answer larger than 8388608 bytes" "$T/list6.err" || fail "snapshot list n6: $(cat "$T/list6.err")"

# dissect: the merged window to a plain TCP dissector, then to a TLS one
SINK="python3 $S/tests/kubectl/sink.py"
ip netns exec "$NS" $SINK 18480 "$T/dissected.pcapng" 2>"$T/sink.err" &
sink=$!
wait_listen 18480
kr 0 dissect dissect -q --endpoints "$EP" --last 1h --target 127.0.0.1:18480 --plain
wait "$sink"
pkts "$T/dissected.pcapng" >"$T/d.txt"
cmp -s "$T/a.txt" "$T/d.txt" || fail "the dissector did not get the merged window"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
# Two connections: one from a client that does not trust the certificate
# (it must refuse and send nothing), then one that does.
ip netns exec "$NS" $SINK 18481 "$T/tls.pcapng" --cert "$T/cert.pem" --key "$T/key.pem" \
	--accept 2 2>"$T/tls-sink.err" &
sink=$!
wait_listen 18481
kr 1 dissect-untrusted dissect -q --endpoints "$EP" --nodes n1 --last 1h --target 127.0.0.1:18481
grep -qi "certificate" "$T/dissect-untrusted.err" || fail "untrusted TLS target: $(cat "$T/dissect-untrusted.err")"
kr 0 dissect-tls dissect -q --endpoints "$EP" --nodes n1 --last 1h --target 127.0.0.1:18481 \
	--target-ca "$T/cert.pem"
wait "$sink"
pkts "$T/tls.pcapng" >"$T/e.txt"
kr 0 merge-n1 merge -q -o "$T/n1-merged.pcapng" n1="$T/n1.pcapng"
pkts "$T/n1-merged.pcapng" >"$T/f.txt"
cmp -s "$T/e.txt" "$T/f.txt" || fail "the TLS dissector did not get node n1's window"
[ "$(wc -l <"$T/e.txt")" = 4298 ] || fail "the TLS dissector got $(wc -l <"$T/e.txt") packets"

# usage errors
echo token >"$T/token"
kr 2 u1 bounds --endpoints "$EP" --token-file "$T/token"
grep -q "sent over https:// only" "$T/u1.err" || fail "token over http"
kr 2 u2 bounds --endpoints "n1=ftp://x"
kr 2 u3 bounds --endpoints "N1=http://x"
kr 2 u4 bounds --endpoints "n1=http://x,n1=http://y"
kr 2 u5 export --endpoints "$EP" --last 5m --filter "tcp portt 1" -o "$T/x"
kr 2 u6 export --endpoints "$EP" -o "$T/x"
kr 2 u7 dissect --endpoints "$EP" --last 5m
kr 2 u8 snapshot create bad/name --endpoints "$EP" --last 5m
kr 2 u9 export --endpoints "$EP" --last 5m --pod-namespace "" -o "$T/x"
# a node that cannot be reached before the first packet: no output file left
# behind (rawcap_output_failed); one that was there before is left as it was
rm -f "$T/none.pcapng"
"$KR" export --endpoints n1=http://127.0.0.1:1 --last 1m -o "$T/none.pcapng" 2>"$T/none.err" &&
	fail "export from an unreachable node: exit 0"
[ ! -e "$T/none.pcapng" ] || fail "a failed export left $T/none.pcapng behind"
echo old >"$T/old.pcapng"
"$KR" export --endpoints n1=http://127.0.0.1:1 --last 1m -o "$T/old.pcapng" 2>"$T/none.err" &&
	fail "export from an unreachable node: exit 0"
grep -q "old.pcapng left as it was: no packet was exported" "$T/none.err" ||
	fail "old file: $(cat "$T/none.err")"
[ "$(cat "$T/old.pcapng")" = old ] || fail "a failed export destroyed the file that was there"
echo PASS
