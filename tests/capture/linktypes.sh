#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# linktypes.sh - capd --interfaces any records every link type it meets as
# tcpdump does on that interface, and a filter means on each what tcpdump
# means there: loopback and veth (Ethernet), a tun (raw IP, as wireguard),
# an ipip tunnel (Calico's), a point-to-point gre tunnel and a gre tunnel
# without a remote (whose raw socket shows the outer header first; tcpdump
# records it cooked). Per interface, the export's network-layer bytes equal
# tcpdump's, unfiltered, with readers' filters and with capd's own filter.
# A filter that cannot apply to a link type is an error, never a silent
# non-match: capd refuses to start, a reader fails with the reason.
set -euo pipefail
TNAME=lt
. "$(dirname "$0")/lib.sh"

NS2=rc-lt2-$$
mkns "$NS2"
V=lv$$a W=lv$$b TUN=lt$$t IPIP=li$$p GRE=lg$$p GRN=ln$$p VX=lx$$p
veth_to "$NS2" "$V" "$W" 130
for ns in "$NS" "$NS2"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
# Tunnels between the namespaces, each where the kernel has it: ipip,
# point-to-point gre, gre without a remote (its peer reached through a
# neighbour entry naming the outer address), vxlan (Ethernet over UDP).
# tunnel KIND NAME NET ARGS...: the tunnel in both namespaces, 198.18.NET.{1,2};
# in ARGS, SELF and PEER stand for the namespace's and its peer's veth address.
IFACES=(lo "$V")
NETS=()
tunnel() {
	local kind=$1 name=$2 net=$3 n ns self peer args
	shift 3
	for n in 1 2; do
		ns=$NS self=198.18.130.1 peer=198.18.130.2
		[ $n = 1 ] || { ns=$NS2 self=198.18.130.2 peer=198.18.130.1; }
		args=$(sed "s/SELF/$self/; s/PEER/$peer/" <<<"$*")
		# shellcheck disable=SC2086
		if ! ip -n "$ns" link add "$name" type "$kind" $args 2>/dev/null; then
			echo "note: no $kind tunnels in this kernel"
			ip -n "$NS" link del "$name" 2>/dev/null || true
			return 0
		fi
		ip -n "$ns" addr add "198.18.$net.$n/24" dev "$name"
		ip -n "$ns" link set "$name" up
		# no remote: the peer's inner address maps to its outer one
		grep -q remote <<<"$args" ||
			ip -n "$ns" neigh add "198.18.$net.$((3 - n))" lladdr "$peer" dev "$name" nud permanent
	done
	IFACES+=("$name")
	NETS+=("$net")
}
tunnel ipip "$IPIP" 131 local SELF remote PEER
tunnel gre "$GRE" 132 local SELF remote PEER key 1
tunnel gre "$GRN" 133 local SELF key 2
tunnel vxlan "$VX" 135 id 42 local SELF remote PEER dstport 4789
nsx ip tuntap add dev "$TUN" mode tun
nsx ip addr add 198.18.134.1/24 dev "$TUN"
nsx ip link set "$TUN" up
IFACES+=("$TUN")
sleep 0.5

# traffic: UDP both ways over the veth and every tunnel, over lo, and into the tun.
traffic() {
	local n in=() out=()
	for n in "${NETS[@]}"; do
		in+=(udp "198.18.$n.1" 7131 4 200 "in$n")
		out+=(udp "198.18.$n.2" 7131 4 300 "out$n" udp "198.18.$n.2" 7132 2 100 "oth$n")
	done
	ip netns exec "$NS2" python3 "$TRAFFIC" udp 198.18.130.1 7131 3 120 veth "${in[@]}"
	nsx python3 "$TRAFFIC" udp 127.0.0.1 7131 4 150 lo "${out[@]}" tun "$TUN" 6
}

