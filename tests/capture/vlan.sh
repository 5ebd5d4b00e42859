#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vlan.sh - 802.1Q frames whose tag the receiving veth moves into packet
# metadata (as a NIC with VLAN offload does) are exported with the tag back
# in place, byte for byte what tcpdump writes on the same interface; and a
# filter, whether capd's (kernel) or a reader's, keeps exactly what tcpdump
# on that interface keeps with the same filter ("vlan 100", "udp port N" on
# tagged frames, "not vlan", ...). Both capture backends.
set -euo pipefail
TNAME=vlan
. "$(dirname "$0")/lib.sh"

A=vt$$a B=vt$$b
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1
nsx ip link add "$A" type veth peer name "$B"
nsx ip link set "$A" up
nsx ip link set "$B" up
sleep 0.3

# send: 802.1Q frames (VID 100 and 200) and untagged ones to B's MAC, out of A.
send() { nsx python3 "$TRAFFIC" vlan "$A" "$(nsx cat "/sys/class/net/$B/address")"; }

FILTERS=('vlan 100' 'vlan 200 and udp port 7102' 'udp port 7102' 'not vlan' 'vlan' 'udp')

for backend in afpacket ebpf; do
	rm -f "$RAWCAP_SHM_DIR"/*
	start_capd "$TMP/capd.$backend.log" --ring-size 16Mi --backend "$backend" --interfaces "$B"
	if grep -q "capturing with AF_PACKET instead" "$TMP/capd.$backend.log"; then
		echo "note: eBPF unavailable here, the $backend pass ran on AF_PACKET"
	fi
	td_start "$TMP/ref.pcap" "$B"
	ref_td=$TD_PID
	pids=()
	for i in "${!FILTERS[@]}"; do
		td_bg "$TMP/ref$i.pcap" "$B" "${FILTERS[$i]}"
		pids+=("$TD_PID")
	done
	for i in "${!FILTERS[@]}"; do td_wait "$TMP/ref$i.pcap"; done
	T0=$(now)
	send
	sleep 0.5
	T1=$(now)
	TD_PID=$ref_td td_stop "$TMP/ref.pcap"
	for i in "${!FILTERS[@]}"; do TD_PID=${pids[$i]} td_stop "$TMP/ref$i.pcap"; done
	[ "$(count "$TMP/ref.pcap")" = 20 ] || fail "tcpdump saw $(count "$TMP/ref.pcap") of 20 frames"

	for fmt in pcapng pcap; do
		"$PCAP" --ring "$RING" -q --format "$fmt" --from "$T0" --to "$T1" -o "$TMP/x.$fmt" ||
			fail "$backend: $fmt export failed"
		same_packets "$TMP/x.$fmt" "$TMP/ref.pcap"
	done
	echo "$backend: 20 frames exported as tcpdump wrote them, tags included"
	for i in "${!FILTERS[@]}"; do
		"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" --filter "${FILTERS[$i]}" \
			-o "$TMP/f$i.pcapng" || fail "$backend: export --filter '${FILTERS[$i]}' failed"
		same_packets "$TMP/f$i.pcapng" "$TMP/ref$i.pcap"
		echo "$backend: rawcap-pcap --filter '${FILTERS[$i]}' keeps what tcpdump -i $B keeps ($(count "$TMP/ref$i.pcap"))"
	done
	stop_capd "$TMP/capd.$backend.log"
done

# capd's own (kernel) filter, on AF_PACKET: the ring holds what tcpdump keeps,
# with the socket bound to B, and unbound (two names) through the dispatch on
# the interface type.
for ifs in "$B" "$B,lo"; do
for f in 'vlan 100' 'udp port 7102' 'not vlan'; do
	rm -f "$RAWCAP_SHM_DIR"/*
	start_capd "$TMP/capd.f.log" --ring-size 16Mi --interfaces "$ifs" --filter "$f"
	td_start "$TMP/ref.pcap" "$B" "$f"
	T0=$(now)
	send
	sleep 0.5
	T1=$(now)
	td_stop "$TMP/ref.pcap"
	"$PCAP" --ring "$RING" -q --from "$T0" --to "$T1" -o "$TMP/k.pcapng" || fail "export failed"
	same_packets "$TMP/k.pcapng" "$TMP/ref.pcap"
	echo "capd -i $ifs --filter '$f' records what tcpdump -i $B '$f' captures ($(count "$TMP/ref.pcap"))"
	stop_capd "$TMP/capd.f.log"
done
done
echo PASS
