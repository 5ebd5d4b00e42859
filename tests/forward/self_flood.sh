#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# self_flood.sh - a SYN flood from other hosts does not make capd capture
# rawcap's own outgoing connections. capd's namespace is a host that also
# routes to a "pod" namespace behind a second veth, and capd captures both
# veths. The peer namespace floods SYNs from spoofed senders (198.19.0.0/16,
# 20000 a second for at most 4 s) at a port nobody listens on, half at the
# host and half at the pod, through the host: every SYN is new to the
# self-exclusion, and the pod's go out of the host again. Meanwhile a
# forwarder as capd's user connects out to a sink on the peer and replays
# 3 MB. The ring holds all of the flood and none of the forwarder's
# connection: its SYN went out of the host from one of its addresses, and
# lookups for such packets are budgeted apart from those for packets other
# hosts send, which routed ones are. When all SYNs shared one budget, the
# flood spent it within milliseconds of each second and the stream was
# captured until the next periodic dump; likewise when the routed SYNs
# shared the budget of the host's own.
set -euo pipefail
NAME=selfflood
. "$(dirname "$0")/lib.sh"
rc_need setpriv
PCAP=$B/readers/rawcap-pcap
USER_=nobody
GROUP_=$(id -gn "$USER_")
AS_USER=(setpriv --reuid="$USER_" --regid="$GROUP_" --clear-groups)
PEER=rc-fwd-$NAME-peer-$$
POD=rc-fwd-$NAME-pod-$$
A=rcsf$$a P=rcsf$$p H=rcsf$$h D=rcsf$$d
OUT_PORT=57015 FLOOD_PORT=57016
count() { tcpdump -r "$1" -n "${@:2}" 2>/dev/null | wc -l; }
peer() { ip netns exec "$PEER" "$@"; }

rc_netns_add "$PEER"
nsx ip link add "$A" type veth peer name "$P"
nsx ip link set "$P" netns "$PEER"
nsx ip addr add 198.18.0.1/24 dev "$A"
nsx ip link set "$A" up
peer ip addr add 198.18.0.2/24 dev "$P"
peer ip link set "$P" up
peer ip route add 198.18.1.0/24 via 198.18.0.1
rc_netns_add "$POD"
nsx ip link add "$H" type veth peer name "$D"
nsx ip link set "$D" netns "$POD"
nsx ip addr add 198.18.1.1/24 dev "$H"
nsx ip link set "$H" up
nsx ip route add 198.19.0.0/16 via 198.18.0.2
nsx sysctl -qw net.ipv4.ip_forward=1
ip -n "$POD" addr add 198.18.1.2/24 dev "$D"
ip -n "$POD" link set "$D" up

# The sink: read up to 3 MB (or until 3 s of silence), then write "PEER_PORT BYTES".
cat >"$TMP/sink.py" <<'PY'
import socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.0.2", port)); l.listen(1); l.settimeout(20)
open(out + ".ready", "w").close()
c, peer = l.accept()
c.settimeout(3); n = 0
try:
    while n < 3000000:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
except socket.timeout:
    pass
open(out, "w").write("%d %d\n" % (peer[1], n))
PY
# The flood: SYNs from spoofed senders, 20000 a second, for at most 4 s; says when it runs.
cat >"$TMP/flood.py" <<'PY'
import socket, struct, sys, time
dport, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dsts = [socket.inet_aton("198.18.0.1"), socket.inet_aton("198.18.1.2")]
t0 = time.monotonic()
sent = 0
while time.monotonic() - t0 < 4:
    for _ in range(200):
        i = sent % 65000
        src = bytes([198, 19, i >> 8, i & 255])
        dst = dsts[sent & 1]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
        tcp = struct.pack("!HHIIBBHHH", 1024 + sent % 60000, dport, sent, 0, 5 << 4, 0x02,
                          65535, 0, 0)
        s.sendto(ip + tcp, (socket.inet_ntoa(dst), 0))
        sent += 1
    if sent == 4000:
        open(out + ".running", "w").close()
    ahead = sent / 20000 - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
