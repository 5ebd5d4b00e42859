#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fanout.sh - with --threads 2, whatever the fanout mode, the ring holds what
# tcpdump captures: IP fragments as fragments (no PACKET_FANOUT_FLAG_DEFRAG
# reassembly inventing datagrams, no loopback fragments lost), per interface
# byte for byte. And although the sockets hand over their blocks out of time
# order, a window [from, to) cut at a packet's own timestamp holds exactly
# the packets stamped inside it: read from the ring, from the disk FIFO with
# capd gone, from a snapshot, and streamed by rawcap-forward.
set -euo pipefail
TNAME=fan
. "$(dirname "$0")/lib.sh"

NS2=rc-fan2-$$
mkns "$NS2"
X=fx$$a Y=fx$$b
nsx ip link set lo mtu 1500
veth_to "$NS2" "$X" "$Y" 140
for ns in "$NS" "$NS2"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
sleep 0.3

# Fragments: 3000-byte datagrams over 1500-byte MTUs, on the veth and on lo.
for mode in hash lb cpu; do
	rm -f "$RAWCAP_SHM_DIR"/*
	start_capd "$TMP/capd.$mode.log" --ring-size 16Mi --interfaces any --threads 2 --fanout "$mode"
	td_start "$TMP/lo.pcap" lo
	LO_TD=$TD_PID
	td_start "$TMP/x.pcap" "$X"
	T0=$(now)
	ip netns exec "$NS2" python3 "$TRAFFIC" udp 198.18.140.1 7140 5 3000 veth
	nsx python3 "$TRAFFIC" udp 127.0.0.1 7141 5 3000 loop
	sleep 0.3
	T1=$(now)
	td_stop "$TMP/x.pcap"
	TD_PID=$LO_TD td_stop "$TMP/lo.pcap"
	"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" -o "$TMP/f.pcapng" || fail "export failed"
	for pair in "lo lo" "$X x"; do
		set -- $pair
		$PKTS same "$TMP/f.pcapng" "$TMP/$2.pcap" --iface "$1" --sort --between "$T0" "$T1" \
			>"$TMP/same.out" ||
			fail "--fanout $mode, $1: $(cat "$TMP/same.out")"
	done
	frags=$(tcpdump -r "$TMP/x.pcap" -nn 'ip[6:2] & 0x3fff != 0' 2>/dev/null | wc -l)
	[ "$frags" = 15 ] || fail "tcpdump saw $frags fragments on $X, want 15"
	echo "--fanout $mode: $(count "$TMP/f.pcapng") packets, per interface as tcpdump's, fragments kept"
	stop_capd "$TMP/capd.$mode.log"
done

# cut B: [T0, B) and [B, T1) of ALL, exported by "$@" (with --from/--to added).
cut_at() {
	local all=$1 tag=$2 b bs
	shift 2
	b=$($PKTS median "$all")
	bs=${b:0:-9}.${b: -9}
	"$@" --from "$T0" --to "$bs" -o "$TMP/lo.pcapng" || fail "$tag: export [T0, B) failed"
	"$@" --from "$bs" --to "$T1" -o "$TMP/hi.pcapng" || fail "$tag: export [B, T1) failed"
	$PKTS cut "$all" "$TMP/lo.pcapng" "$TMP/hi.pcapng" "$b" >"$TMP/cut.out" ||
		fail "$tag: the cut at a packet's timestamp is not exact: $(cat "$TMP/cut.out")"
	echo "$tag: $(cat "$TMP/cut.out")"
}

# forward FROM TO OUT: rawcap-forward's stream of the window into OUT.
forward() {
	local port=$((20000 + RANDOM % 20000)) fwd
	ip netns exec "$NS" "$FWD" --ring "$RING" --storage "$TMP/fifo" --from "$1" --to "$2" \
		--filter 'udp port 7142' --listen "127.0.0.1:$port" --plain 2>"$TMP/fwd.log" &
	fwd=$!
	PIDS+=($fwd)
	sleep 0.5
	fwd_fetch "$port" "$3"
	kill -TERM "$fwd"
	wait "$fwd" || true
}
fwd_cut() { # rawcap-pcap-like arguments: --from T --to T -o OUT
	forward "$2" "$4" "$6"
}

for mode in lb hash; do
	rm -rf "$RAWCAP_SHM_DIR"/* "$TMP/fifo"
	start_capd "$TMP/capd.w$mode.log" --ring-size 16Mi --interfaces "$X" --threads 2 --fanout "$mode" \
		--storage "$TMP/fifo" --storage-size 64Mi
	T0=$(now)
	ip netns exec "$NS2" python3 "$TRAFFIC" flows 198.18.140.1 7142 400 0.002 ord
	sleep 0.6
	T1=$(now)
	"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" --filter 'udp port 7142' -o "$TMP/all.pcapng"
	[ "$(count "$TMP/all.pcapng")" = 400 ] || fail "--fanout $mode: the window holds $(count "$TMP/all.pcapng") of 400"
	cut_at "$TMP/all.pcapng" "--fanout $mode, ring" "$PCAP" --ring "$RING" -q --filter 'udp port 7142'
	"$SNAP" create --ring "$RING" --from "$T0" --to "$T1" --filter 'udp port 7142' \
		--dest "$TMP/snaps" --name "s$mode" >/dev/null 2>"$TMP/snap.log" || fail "snapshot failed: $(cat "$TMP/snap.log")"
	cut_at "$TMP/all.pcapng" "--fanout $mode, snapshot" "$PCAP" --snapshot "$TMP/snaps/s$mode" -q
	cut_at "$TMP/all.pcapng" "--fanout $mode, rawcap-forward" fwd_cut
	stop_capd "$TMP/capd.w$mode.log"
	rm -f "$RAWCAP_SHM_DIR"/*
	cut_at "$TMP/all.pcapng" "--fanout $mode, disk FIFO" "$PCAP" --ring "$RING" --storage "$TMP/fifo" \
		-q --filter 'udp port 7142'
done
echo PASS
