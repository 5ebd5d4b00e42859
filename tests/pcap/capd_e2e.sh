#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capd_e2e.sh - rawcap-pcap and rawcap-snapshot against the real capd: capd
# captures a private namespace's loopback into a small ring and disk FIFO
# while an independent tcpdump records the same traffic. The exported window
# (pcapng and pcap), a snapshot of it after the FIFO recycled the window, and
# a --follow stream must each hold exactly tcpdump's packets, byte for byte.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
PCAP=$B/readers/rawcap-pcap
SNAP=$B/readers/rawcap-snapshot
TRAFFIC=$B/tests/capd-traffic
rc_need_root
rc_need tcpdump tshark capinfos ip

NS=rc-pcape2e-$$
RING=pe2e$$
rc_tmp pcape2e
T=$TMP
FIFO=$T/fifo

nsx() { ip netns exec "$NS" "$@"; }
now() { date +%s.%N; }

rc_netns_add "$NS"

# capd: 4 MiB ring, 64 MiB disk FIFO, so that 128 MiB of flood recycles all of it.
capd_start "$NS" "$T/capd.err" --ring "$RING" --ring-size 4Mi --interfaces lo --storage "$FIFO" \
	--storage-size 64Mi --sync-interval 200ms

# tcpdump_start OUT [FILTER]: an independent capture of lo (as root, no -Z drop).
tcpdump_start() {
	local out=$1
	shift
	ip netns exec "$NS" tcpdump -i lo -s 0 -B 65536 -U -Z root -w "$out" "$@" 2>"$out.err" &
	TD_PID=$!
	PIDS+=("$TD_PID")
	for _ in $(seq 100); do grep -q listening "$out.err" && return 0; sleep 0.05; done
	fail "tcpdump did not start"
}
tcpdump_stop() { # [FILE N]: first wait (bounded) until FILE holds N packets
	local i
	for ((i = 0; i < 50 && $# == 2; i++)); do
		[ "$(tcpdump -r "$1" 2>/dev/null | wc -l)" -ge "$2" ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -INT "$TD_PID"
	wait "$TD_PID" || true
}

# count FILE: packets per capinfos, which must read the file without warnings.
count() {
	capinfos -c -M "$1" >"$T/capinfos.out" 2>&1 || fail "capinfos $1: $(cat "$T/capinfos.out")"
	grep -qi warn "$T/capinfos.out" && fail "capinfos warns on $1: $(cat "$T/capinfos.out")"
	awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}' "$T/capinfos.out"
}
tshark_clean() {
	tshark -r "$1" >/dev/null 2>"$T/tshark.out" || fail "tshark -r $1: $(cat "$T/tshark.out")"
	if grep -v 'Running as user "root"' "$T/tshark.out" | grep -q .; then
		fail "tshark warns on $1: $(cat "$T/tshark.out")"
	fi
}
# same FILE REF: the same packets, byte for byte, in the same order (no timestamps).
same() {
	tcpdump -r "$1" -nn -t -xx 2>/dev/null >"$T/got.txt"
	tcpdump -r "$2" -nn -t -xx 2>/dev/null >"$T/exp.txt"
	[ -s "$T/exp.txt" ] || fail "reference $2 is empty"
	cmp -s "$T/got.txt" "$T/exp.txt" || { diff "$T/got.txt" "$T/exp.txt" | head -20 >&2; fail "$1 differs from $2"; }
}
# check FILE REF WHAT: readable by capinfos and tshark, same count and bytes.
check() {
	local n r
	tshark_clean "$1"
	n=$(count "$1")
	r=$(count "$2")
	[ "$n" = "$r" ] || fail "$3: $n packets, tcpdump recorded $r"
	same "$1" "$2"
	echo "$3: $n packets, identical to tcpdump's"
}

# --- the window: 2000 known UDP datagrams and a TCP transfer, also seen by tcpdump.
tcpdump_start "$T/ref.pcap"
sleep 0.3
T0=$(now)
sleep 0.2
nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 0 >"$T/udp.out" 2>"$T/udp.err" || fail "capd-traffic udp failed"
nsx "$TRAFFIC" tcp 127.0.0.1 9998 200000 >"$T/tcp.out" 2>"$T/tcp.err" || fail "capd-traffic tcp failed"
sleep 0.5
T1=$(now)
tcpdump_stop
nref=$(count "$T/ref.pcap")
nudp=$(tcpdump -r "$T/ref.pcap" -nn 'udp port 9999' 2>/dev/null | wc -l)
ntcp=$(tcpdump -r "$T/ref.pcap" -nn 'tcp port 9998' 2>/dev/null | wc -l)
echo "tcpdump: $nref packets in the window ($nudp UDP, $ntcp TCP)"
[ "$nudp" = 2000 ] || fail "tcpdump saw $nudp of the 2000 datagrams (reference unusable)"
[ "$ntcp" -ge 6 ] || fail "tcpdump saw only $ntcp TCP packets"
[ "$nref" = $((nudp + ntcp)) ] || fail "unexpected traffic in the namespace"

# Wait (bounded) until the persister has the window on disk.
for _ in $(seq 50); do
	"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" --format pcap -q \
		-o "$T/probe.pcap" 2>/dev/null && [ "$(count "$T/probe.pcap")" = "$nref" ] && break
	sleep 0.1
done

# (a) export the window in both formats, from ring + disk.
"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" --format pcapng \
	-o "$T/a.pcapng" 2>"$T/pcap-a.err" || fail "rawcap-pcap --format pcapng exited $?"
check "$T/a.pcapng" "$T/ref.pcap" "pcapng window"
"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" --format pcap \
	-o "$T/a.pcap" 2>"$T/pcap-b.err" || fail "rawcap-pcap --format pcap exited $?"
check "$T/a.pcap" "$T/ref.pcap" "pcap window"
# Link types: lo is Ethernet in both tools' view.
lt=$(capinfos -E "$T/a.pcap" | awk -F: '/encapsulation/ {gsub(/^ +/, "", $2); print $2}')
[ "$lt" = Ethernet ] || fail "pcap export has encapsulation '$lt', expected Ethernet"

# (b) a snapshot of the window, then push 2x the FIFO size through capd.
"$SNAP" create --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" --dest "$T/snaps" \
	--name s1 >"$T/snap.err" 2>&1 || fail "rawcap-snapshot create exited $?"
pushed=0
for _ in $(seq 30); do
	out=$(nsx "$TRAFFIC" flood 127.0.0.1 9990 1400 1 2>/dev/null) || fail "flood failed"
	pushed=$((pushed + $(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$out")))
	[ "$pushed" -ge $((2 * 64 * 1024 * 1024)) ] && break
done
echo "flood: $pushed bytes sent through capd"
[ "$pushed" -ge $((2 * 64 * 1024 * 1024)) ] || fail "could not push 128 MiB within 30 s"
rc=0
for _ in $(seq 50); do
	rc=0
	"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" -o "$T/gone.pcapng" \
		2>"$T/gone.err" || rc=$?
	[ "$rc" = 1 ] && break
	sleep 0.1
done
[ "$rc" = 1 ] || fail "the recycled window exported with exit $rc, expected 1 (missing)"
# a failed export that wrote no packet takes back the file it created
[ ! -e "$T/gone.pcapng" ] || fail "the recycled window left $T/gone.pcapng: $(count "$T/gone.pcapng") packets"
echo "recycled: rawcap-pcap --storage reports the window missing: $(grep -v '^$' "$T/gone.err" | tail -1)"

"$PCAP" --snapshot "$T/snaps/s1" -o "$T/s.pcapng" 2>"$T/pcap-s.err" ||
	fail "rawcap-pcap --snapshot exited $?"
check "$T/s.pcapng" "$T/ref.pcap" "snapshot after recycling"
"$SNAP" verify s1 --dest "$T/snaps" >"$T/verify.err" 2>&1 || fail "rawcap-snapshot verify failed"
echo "snapshot: verify passes"

# (c) --follow: packets sent after it started stream out of capd's ring.
sleep 1 # let the flood drain from the ring before following
mkfifo "$T/stream"
tshark -r - -w "$T/follow.pcapng" <"$T/stream" 2>"$T/tsf.err" &
TSF_PID=$!
PIDS+=("$TSF_PID")
"$PCAP" --ring "$RING" --follow --filter 'udp port 9997' -o - >"$T/stream" 2>"$T/follow.err" &
FOLLOW_PID=$!
PIDS+=("$FOLLOW_PID")
sleep 1
tcpdump_start "$T/ref2.pcap" udp port 9997
nsx "$TRAFFIC" udp 127.0.0.1 9997 500 5000 >/dev/null 2>"$T/udp2.err" || fail "capd-traffic udp failed"
tcpdump_stop "$T/ref2.pcap" 500
for _ in $(seq 20); do
	n=$(tcpdump -r "$T/follow.pcapng" 2>/dev/null | wc -l || true)
	[ "${n:-0}" -ge 500 ] && break
	sleep 0.1
done
sleep 0.3
kill -TERM "$FOLLOW_PID"
wait "$FOLLOW_PID" || fail "rawcap-pcap --follow exited $? on SIGTERM"
wait "$TSF_PID" || fail "tshark -r - failed on the stream: $(cat "$T/tsf.err")"
check "$T/follow.pcapng" "$T/ref2.pcap" "--follow stream"

kill -TERM "$CAPD_PID"
wait "$CAPD_PID" || fail "capd exited $? on SIGTERM"
echo "PASS"