open(out, "w").write(str(sent))
PY

# run TAG ARGS...: capd (ARGS) on the veth; the flood and the forwarder's replay; then the
# ring's packets of the flood and of the forwarder's connection.
run() {
	local tag=$1 conn got flood_ring out_ring line lookups
	shift
	rm -f "$RAWCAP_SHM_DIR"/* "$TMP"/sink.out* "$TMP"/flood.out*
	capd_start "$NS" "$TMP/$tag.capd.err" --ring "$RING" --ring-size 32Mi --interfaces 'rcsf*' \
		--user "$USER_" "$@"
	T0=$(date +%s.%N)
	peer python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(bytes([i % 251]) * 1000, ("198.18.0.1", 9))'
	ip netns exec "$PEER" python3 "$TMP/sink.py" "$OUT_PORT" "$TMP/sink.out" &
	SINK_PID=$!
	PIDS+=($SINK_PID)
	wait_until 10 test -e "$TMP/sink.out.ready"
	ip netns exec "$PEER" python3 "$TMP/flood.py" "$FLOOD_PORT" "$TMP/flood.out" &
	FLOOD_PID=$!
	PIDS+=($FLOOD_PID)
	wait_until 10 test -e "$TMP/flood.out.running"
	ip netns exec "$NS" "${AS_USER[@]}" "$FWD" --ring "$RING" --plain --from "$T0" \
		--connect "198.18.0.2:$OUT_PORT" 2>"$TMP/$tag.fwd.err" &
	FWD_PID=$!
	PIDS+=($FWD_PID)
	wait "$SINK_PID" || true
	kill "$FWD_PID"
	wait "$FWD_PID" 2>/dev/null || true
	wait "$FLOOD_PID" || fail "$tag: the flood failed"
	sleep 0.5
	T1=$(date +%s.%N)
	capd_stop "$TMP/$tag.capd.err"

	read -r conn got <"$TMP/sink.out" || fail "$tag: the sink wrote nothing"
	echo "$tag: the sink got $got bytes from port $conn; the flood sent" \
		"$(cat "$TMP/flood.out") SYNs"
	[ "$got" -ge 1000000 ] || fail "$tag: the forwarder did not stream"
	"$PCAP" --ring "$RING" --from "$T0" --to "$T1" --format pcap -q -o "$TMP/$tag.ring.pcap" ||
		fail "$tag: rawcap-pcap failed"
	flood_ring=$(count "$TMP/$tag.ring.pcap" "tcp dst port $FLOOD_PORT and dst host 198.18.1.2")
	out_ring=$(count "$TMP/$tag.ring.pcap" "tcp port $OUT_PORT and port $conn")
	echo "$tag: in the ring, $flood_ring SYNs of the flood to the pod (in and out)," \
		"$out_ring packets of the forwarder's stream"
	[ "$flood_ring" -ge 8000 ] || fail "$tag: the ring holds only $flood_ring SYNs of the flood"
	[ "$out_ring" = 0 ] || fail "$tag: the ring holds $out_ring packets of the forwarder's stream"
	line=$(grep "capd: final:" "$TMP/$tag.capd.err")
	lookups=$(sed -n 's/.* self_lookups=\([0-9]*\).*/\1/p' <<<"$line")
	[ "${lookups:-0}" -ge 1000 ] || fail "$tag: capd looked up ${lookups:-no} connections: $line"
	echo "$tag: capd looked up $lookups connections"
}

run afpacket
# The eBPF backend (tc on the veths, egress and ingress) gives each packet its direction too.
if "$B/capd/capd" --help | grep -q "backend NAME"; then
	run ebpf --backend ebpf
	if grep -q "falling back\|fallback\|AF_PACKET instead" "$TMP/ebpf.capd.err"; then
		echo "eBPF backend not available here: it ran as AF_PACKET"
	fi
fi
echo "PASS"
