#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools.sh - every file rawcap writes opens in every tool, with the same
# packet count: tcpdump -r, tshark, capinfos, editcap, mergecap and
# tcpreplay (replayed into a veth of a private namespace).
#
# Shapes, each as pcapng and as classic pcap, from the real capd:
#   empty  - a window before capture began, and one whose filter matches nothing
#   one    - a capd capturing only loopback (one interface, Ethernet)
#   mixed  - a capd capturing everything on a node with loopback and a veth
#            (Ethernet) and a tun device (raw IP): three interfaces, two
#            link types, as a file (rewound to LINUX_SLL when the window
#            mixes them) and as a stream (-o -)
#   huge   - 600 datagrams of 60000 bytes on loopback (one record each, near
#            the largest a record holds), read back from the disk FIFO alone
#   snap   - the mixed window as a snapshot, exported again
# plus the mixed window with --linktype native (pcapng, one interface block
# per link type: tshark and capinfos read it; libpcap-based tools cannot).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TRAFFIC=$B/tests/capd-traffic
rc_need editcap mergecap tcpreplay
NSB=$NS-b
RING2=${RING}m
FIFO=$T/fifo
nsx() { ip netns exec "$NS" "$@"; }

netns_up
rc_netns_add "$NSB"
ip -n "$NS" link add a0 type veth peer name b0 netns "$NSB"
ip -n "$NS" addr add 198.18.0.1/30 dev a0
ip -n "$NSB" addr add 198.18.0.2/30 dev b0
ip -n "$NS" link set a0 up
ip -n "$NSB" link set b0 up
# A tun device (raw IP, no link header), held open by a reader that drains it.
ip -n "$NS" tuntap add mode tun name tun0
ip -n "$NS" addr add 198.18.1.1/30 dev tun0
ip -n "$NS" link set tun0 up
ip netns exec "$NS" python3 -c '
import fcntl, os, struct
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"tun0", 0x1001))  # TUNSETIFF, IFF_TUN|IFF_NO_PI
while True:
    os.read(fd, 70000)' &
PIDS+=($!)
# tcpreplay's target: a veth pair with room for the largest frame, where capd does not look.
ip -n "$NSB" link add rp0 type veth peer name rp1
ip -n "$NSB" link set rp0 mtu 65535 up
ip -n "$NSB" link set rp1 mtu 65535 up

capd_start "$NS" "$T/capd1.err" --ring "$RING" --ring-size 64Mi --interfaces lo --storage "$FIFO" \
	--storage-size 256Mi --sync-interval 200ms
capd_start "$NS" "$T/capd2.err" --ring "$RING2" --ring-size 64Mi
T0=$(date +%s.%N)
sleep 0.5
nsx "$TRAFFIC" udp 127.0.0.1 9999 300 >/dev/null
nsx "$TRAFFIC" udp 198.18.1.2 9999 300 >/dev/null # out through tun0
nsx "$TRAFFIC" udp 198.18.0.2 9999 300 >/dev/null # a0 only
sleep 0.5
T1=$(date +%s.%N)
sleep 0.3
H0=$(date +%s.%N)
nsx python3 -c '
import socket, time
r = socket.socket(2, 2); r.bind(("127.0.0.1", 9998))  # a receiver: no ICMP errors
s = socket.socket(2, 2)
for i in range(600):
    s.sendto(b"h" * 60000, ("127.0.0.1", 9998))
    if i % 50 == 49:
        time.sleep(0.01)'
sleep 1.5
H1=$(date +%s.%N)
BEFORE=$(python3 -c "print(f'{$T0 - 3600:.9f}')")
BEFORE_END=$(python3 -c "print(f'{$T0 - 3500:.9f}')")

