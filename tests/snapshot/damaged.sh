#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# damaged.sh - damage is never silent. capd captures 4000 UDP datagrams on
# a private namespace's loopback into a disk FIFO; two snapshots (one
# unfiltered, one filtered) copy the window; capd stops. Then one byte in the
# data of block 1 is flipped in the FIFO and in both snapshots, and every
# reader must skip exactly that block, continue at the next one, count the
# loss in the file (pcapng drop counts and a comment) and on stderr, and exit
# 1: rawcap-pcap from the snapshot and from the FIFO, as pcapng and pcap;
# rawcap-snapshot create from the damaged FIFO; rawcap-forward replaying the
# damaged snapshot to a receiver. verify says DAMAGED.
set -euo pipefail
. "$(dirname "$0")/../pcap/lib.sh"

TRAFFIC=$B/tests/capd-traffic
FWD=$B/readers/rawcap-forward
FIFO=$T/fifo
DEST=$T/snaps
N=4000
netns_up

capd_start "$NS" "$T/capd.err" --ring "$RING" --ring-size 16Mi --interfaces lo --storage "$FIFO" \
	--storage-size 64Mi --sync-interval 0s
ip netns exec "$NS" "$TRAFFIC" udp 127.0.0.1 9999 $N >/dev/null || fail "capd-traffic failed"
# Packets the filtered snapshot leaves out: sequence gaps in it that are not loss.
ip netns exec "$NS" "$TRAFFIC" udp 127.0.0.1 9998 100 >/dev/null || fail "capd-traffic failed"
ip netns exec "$NS" "$TRAFFIC" udp 127.0.0.1 9999 100 $N >/dev/null || fail "capd-traffic failed"
sleep 1
"$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" --last 1m --name all \
	>"$T/c1.out" 2>&1 || fail "snapshot: $(cat "$T/c1.out")"
"$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" --last 1m --name udp \
	--filter "udp port 9999" >"$T/c2.out" 2>&1 || fail "filtered snapshot: $(cat "$T/c2.out")"
capd_stop "$T/capd.err"

# Intact: everything comes back.
"$PCAP" --snapshot "$DEST/all" -q -o "$T/all0.pcapng" || fail "export of the intact snapshot"
n0=$(count_pkts "$T/all0.pcapng")
[ "$n0" -ge $((N + 200)) ] || fail "intact snapshot holds $n0 packets, $((N + 200)) were sent"

# block SEG BLK: "records packets" the block's header and records say it holds.
block() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb"); blk = int(sys.argv[2])
f.seek(4096 + blk * 524288)
h = f.read(64)
nrec, used = struct.unpack_from("<II", h, 20)
data = f.read(used); off = pkts = 0
while off < used:
    ln, typ = struct.unpack_from("<IH", data, off)
    pkts += typ == 2
    off += (ln + 7) & ~7
print(nrec, pkts)
PY
}
# damage SEG BLK: flip one byte in the block's data (its header stays intact).
damage() {
	chmod u+w "$1"
	python3 - "$1" "$2" <<'PY'
import sys
f = open(sys.argv[1], "r+b"); off = 4096 + int(sys.argv[2]) * 524288 + 64 + 1000
f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xFF]))
PY
}
first_seg() { ls "$1"/seg-*.rcs | head -1; }
for d in "$FIFO" "$DEST/all/data" "$DEST/udp/data"; do
	s=$(first_seg "$d")
	[ "$(stat -c %s "$s")" -gt $((4096 + 3 * 524288)) ] || fail "$s holds fewer than 3 blocks"
done
read -r rec_all pkt_all < <(block "$(first_seg "$DEST/all/data")" 1)
read -r rec_udp pkt_udp < <(block "$(first_seg "$DEST/udp/data")" 1)
read -r rec_fifo pkt_fifo < <(block "$(first_seg "$FIFO")" 1)
"$PCAP" --snapshot "$DEST/udp" -q -o "$T/udp0.pcapng" || fail "export of the filtered snapshot"
nudp0=$(count_pkts "$T/udp0.pcapng")
"$PCAP" --storage "$FIFO" --ring "nosuch$$" -q -o "$T/fifo0.pcapng" || fail "export of the FIFO"
nfifo0=$(count_pkts "$T/fifo0.pcapng")
# forward_to OUT SNAPSHOT: rawcap-forward replays SNAPSHOT to a TCP receiver writing OUT;
# returns rawcap-forward's exit status, its stderr in $T/fwd.err.
forward_to() {
	local recv rc=0
	rm -f "$T/port"
	ip netns exec "$NS" python3 - "$T" "$1" <<'PY' &
import os, socket, sys
t, out = sys.argv[1], sys.argv[2]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1); srv.settimeout(20)
open(t + "/port.tmp", "w").write(str(srv.getsockname()[1])); os.rename(t + "/port.tmp", t + "/port")
c, _ = srv.accept(); c.settimeout(20)
with open(out, "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
PY
	recv=$!
	PIDS+=("$recv")
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || fail "receiver did not start"
	ip netns exec "$NS" timeout 30 "$FWD" --snapshot "$2" --from -1h --to +1s --plain \
		--connect "127.0.0.1:$(cat "$T/port")" 2>"$T/fwd.err" || rc=$?
	wait "$recv" || fail "receiver failed"
	return $rc
}
# An intact filtered snapshot forwards whole; its gaps by design are not loss.
forward_to "$T/fwd-udp.pcapng" "$DEST/udp" || fail "forward of the filtered snapshot: exit $?: $(cat "$T/fwd.err")"
[ "$(count_pkts "$T/fwd-udp.pcapng")" = "$nudp0" ] || fail "forward of the filtered snapshot: count"
if grep -q "records lost (" "$T/fwd.err"; then fail "forward calls the filter's gaps loss: $(cat "$T/fwd.err")"; fi
for d in "$FIFO" "$DEST/all/data" "$DEST/udp/data"; do damage "$(first_seg "$d")" 1; done

