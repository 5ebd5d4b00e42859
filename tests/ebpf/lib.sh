# SPDX-License-Identifier: MIT
# lib.sh - shared setup for the eBPF script tests: two private network
# namespaces joined by a veth pair on 198.18.<n>.0/24, cleanup on exit.
# Source it, then call ebpf_test_init NAME NET_OCTET. Built on tests/lib.sh
# (fail, wait_for, wait_until).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ebpf_test_init() {
	T_NAME=$1
	T_OCT=$2
	BIN=${RAWCAP_BUILD:?RAWCAP_BUILD not set}/tests
	SRC=${RAWCAP_SRC:?RAWCAP_SRC not set}/tests/ebpf
	NSA=rc-$T_NAME-a-$$
	NSB=rc-$T_NAME-b-$$
	IFA=eb$$a
	IFB=eb$$b
	ADDR_A=198.18.$T_OCT.1
	ADDR_B=198.18.$T_OCT.2
	TMP=$(mktemp -d /tmp/rawcap-$T_NAME.XXXXXX)
	RING=$T_NAME-$$
	PIDS=()
	trap ebpf_test_cleanup EXIT
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
}

ebpf_test_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$NSA" 2>/dev/null || true
	ip netns del "$NSB" 2>/dev/null || true
	# rings of this test: RING, RING.new-*, and RING-SUFFIX for a second capd
	rm -f "/dev/shm/rawcap-$RING" "/dev/shm/rawcap-$RING".* "/dev/shm/rawcap-$RING"-* 2>/dev/null || true
	[ -n "${EXTRA_CLEANUP:-}" ] && eval "$EXTRA_CLEANUP"
	if [ -n "${RAWCAP_KEEP_TMP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}

ebpf_netns_pair() {
	ip netns add "$NSA"
	ip netns add "$NSB"
	ip link add "$IFA" netns "$NSA" type veth peer name "$IFB" netns "$NSB"
	for ns in "$NSA" "$NSB"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip -n "$NSA" addr add "$ADDR_A/24" dev "$IFA"
	ip -n "$NSB" addr add "$ADDR_B/24" dev "$IFB"
	ip -n "$NSA" link set "$IFA" up
	ip -n "$NSB" link set "$IFB" up
}

# wait_file FILE [SECONDS]: until FILE is not empty.
wait_file() { wait_until "${2:-10}" test -s "$1"; }

# pcap_tally PCAP MAC: "out out_bytes out_caplen in in_bytes in_caplen" as tcpdump saw
# them, outgoing being the frames sent by MAC.
pcap_tally() {
	tshark -r "$1" -T fields -e eth.src -e frame.len -e frame.cap_len 2>/dev/null |
		awk -v mac="$2" '{ if ($1 == mac) { o++; ob += $2; oc += $3 } else { i++; ib += $2; ic += $3 } }
			END { print o+0, ob+0, oc+0, i+0, ib+0, ic+0 }'
}

# ring_tally DUMP: the same six figures for the PKT lines of an ebpf_ring_dump
# output, outgoing being dir=4 (RAWCAP_DIR_OUTGOING).
ring_tally() {
	awk '/^PKT/ { split($2, d, "="); split($4, l, "="); split($5, c, "=");
		if (d[2] == 4) { o++; ob += l[2]; oc += c[2] } else { i++; ib += l[2]; ic += c[2] } }
		END { print o+0, ob+0, oc+0, i+0, ib+0, ic+0 }' "$1"
}
