# SPDX-License-Identifier: MIT
# lib.sh - shared by the pcap/snapshot script tests: a private network
# namespace with known traffic captured by tcpdump, and comparisons of
# exported files against that capture with independent tools.
#
# The ring is fed by tests/pcap/pktwriter (a capd stand-in) from the
# tcpdump capture. To run against capd instead, replace feed_ring (start
# capd on the namespace's interface with --ring "$RING" while the traffic
# runs); the rest of each test stays the same.

B=${RAWCAP_BUILD:?RAWCAP_BUILD must point at the build tree}
PCAP=$B/readers/rawcap-pcap
SNAP=$B/readers/rawcap-snapshot
PKTW=$B/tests/pktwriter
T=$(mktemp -d /tmp/rc-test.XXXXXX)
NS=rc-pcap-$$
RING=rctest$$
PIDS=()
DEBUG=${DEBUG:-}

fail() {
	echo "FAIL: $*" >&2
	[ -z "$DEBUG" ] || { ls -la "$T"; tail -n 5 "$T"/*.err "$T"/*.txt; } >&2
	exit 1
}

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	rm -f /dev/shm/rawcap-"$RING"* /dev/shm/rawcap-"$RING"-*
	chmod -R u+w "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "SKIP: $1 missing"; exit 77; }; }
need tcpdump; need tshark; need capinfos; need python3

netns_up() {
	ip netns add "$NS"
	ip -n "$NS" link set lo up
}

# Known traffic on the namespace's loopback: $1 UDP datagrams of varied sizes
# to port 9999 and a TCP exchange on port 9998.
send_traffic() {
	ip netns exec "$NS" python3 - "$1" "${2:-x}" <<'PY'
import socket, sys, threading
n, tag = int(sys.argv[1]), sys.argv[2].encode()
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 9998)); srv.listen(1)
def serve():
    c, _ = srv.accept()
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
t = threading.Thread(target=serve); t.start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    u.sendto(tag + b"-%06d-" % i + b"p" * (i * 37 % 1200), ("127.0.0.1", 9999))
c = socket.create_connection(("127.0.0.1", 9998))
for i in range(20):
    c.sendall(tag + b"-tcp-%d-" % i + b"t" * 300); c.recv(65536)
c.close(); t.join(); srv.close()
PY
}

# Record the namespace's loopback with tcpdump while running "$@".
capture_ref() {
	local out=$1; shift
	ip netns exec "$NS" tcpdump -i lo -s 0 -U -w "$out" 2>"$T/tcpdump.err" &
	local tp=$!
	for _ in $(seq 100); do grep -q listening "$T/tcpdump.err" && break; sleep 0.05; done
	"$@"
	sleep 0.3
	kill -INT "$tp"; wait "$tp" || true
}

# Packet count of a capture file, via capinfos (fails the test on warnings).
count_pkts() {
	local n
	capinfos -c -M "$1" >"$T/capinfos.out" 2>&1 || fail "capinfos $1: $(cat "$T/capinfos.out")"
	grep -qi warn "$T/capinfos.out" && fail "capinfos warns on $1: $(cat "$T/capinfos.out")"
	n=$(awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}' "$T/capinfos.out")
	echo "$n"
}

# tshark must read the file without complaint.
tshark_clean() {
	tshark -r "$1" >/dev/null 2>"$T/tshark.err" || fail "tshark -r $1: $(cat "$T/tshark.err")"
	# tshark's note about running as root is not about the file.
	grep -v 'Running as user "root"' "$T/tshark.err" >"$T/tshark.warn" || true
	[ -s "$T/tshark.warn" ] && fail "tshark warns on $1: $(cat "$T/tshark.warn")"
	return 0
}

# Every packet's timestamp, lengths and bytes, as tcpdump prints them.
dump_pkts() { tcpdump -r "$1" -nn -tt -xx ${2:+"$2"} 2>/dev/null; }

# $1 (exported) holds exactly the packets of $2 (reference), byte for byte.
same_packets() {
	dump_pkts "$1" "${3:-}" >"$T/a.txt"; dump_pkts "$2" "${3:-}" >"$T/b.txt"
	[ -s "$T/b.txt" ] || fail "reference $2 is empty"
	cmp -s "$T/a.txt" "$T/b.txt" || { diff "$T/a.txt" "$T/b.txt" | head -20 >&2; fail "$1 differs from $2"; }
}
