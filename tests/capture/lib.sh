# SPDX-License-Identifier: MIT
# lib.sh - shared by the capture fidelity tests (tests/capture/*.sh): private
# network namespaces, capd started and stopped, an independent tcpdump on the
# same interface, exports compared with tcpdump's capture by tests/capture/pkts.py.
# Every test removes its namespaces, rings and files on exit.

: "${RAWCAP_BUILD:?run through ctest, or set RAWCAP_BUILD to the build tree}"
: "${RAWCAP_SRC:?run through ctest, or set RAWCAP_SRC to the source tree}"
CAPD=$RAWCAP_BUILD/capd/capd
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
SNAP=$RAWCAP_BUILD/readers/rawcap-snapshot
FWD=$RAWCAP_BUILD/readers/rawcap-forward
PKTS="python3 $RAWCAP_SRC/tests/capture/pkts.py"
TRAFFIC=$RAWCAP_SRC/tests/capture/traffic.py

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for network namespaces and AF_PACKET"; exit 77; }
for t in ip tcpdump tshark python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

TNAME=${TNAME:-cap}
NS=rc-$TNAME-$$
TMP=$(mktemp -d /tmp/rc-$TNAME-XXXXXX)
chmod 755 "$TMP"
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$RAWCAP_SHM_DIR"
RING=c$$
PIDS=()
NSS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for p in "${NSS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
	if [ -n "${RAWCAP_KEEP_TMP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done
	exit 1
}

# mkns NAME: a namespace with loopback up, removed on exit.
mkns() {
	ip netns add "$1" || fail "ip netns add $1"
	NSS+=("$1")
	ip netns exec "$1" ip link set lo up
}

nsx() { ip netns exec "$NS" "$@"; }
now() { date +%s.%N; }

# start_capd LOG ARGS...: capd on $RING inside $NS; waits until it captures.
start_capd() {
	local log=$1
	shift
	ip netns exec "$NS" "$CAPD" --ring "$RING" --ring-size 64Mi "$@" 2>"$log" &
	CAPD_PID=$!
	PIDS+=("$CAPD_PID")
	for _ in $(seq 100); do
		grep -q "capturing into ring" "$log" && return 0
		kill -0 "$CAPD_PID" 2>/dev/null || fail "capd exited during startup: $(cat "$log")"
		sleep 0.1
	done
	fail "capd did not start within 10 s"
}

# stop_capd: SIGTERM, bounded wait, exit status 0 required.
stop_capd() {
	local rc=0
	kill -TERM "$CAPD_PID"
	for _ in $(seq 100); do kill -0 "$CAPD_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$CAPD_PID" || rc=$?
	[ "$rc" = 0 ] || fail "capd exited $rc after SIGTERM"
}

# td_start OUT IFACE [FILTER...]: tcpdump in $NS, nanosecond stamps, until td_stop.
td_start() {
	local out=$1 ifc=$2
	shift 2
	ip netns exec "$NS" tcpdump -i "$ifc" -s 0 -U --immediate-mode -Z root -B 16384 \
		--time-stamp-precision nano -w "$out" "$@" 2>"$out.log" &
	TD_PID=$!
	PIDS+=("$TD_PID")
	for _ in $(seq 100); do grep -q listening "$out.log" && return 0; sleep 0.05; done
	fail "tcpdump did not start: $(cat "$out.log")"
}

td_stop() {
	sleep 0.4
	kill -INT "$TD_PID" 2>/dev/null
	wait "$TD_PID" 2>/dev/null || true
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

