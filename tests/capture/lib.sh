# SPDX-License-Identifier: MIT
# lib.sh - shared by the capture fidelity tests (tests/capture/*.sh): private
# network namespaces, capd started and stopped, an independent tcpdump on the
# same interface, exports compared with tcpdump's capture by tests/capture/pkts.py.
# Every test removes its namespaces, rings and files on exit.

: "${RAWCAP_SRC:?run through ctest, or set RAWCAP_SRC to the source tree}"
# capd's test library: namespace $NS, $TMP, private shm ($RAWCAP_SHM_DIR), $RING,
# PIDS and RC_NETNS removed on exit, fail, nsx, start_capd LOG ARGS, stop_capd LOG.
. "$RAWCAP_SRC/tests/capd/lib.sh"
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
SNAP=$RAWCAP_BUILD/readers/rawcap-snapshot
FWD=$RAWCAP_BUILD/readers/rawcap-forward
PKTS="python3 $RAWCAP_SRC/tests/capture/pkts.py"
TRAFFIC=$RAWCAP_SRC/tests/capture/traffic.py
for t in tcpdump tshark python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

# mkns NAME: another namespace with loopback up, removed on exit.
mkns() { rc_netns_add "$1" || fail "ip netns add $1"; }

now() { date +%s.%N; }

# veth_to NS2 X Y NET: a veth from $NS (X, 198.18.NET.1/24) to NS2 (Y, 198.18.NET.2/24), up.
veth_to() {
	nsx ip link add "$2" type veth peer name "$3"
	nsx ip link set "$3" netns "$1"
	nsx ip addr add "198.18.$4.1/24" dev "$2"
	nsx ip link set "$2" up
	ip -n "$1" addr add "198.18.$4.2/24" dev "$3"
	ip -n "$1" link set "$3" up
}

# td_bg OUT IFACE [FILTER...]: tcpdump in $NS into OUT (nanosecond stamps, a
# TD_BUFFER KiB buffer), in the background ($TD_PID); td_wait OUT: until it
# listens; td_start: both.
td_bg() {
	local out=$1 ifc=$2
	shift 2
	ip netns exec "$NS" tcpdump -i "$ifc" -s 0 -U --immediate-mode -Z root -B "${TD_BUFFER:-16384}" \
		--time-stamp-precision nano -w "$out" "$@" 2>"$out.log" &
	TD_PID=$!
	PIDS+=("$TD_PID")
}

td_wait() {
	for _ in $(seq 100); do grep -q listening "$1.log" && return 0; sleep 0.05; done
	fail "tcpdump did not start: $(cat "$1.log")"
}

td_start() {
	td_bg "$@"
	td_wait "$1"
}

# td_stop OUT: stop the tcpdump writing OUT ($TD_PID) once it has caught up
# (rc_tcpdump_stop); it must not have dropped any.
td_stop() {
	rc_tcpdump_stop "$TD_PID" "$1" "$1.log" any # loopback among them: counts do not compare
	grep -q "^0 packets dropped by kernel" "$1.log" || fail "tcpdump dropped packets: $(cat "$1.log")"
}

# npk FILE [DISPLAY_FILTER]: packets tshark reads.
npk() { tshark -r "$1" ${2:+-Y "$2"} -T fields -e frame.number 2>/dev/null | wc -l; }

# count FILE: packets in FILE, by our own reading of it.
count() { $PKTS count "$1"; }

# same_packets A B [--sort]: the two files hold the same packets, byte for byte.
same_packets() {
	$PKTS same "$@" >"$TMP/same.out" || fail "$1 and $2 differ: $(cat "$TMP/same.out")"
}


# fwd_fetch PORT OUT: what rawcap-forward streams from 127.0.0.1:PORT in $NS, into OUT.
fwd_fetch() {
	nsx timeout 60 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
with open(sys.argv[2], "wb") as out:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out.write(b)' "$1" "$2"
}
