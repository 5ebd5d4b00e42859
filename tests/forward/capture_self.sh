#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture_self.sh - rawcap does not capture its own traffic. capd captures
# the namespace's loopback with the chart's defaults (no filter);
# rawcap-forward runs as capd's user and streams to tshark over TCP port
# 57012. Meanwhile unrelated processes use the same port: UDP datagrams to
# 127.0.0.1:57012 and a TCP connection to a server on 127.0.0.2:57012. An
# independent tcpdump records all of it. In the ring, every unrelated
# packet is there byte for byte (tcpdump's packets less the forwarder's
# connection), the forwarder's own stream is not, capd counts it as
# excluded, and tshark received the unrelated packets. With --capture-self
# the forwarder's stream is captured again.
set -euo pipefail
NAME=self
. "$(dirname "$0")/lib.sh"
rc_need setpriv
PCAP=$B/readers/rawcap-pcap
USER_=nobody
GROUP_=$(id -gn "$USER_")

# run ARGS...: capd on lo, the forwarder as capd's user with tshark as its receiver, the
# unrelated traffic, then the ring's window of that traffic in $TMP/$tag.ring.pcap.
run() {
	local tag=$1; shift
	rm -f "$RAWCAP_SHM_DIR"/*
	capd_start "$NS" "$TMP/$tag.capd.err" --ring "$RING" --ring-size 16Mi --interfaces lo \
		--user "$USER_" "$@"
	ip netns exec "$NS" setpriv --reuid="$USER_" --regid="$GROUP_" --clear-groups \
		"$FWD" --ring "$RING" --plain --listen 127.0.0.1:57012 2>"$TMP/$tag.fwd.err" &
	FWD_PID=$!
	PIDS+=($FWD_PID)
	wait_until 10 log_has "$TMP/$tag.fwd.err" "listening on"
	ip netns exec "$NS" tshark -i TCP@127.0.0.1:57012 -w "$TMP/$tag.live.pcapng" \
		>"$TMP/$tag.tshark.err" 2>&1 &
	TS=$!
	PIDS+=($TS)
	wait_until 10 log_has "$TMP/$tag.fwd.err" "connected"
	RPORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\): connected.*/\1/p' "$TMP/$tag.fwd.err" | head -1)
	sleep 1.5 # a periodic socket dump has run
	ip netns exec "$NS" tcpdump -i lo -B 16384 -U -w "$TMP/$tag.ref.pcap" port 57012 \
		2>"$TMP/$tag.tcpdump.err" &
	TD=$!
	PIDS+=($TD)
	wait_until 5 log_has "$TMP/$tag.tcpdump.err" listening
	T1=$(date +%s.%N)
	nsx python3 - <<'PY'
import socket, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.2", 57012))  # the same port as the forwarder, another process
srv.listen(1)
def serve():
    c, _ = srv.accept()
    while c.recv(65536):
        pass
    c.close()
t = threading.Thread(target=serve)
t.start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
k = socket.create_connection(("127.0.0.2", 57012))
for i in range(200):
    u.sendto(bytes([i % 251]) * 300, ("127.0.0.1", 57012))
    k.sendall(bytes([i % 13]) * 700)
    time.sleep(0.002)
k.close()
t.join()
PY
	sleep 1
	T2=$(date +%s.%N)
	kill "$TD"; wait "$TD" 2>/dev/null || true
	kill "$FWD_PID"; wait "$FWD_PID" 2>/dev/null || true
	wait_until 10 bash -c "! kill -0 $TS 2>/dev/null"
	capd_stop "$TMP/$tag.capd.err"
	"$PCAP" --ring "$RING" --from "$T1" --to "$T2" --format pcap -q -o "$TMP/$tag.all.pcap" ||
		fail "rawcap-pcap failed"
	tcpdump -r "$TMP/$tag.all.pcap" -w "$TMP/$tag.ring.pcap" port 57012 2>/dev/null
}
# The switches are checked before anything is created: bad values are usage errors.
for bad in "--self-uids root" "--self-uids 0" "--self-uids no-such-user-x" "--capture-self=maybe"; do
	rc=0
	# shellcheck disable=SC2086
	ip netns exec "$NS" "$CAPD" --ring "$RING" --interfaces lo $bad 2>"$TMP/bad.err" || rc=$?
	[ "$rc" = 2 ] || fail "capd $bad: exit $rc, not a usage error: $(cat "$TMP/bad.err")"
done
count() { tcpdump -r "$1" -n "${@:2}" 2>/dev/null | wc -l; }
bytes() { tcpdump -r "$1" -n -t -xx "${@:2}" 2>/dev/null | md5sum; }

run excl
FWDCONN="tcp and host 127.0.0.1 and port $RPORT"
OTHER="not ($FWDCONN)"
ref_other=$(count "$TMP/excl.ref.pcap" "$OTHER")
ref_self=$(count "$TMP/excl.ref.pcap" "$FWDCONN")
echo "tcpdump saw $ref_other unrelated packets on port 57012 and $ref_self of the forwarder's stream"
[ "$ref_other" -ge 400 ] && [ "$ref_self" -gt 0 ] || fail "the traffic did not happen as planned"
[ "$(count "$TMP/excl.ring.pcap" "$FWDCONN")" = 0 ] ||
	fail "the ring holds $(count "$TMP/excl.ring.pcap" "$FWDCONN") packets of the forwarder's own stream"
[ "$(count "$TMP/excl.ring.pcap" "$OTHER")" = "$ref_other" ] ||
	fail "the ring holds $(count "$TMP/excl.ring.pcap" "$OTHER") unrelated packets, tcpdump saw $ref_other"
[ "$(bytes "$TMP/excl.ring.pcap" "$OTHER")" = "$(bytes "$TMP/excl.ref.pcap" "$OTHER")" ] ||
	fail "the unrelated packets in the ring differ from tcpdump's"
echo "excluded: none of the forwarder's stream in the ring, all $ref_other unrelated packets byte for byte"
n=$(sed -n 's/.* self_excluded=\([0-9]*\).*/\1/p' "$TMP/excl.capd.err" | tail -1)
[ -n "$n" ] && [ "$n" -ge "$ref_self" ] || fail "capd counted ${n:-no} excluded packets, tcpdump saw $ref_self"
echo "capd counted $n excluded packets"
got=$(count "$TMP/excl.live.pcapng" "udp port 57012")
[ "$got" = 200 ] || fail "tshark received $got of the 200 unrelated datagrams"

# The eBPF backend (tc on lo) excludes through the same table.
if "$B/capd/capd" --help | grep -q "backend NAME"; then
	run ebpf --backend ebpf
	if grep -q "falling back\|fallback\|AF_PACKET instead" "$TMP/ebpf.capd.err"; then
		echo "eBPF backend not available here: skipped"
	else
		[ "$(count "$TMP/ebpf.ring.pcap" "tcp and host 127.0.0.1 and port $RPORT")" = 0 ] ||
			fail "eBPF backend: the forwarder's stream is in the ring"
		[ "$(count "$TMP/ebpf.ring.pcap" "udp port 57012")" -ge 200 ] ||
			fail "eBPF backend: the unrelated datagrams are missing"
		echo "eBPF backend: the forwarder's stream excluded, the unrelated datagrams kept"
	fi
fi

run keep --capture-self
kept=$(count "$TMP/keep.ring.pcap" "tcp and host 127.0.0.1 and port $RPORT")
echo "--capture-self: the ring holds $kept packets of the forwarder's stream"
[ "$kept" -gt 0 ] || fail "--capture-self did not capture the forwarder's stream"
echo "PASS"