# expect_loss LABEL FILE PACKETS_BEFORE PACKETS_LOST RECORDS_LOST ARGS...: the export
# exits 1, says "damaged" on stderr, holds exactly the other packets, and (pcapng)
# carries the lost records as drop counts plus a comment.
expect_loss() {
	local label=$1 out=$2 before=$3 lostp=$4 lostr=$5 rc=0 n drops
	shift 5
	"$@" 2>"$T/$label.err" || rc=$?
	[ "$rc" = 1 ] || fail "$label: exit $rc, want 1: $(cat "$T/$label.err")"
	grep -q "damaged block" "$T/$label.err" || fail "$label: stderr says nothing: $(cat "$T/$label.err")"
	n=$(count_pkts "$out")
	[ "$n" = $((before - lostp)) ] || fail "$label: $n packets, want $before - $lostp"
	tcpdump -r "$out" -nn >/dev/null 2>&1 || fail "$label: tcpdump -r cannot read $out"
	case $out in *.pcapng)
		drops=$(tshark -r "$out" -T fields -e frame.drop_count -Y frame.drop_count 2>/dev/null |
			awk '{s += $1} END {print s + 0}')
		[ "$drops" = "$lostr" ] || fail "$label: drop counts add up to $drops, want $lostr"
		tshark -r "$out" -T fields -e frame.comment -Y frame.comment 2>/dev/null |
			grep -q "damaged block skipped" || fail "$label: no comment names the damage"
	esac
	echo "$label: $n packets, $lostp lost in the damaged block, exit 1"
}
for fmt in pcapng pcap; do
	expect_loss "snap-$fmt" "$T/all.$fmt" "$n0" "$pkt_all" "$rec_all" \
		"$PCAP" --snapshot "$DEST/all" -q --format "$fmt" -o "$T/all.$fmt"
	expect_loss "fifo-$fmt" "$T/fifo.$fmt" "$nfifo0" "$pkt_fifo" "$rec_fifo" \
		"$PCAP" --storage "$FIFO" --ring "nosuch$$" -q --format "$fmt" -o "$T/fifo.$fmt"
done
# A filtered snapshot has sequence gaps by design: the loss is what the block listed.
expect_loss snap-filtered "$T/udp.pcapng" "$nudp0" "$pkt_udp" "$rec_udp" \
	"$PCAP" --snapshot "$DEST/udp" -q -o "$T/udp.pcapng"

# verify reads the records, not only the hashes (which the damage also breaks).
set +e
"$SNAP" verify --dest "$DEST" all >"$T/v.out" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] && grep -q DAMAGED "$T/v.out" || fail "verify of a damaged snapshot: exit $rc: $(cat "$T/v.out")"

# A snapshot of the damaged FIFO: made, the loss said, exit 1, and its export says it too.
set +e
"$SNAP" create --storage "$FIFO" --ring "nosuch$$" --dest "$DEST" --last 10m --name again \
	>"$T/c3.out" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "damaged block" "$T/c3.out" || fail "create from a damaged FIFO: exit $rc: $(cat "$T/c3.out")"
"$SNAP" show --dest "$DEST" again | grep -q "\"lost_reader\": $rec_fifo," ||
	fail "the manifest does not count the $rec_fifo records of the damaged block"
"$SNAP" verify --dest "$DEST" again >/dev/null || fail "the copy of a damaged FIFO does not verify"

# rawcap-forward replaying the damaged snapshot: the stream goes on after the block.
rc=0
forward_to "$T/fwd.pcapng" "$DEST/all" || rc=$?
n=$(count_pkts "$T/fwd.pcapng")
[ "$n" = $((n0 - pkt_all)) ] || fail "forward: $n packets, want $n0 - $pkt_all: $(cat "$T/fwd.err")"
[ "$rc" = 1 ] && grep -q "records lost (damaged block skipped)" "$T/fwd.err" ||
	fail "forward: exit $rc, and says: $(cat "$T/fwd.err")"
drops=$(tshark -r "$T/fwd.pcapng" -T fields -e frame.drop_count -Y frame.drop_count 2>/dev/null |
	awk '{s += $1} END {print s + 0}')
[ "$drops" = "$rec_all" ] || fail "forward: drop counts add up to $drops, want $rec_all"
echo "forward: $n packets, $pkt_all lost in the damaged block, exit 1"
echo "PASS: one damaged block costs exactly its records in every reader, always said"
