#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# self_reuse.sh - another uid's connection on a 5-tuple of one rawcap made out
# is captured. A process as capd's user connects from the host's port 40002 to
# a peer's port 5555 (its SYN is looked up: rawcap's) and closes; at once a
# root process listens on the host's port 40002 and the peer connects to it
# from 5555: the same 5-tuple, before any dump. Its SYN comes in on a known
# 5-tuple, not to a listener of rawcap's; it was taken for rawcap's and the
# whole connection excluded until the next dump (silent loss). The ring must
# hold its SYN and every data segment.
set -euo pipefail
NAME=selfreuse
. "$(dirname "$0")/lib.sh"
rc_need setpriv
PCAP=$B/readers/rawcap-pcap
USER_=nobody
AS_USER=(setpriv --reuid="$USER_" --regid="$(id -gn "$USER_")" --clear-groups)
PEER=rc-fwd-$NAME-peer-$$
A=rcsr$$a P=rcsr$$p
peer() { ip netns exec "$PEER" "$@"; }
rc_netns_add "$PEER"
nsx ip link add "$A" type veth peer name "$P"
nsx ip link set "$P" netns "$PEER"
nsx ip addr add 198.18.0.1/24 dev "$A"
nsx ip link set "$A" up
peer ip addr add 198.18.0.2/24 dev "$P"
peer ip link set "$P" up

cat >"$TMP/peer.py" <<'PY'
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.0.2", 5555)); l.listen(1); l.settimeout(20)
open(sys.argv[1] + ".ready", "w").close()
c, _ = l.accept()
try:
    while c.recv(65536):
        pass
except ConnectionResetError:
    pass
c.close(); l.close()
deadline = time.monotonic() + 10  # the other uid's listener on the host's 40002
while True:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.0.2", 5555))
    try:
        s.connect(("198.18.0.1", 40002)); break
    except ConnectionRefusedError:
        s.close()
        if time.monotonic() > deadline:
            sys.exit("peer: nobody listened on 198.18.0.1:40002 within 10 s")
        time.sleep(0.005)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(20):
    s.send(b"O" * 100); time.sleep(0.005)
s.close()
PY
cat >"$TMP/own.py" <<'PY'
import socket, struct, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 40002)); s.connect(("198.18.0.2", 5555))
print("connected", flush=True)  # the other may wait for the port from now on
s.sendall(b"R" * 10000)
time.sleep(0.3)  # found by its SYN's lookup, then closed before the next dump
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()  # RST: no TIME_WAIT
PY
cat >"$TMP/other.py" <<'PY'
import socket, sys, time
for _ in range(2000):  # not before rawcap's socket holds the port (load: slow starts)
    if "connected" in open(sys.argv[1]).read():
        break
    time.sleep(0.005)
for _ in range(2000):  # as soon as rawcap's socket is gone
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        l.bind(("198.18.0.1", 40002)); l.listen(1); break
    except OSError:
        l.close(); time.sleep(0.005)
l.settimeout(10)
c, _ = l.accept()
while c.recv(65536):
    pass
PY

run() {
	local tag=$1 syn data own
	shift
	rm -f "$RAWCAP_SHM_DIR"/* "$TMP"/peer.out*
	capd_start "$NS" "$TMP/$tag.capd.err" --ring "$RING" --ring-size 16Mi --interfaces 'rcsr*' \
		--user "$USER_" "$@"
	sleep 1.2 # past capd's first dump
	T0=$(date +%s.%N)
	peer python3 "$TMP/peer.py" "$TMP/peer.out" &
	PIDS+=($!)
	local ppid=$!
	wait_until 10 test -e "$TMP/peer.out.ready"
	: >"$TMP/own.out"
	nsx "${AS_USER[@]}" /usr/bin/python3 - <"$TMP/own.py" >"$TMP/own.out" &
	local opid=$!
	timeout 20 ip netns exec "$NS" python3 "$TMP/other.py" "$TMP/own.out" ||
		fail "$tag: the other connection failed"
	wait "$opid" || fail "$tag: rawcap's connection failed"
	wait "$ppid" || fail "$tag: the peer failed"
	sleep 0.3
	T1=$(date +%s.%N)
	capd_stop "$TMP/$tag.capd.err"
	"$PCAP" --ring "$RING" --from "$T0" --to "$T1" --format pcap -q -o "$TMP/$tag.pcap" ||
		fail "$tag: rawcap-pcap failed"
	own=$(tcpdump -r "$TMP/$tag.pcap" -n 'src port 40002 and greater 200' 2>/dev/null | wc -l)
	syn=$(tcpdump -r "$TMP/$tag.pcap" -n 'src port 5555 and dst port 40002 and tcp[13] == 2' 2>/dev/null | wc -l)
	data=$(tcpdump -r "$TMP/$tag.pcap" -n 'src port 5555 and dst port 40002 and tcp[13] & 8 != 0' 2>/dev/null | wc -l)
	echo "$tag: in the ring, $own data packets of rawcap's connection, the other's SYN $syn, its data $data of 20"
	[ "$syn" -ge 1 ] && [ "$data" = 20 ] || fail "$tag: the other uid's connection was excluded"
	[ "$own" = 0 ] || fail "$tag: the ring holds rawcap's own connection"
}

run afpacket
if "$B/capd/capd" --help | grep -q "backend NAME"; then
	run ebpf --backend ebpf
fi
echo "PASS"
