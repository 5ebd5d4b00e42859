# SPDX-License-Identifier: MIT
# lib.sh - shared by the pcap/snapshot script tests: a private network
# namespace with known traffic captured by tcpdump, and comparisons of
# exported files against that capture with independent tools. Built on
# tests/lib.sh (temporary directory T, fail, cleanup, capd_start).
#
# The ring is fed by tests/pcap/pktwriter (a capd stand-in) from the
# tcpdump capture. To run against capd instead, replace feed_ring (start
# capd on the namespace's interface with --ring "$RING" while the traffic
# runs); the rest of each test stays the same.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" # fail, PIDS, rc_tmp, capd_start, cleanup
rc_need tcpdump tshark capinfos python3
rc_tmp pcap # rings live in its private RAWCAP_SHM_DIR
T=$TMP
PCAP=$B/readers/rawcap-pcap
SNAP=$B/readers/rawcap-snapshot
PKTW=$B/tests/pktwriter
NS=rc-pcap-$$
RING=rctest$$

netns_up() { rc_netns_add "$NS"; }

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
