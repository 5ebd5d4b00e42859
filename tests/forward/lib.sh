# SPDX-License-Identifier: MIT
# lib.sh - shared setup for the rawcap-forward script tests (sourced).
#
# Built on tests/lib.sh (TMP, fail, PIDS, cleanup on exit, wait_until,
# capd_start/capd_stop). Each test gets its own network namespace (loopback
# only), ring name and temp dir with its private shm directory, all removed on exit. The capture source is behind two functions:
#   src_start        start writing into ring $RING (pktwriter fed from a FIFO)
#   src_send N SIZE  send N UDP datagrams of SIZE bytes over lo in the netns; the packets
#                    that entered the ring are left in $TMP/sent-K.pcap (K counts up)
# The stand-in writer makes these tests exact to the byte; capd itself is the
# source in capd_e2e.sh.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" # fail, PIDS, rc_tmp, rc_netns_add, wait_until, capd_start
FWD=$B/readers/rawcap-forward
PKTWRITER=${RAWCAP_PKTWRITER:-$B/tests/pktwriter}
SINK=${RAWCAP_MSGPACK_SINK:-$B/tests/msgpack_sink}
NAME=${NAME:?}
NS=rc-fwd-$NAME-$$
RING=fwd$NAME$$
SENT=0

rc_need_root
rc_need "$FWD" "$PKTWRITER" tshark dumpcap capinfos tcpdump python3
rc_tmp "fwd-$NAME" # rings live in its private RAWCAP_SHM_DIR
rc_netns_add "$NS"
nsx() { ip netns exec "$NS" "$@"; }

# count_in FILE PATTERN: lines matching.
count_in() { grep -c -- "$2" "$1" 2>/dev/null || true; }
log_has() { [ "$(count_in "$1" "$2")" -ge "${3:-1}" ]; }

src_start() { # [ring size]
	mkfifo "$TMP/feed"
	ip netns exec "$NS" "$PKTWRITER" --now --size "${1:-67108864}" "$RING" - <"$TMP/feed" >"$TMP/pktwriter.err" 2>&1 &
	PIDS+=($!)
	exec 3>"$TMP/feed"
	# The pcap header tcpdump writes for lo: usec magic, v2.4, snaplen 262144, Ethernet.
	printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\x00\x00\x04\x00\x01\x00\x00\x00' >&3
	wait_until 5 test -e "$RAWCAP_SHM_DIR/rawcap-$RING"
}

# gen N SIZE OUT: tcpdump on lo records N datagrams that python sends.
gen() {
	local n=$1 size=$2 out=$3
	ip netns exec "$NS" tcpdump -i lo -B 16384 -U -c "$n" -w "$out" udp port 9 2>"$TMP/tcpdump.err" &
	local tp=$!
	PIDS+=($tp)
	wait_until 5 log_has "$TMP/tcpdump.err" listening
	nsx python3 - "$n" "$size" <<'PY'
import socket, sys, time
n, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(bytes([i % 251]) * (size - 42), ("127.0.0.1", 9))
    if i % 200 == 199:
        time.sleep(0.002)
PY
	wait_until 10 bash -c "! kill -0 $tp 2>/dev/null" # tcpdump saw all $n packets
}

# feed FILE: write FILE's packets into the ring through the stand-in writer.
feed() {
	cmp -s -n 24 "$1" <(printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\x00\x00\x04\x00\x01\x00\x00\x00') ||
		fail "unexpected pcap header in $1"
	tail -c +25 "$1" >&3
}

src_send() { # N SIZE [REPEAT]: sends; sets LAST_SENT to the expected pcap
	SENT=$((SENT + 1))
	LAST_SENT=$TMP/sent-$SENT.pcap
	gen "$1" "$2" "$LAST_SENT"
	local r
	for ((r = 0; r < ${3:-1}; r++)); do feed "$LAST_SENT"; done
}

# send_window N SIZE: src_send N SIZE between two instants: sets T1, T2 and WANT (the packets).
send_window() {
	T1=$(date +%s.%N)
	src_send "$1" "$2"
	WANT=$LAST_SENT
	sleep 0.3
	T2=$(date +%s.%N)
}

# fwd_start LOG ARGS...: start rawcap-forward in the netns, wait until it listens.
fwd_start() {
	local log=$TMP/$1.err; shift
	ip netns exec "$NS" "$FWD" --ring "$RING" "$@" 2>"$log" &
	FWD_PID=$!
	PIDS+=($FWD_PID)
	wait_until 5 log_has "$log" "listening on\|forwarding to"
}

# pkts FILE: packet count; dump FILE: packet bytes without timestamps (to compare).
pkts() { capinfos -c -M "$1" 2>/dev/null | awk '/Number of packets/ {print $NF}'; }
dump() { tcpdump -r "$1" -n -t -xx 2>/dev/null; }
same_packets() { # EXPECTED GOT [REPEAT]
	local r exp
	exp=$(for ((r = 0; r < ${3:-1}; r++)); do dump "$1"; done | md5sum)
	[ "$exp" = "$(dump "$2" | md5sum)" ]
}

# make_pki DIR: a test CA (ca.pem, ca.key) and a server and a client certificate
# it signed, for 127.0.0.1 (server.pem/.key, client.pem/.key), made with the openssl CLI.
make_pki() {
	local p=$1 n
	command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
	mkdir -p "$p"
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=rawcap-test-ca -keyout "$p/ca.key" -out "$p/ca.pem"
	for n in server client; do
		ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
			-keyout "$p/$n.key" -out "$p/$n.csr"
		ossl x509 -req -in "$p/$n.csr" -CA "$p/ca.pem" -CAkey "$p/ca.key" -CAcreateserial \
			-days 2 -extfile <(echo "subjectAltName=IP:127.0.0.1") -out "$p/$n.pem"
	done
}
ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $1 failed"; }

# halfclose_client PORT OUT [PKI]: a receiver on 127.0.0.1:PORT that sends
# nothing and, right after connecting (after its TLS handshake with PKI, a
# dir from make_pki), half-closes: shutdown(SHUT_WR), over TLS without
# close_notify (tls_closewrite.go sends one). It then reads the stream to
# OUT until the forwarder closes it (at most 20 s).
halfclose_client() {
	timeout 25 ip netns exec "$NS" python3 - "$@" <<'PY'
import os, socket, ssl, sys
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
raw = s
if len(sys.argv) > 3:
    pki = sys.argv[3]
    ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
    ctx.check_hostname = False
    ctx.load_cert_chain(pki + "/client.pem", pki + "/client.key")
    s = ctx.wrap_socket(s)
    raw = socket.socket(fileno=os.dup(s.fileno()))
raw.shutdown(socket.SHUT_WR)
s.settimeout(20)
with open(out, "wb") as f:
    while b := s.recv(1 << 16):
        f.write(b)
PY
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