# run_pass TAG [CAPD ARGS...]: capd -i any and tcpdump per interface ([filter]) over the traffic.
run_pass() {
	local tag=$1 i
	shift
	rm -f "$RAWCAP_SHM_DIR"/*
	start_capd "$TMP/capd.$tag.log" --ring-size 16Mi --interfaces any "$@"
	for i in "${!IFACES[@]}"; do
		# shellcheck disable=SC2086
		td_bg "$TMP/$tag.$i.pcap" "${IFACES[$i]}" ${TD_FILTER:-}
		TDS[$i]=$TD_PID
	done
	for i in "${!IFACES[@]}"; do td_wait "$TMP/$tag.$i.pcap"; done
	T0=$(now)
	traffic
	sleep 0.6
	T1=$(now)
	for i in "${!IFACES[@]}"; do TD_PID=${TDS[$i]} td_stop "$TMP/$tag.$i.pcap"; done
}

# per_iface EXPORT TAG REFTAG: each interface's packets in EXPORT equal tcpdump's on it.
per_iface() {
	local i name got ref
	for i in "${!IFACES[@]}"; do
		name=${IFACES[$i]}
		$PKTS same "$1" "$TMP/$3.$i.pcap" --payload --iface "$name" --between "$T0" "$T1" \
			>"$TMP/same.out" ||
			fail "$2 on $name differs from tcpdump -i $name: $(cat "$TMP/same.out")"
		got=$($PKTS count "$1" --iface "$name")
		ref=$($PKTS count "$TMP/$3.$i.pcap")
		[ "$got" -gt 0 ] || [ "$ref" = 0 ] || fail "$2: nothing on $name ($ref in tcpdump)"
		[ "$ref" -gt 0 ] || [ "$2" != unfiltered ] || fail "no traffic on $name"
		printf '%s=%s ' "$name" "$got" >>"$TMP/summary"
	done
	echo "($2)" >>"$TMP/summary"
}

TDS=()
run_pass all
"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" -o "$TMP/x.pcapng" || fail "export failed"
per_iface "$TMP/x.pcapng" unfiltered all
for f in 'udp port 7131' 'ip' 'udp and not port 7132' 'ip[9] == 17 and udp[2:2] == 7131'; do
	"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" --filter "$f" -o "$TMP/f.pcapng" ||
		fail "rawcap-pcap --filter '$f' failed"
	# tcpdump -i IFACE with the filter, from its unfiltered capture of that interface
	for i in "${!IFACES[@]}"; do
		tcpdump -r "$TMP/all.$i.pcap" -w "$TMP/allf.$i.pcap" "$f" 2>/dev/null
	done
	per_iface "$TMP/f.pcapng" "reader --filter '$f'" allf
done
rc=0
"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" --filter 'ether src 02:00:00:00:00:01' \
	-o "$TMP/e.pcapng" 2>"$TMP/e.err" || rc=$?
[ "$rc" != 0 ] || fail "a filter that cannot apply to raw IP exported with exit 0"
grep -q "cannot be applied to packets of link type 101" "$TMP/e.err" ||
	fail "unclear error for an Ethernet-only filter on raw IP: $(cat "$TMP/e.err")"
stop_capd "$TMP/capd.all.log"

TD_FILTER='udp port 7131' run_pass kf --filter 'udp port 7131'
"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" -o "$TMP/x.pcapng" || fail "export failed"
per_iface "$TMP/x.pcapng" "capd --filter 'udp port 7131'" kf
stop_capd "$TMP/capd.kf.log"

# Filters that cannot apply to every link type capd records: refused at start.
rc=0
nsx "$CAPD" --ring "$RING-x" --interfaces any --filter 'ether host 02:00:00:00:00:01' \
	2>"$TMP/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "capd -i any with an Ethernet-only filter exited $rc, want 2"
grep -q "raw-IP interfaces" "$TMP/bad.err" || fail "unclear message: $(cat "$TMP/bad.err")"
rc=0
nsx "$CAPD" --ring "$RING-x" --interfaces "$TUN" --filter 'ether host 02:00:00:00:00:01' \
	2>"$TMP/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "capd -i $TUN with an Ethernet-only filter exited $rc, want 2"

# An interface of a type capd does not record (a tun set to ARPHRD_CAN), named: refused at
# start, never a capture that records nothing and says nothing.
BAD=lc$$t
nsx python3 -c '
import fcntl, os, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", sys.argv[1].encode(), 0x1001))  # TUNSETIFF tun, no PI
fcntl.ioctl(fd, 0x400454CD, 280)  # TUNSETLINK ARPHRD_CAN
fcntl.ioctl(fd, 0x400454CB, 1)  # TUNSETPERSIST' "$BAD"
rc=0
nsx "$CAPD" --ring "$RING-x" --interfaces "$BAD" 2>"$TMP/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "capd -i $BAD (ARPHRD_CAN) exited $rc, want 2"
grep -q "$BAD' is of type 280" "$TMP/bad.err" || fail "unclear message: $(cat "$TMP/bad.err")"
echo "capd -i on an interface of type 280: exit 2, $(head -1 "$TMP/bad.err")"
cat "$TMP/summary"
echo PASS