# tools FILE: packet counts "tcpdump tshark capinfos editcap mergecap tcpreplay", each
# tool failing the test if it complains; pcapng files get tcpreplay too (via libpcap).
tools() {
	local f=$1 n td ts ci ec mc tr
	td=$(timeout 120 tcpdump -r "$f" -nn 2>"$T/td.err" | wc -l) || fail "tcpdump -r $f: $(cat "$T/td.err")"
	grep -qi "warning\|error\|invalid" "$T/td.err" && fail "tcpdump -r $f: $(cat "$T/td.err")"
	ts=$(timeout 120 tshark -r "$f" -T fields -e frame.number 2>"$T/ts.err" | wc -l)
	grep -v 'Running as user "root"' "$T/ts.err" >"$T/ts.warn" || true
	[ -s "$T/ts.warn" ] && fail "tshark -r $f: $(cat "$T/ts.warn")"
	ci=$(count_pkts "$f")
	timeout 120 editcap -F pcap "$f" "$T/ed.pcap" 2>"$T/ed.err" || fail "editcap $f: $(cat "$T/ed.err")"
	ec=$(count_pkts "$T/ed.pcap")
	timeout 120 mergecap -w "$T/mc.pcapng" "$f" "$f" 2>"$T/mc.err" || fail "mergecap $f: $(cat "$T/mc.err")"
	mc=$(($(count_pkts "$T/mc.pcapng") / 2))
	ip netns exec "$NSB" timeout 120 tcpreplay -i rp0 -t "$f" >"$T/tr.out" 2>&1 || fail "tcpreplay $f: $(cat "$T/tr.out")"
	tr=$(awk '/Actual:/ {print $2}' "$T/tr.out")
	grep -q "Failed packets: *0" "$T/tr.out" || [ -z "$tr" ] || fail "tcpreplay $f: $(cat "$T/tr.out")"
	echo "$td $ts $ci $ec $mc ${tr:-0}"
}
# check LABEL FILE WANT: every tool reads WANT packets ("any": the same nonzero count).
check() {
	local label=$1 f=$2 want=$3 counts
	counts=$(tools "$f")
	set -- $counts
	for c in "$@"; do
		[ "$c" = "$1" ] || fail "$label: tools disagree (tcpdump tshark capinfos editcap mergecap tcpreplay): $counts"
	done
	if [ "$want" = any ]; then [ "$1" -gt 0 ] || fail "$label: empty"; else
		[ "$1" = "$want" ] || fail "$label: $1 packets, want $want ($counts)"; fi
	echo "$label: $counts"
}
linktype() { capinfos -E "$1" 2>/dev/null | awk -F': *' '/encapsulation/ {print $2}'; }
export_to() { # OUT ARGS...: rawcap-pcap must succeed
	local out=$1
	shift
	"$PCAP" -q -o "$out" "$@" 2>"$T/export.err" || fail "rawcap-pcap $*: exit $?: $(cat "$T/export.err")"
}

for fmt in pcapng pcap; do
	export_to "$T/empty-before.$fmt" --ring "$RING2" --format "$fmt" --from "$BEFORE" --to "$BEFORE_END"
	check "empty-before/$fmt" "$T/empty-before.$fmt" 0
	export_to "$T/empty-filter.$fmt" --ring "$RING2" --format "$fmt" --from "$T0" --to "$T1" \
		--filter "udp port 7"
	check "empty-filter/$fmt" "$T/empty-filter.$fmt" 0
	export_to "$T/one.$fmt" --ring "$RING" --storage "$FIFO" --format "$fmt" --from "$T0" --to "$T1"
	check "one/$fmt" "$T/one.$fmt" 300
	[ "$(linktype "$T/one.$fmt")" = Ethernet ] || fail "one/$fmt: $(linktype "$T/one.$fmt")"
	export_to "$T/mixed.$fmt" --ring "$RING2" --format "$fmt" --from "$T0" --to "$T1"
	check "mixed/$fmt" "$T/mixed.$fmt" any
	nmixed=$(count_pkts "$T/mixed.$fmt")
	[ "$nmixed" -ge 900 ] || fail "mixed/$fmt: $nmixed packets, want lo, tun0 and a0 (>= 900)"
	linktype "$T/mixed.$fmt" | grep -q "Linux cooked-mode capture v1" || fail "mixed/$fmt: $(linktype "$T/mixed.$fmt")"
	"$PCAP" -q -o - --ring "$RING2" --format "$fmt" --from "$T0" --to "$T1" >"$T/stream.$fmt" ||
		fail "stream/$fmt: exit $?"
	check "mixed-stream/$fmt" "$T/stream.$fmt" "$nmixed"
	export_to "$T/huge.$fmt" --ring "nosuch$$" --storage "$FIFO" --format "$fmt" --from "$H0" --to "$H1"
	check "huge/$fmt" "$T/huge.$fmt" 600
done

# A window of one link type keeps it, whatever other interfaces are described.
export_to "$T/lo-only.pcapng" --ring "$RING2" --from "$T0" --to "$T1" --filter "udp and dst port 9999 and dst host 127.0.0.1"
check "lo-only" "$T/lo-only.pcapng" 300
[ "$(linktype "$T/lo-only.pcapng")" = Ethernet ] || fail "lo-only: $(linktype "$T/lo-only.pcapng")"

# A snapshot of the mixed window, exported again.
"$SNAP" create --ring "$RING2" --dest "$T/snaps" --name mixed --from "$T0" --to "$T1" \
	>"$T/snap.out" 2>&1 || fail "snapshot: $(cat "$T/snap.out")"
for fmt in pcapng pcap; do
	export_to "$T/snap.$fmt" --snapshot "$T/snaps/mixed" --format "$fmt"
	check "snapshot/$fmt" "$T/snap.$fmt" "$(count_pkts "$T/mixed.$fmt")"
done

# --linktype native keeps each interface's own: for pcapng readers that take it.
export_to "$T/native.pcapng" --ring "$RING2" --from "$T0" --to "$T1" --linktype native
tshark_clean "$T/native.pcapng"
[ "$(count_pkts "$T/native.pcapng")" = "$(count_pkts "$T/mixed.pcapng")" ] || fail "native: count differs"
[ "$(linktype "$T/native.pcapng")" = "Per packet" ] || fail "native: $(linktype "$T/native.pcapng")"
echo "PASS: every shape opens in tcpdump, tshark, capinfos, editcap, mergecap and tcpreplay with the same count"
