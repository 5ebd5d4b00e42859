#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# blocks.sh - a snapshot of an unfiltered window copies the FIFO's whole
# blocks as they are (only the blocks the window's edges cut are re-framed
# record by record), and that changes nothing a reader sees: for windows
# whose edges cut blocks, a window inside one block, a window of exactly one
# whole block and the whole capture, the snapshot made by the whole-block
# path and the one made by the record path (RAWCAP_SNAPSHOT_RECORD_PATH=1)
# both pass `rawcap-snapshot verify`, export byte-identical pcap files, and
# hold exactly the packets tcpdump recorded in that window. The segment
# files themselves show which path ran: whole-block copies keep the FIFO
# block's records, sequence numbers and data CRC.
set -euo pipefail
. "$(dirname "$0")/../pcap/lib.sh"

FIFO=$T/fifo
DEST=$T/snaps

# Block headers of a segment directory (storage/seg_format.h), one line per
# valid block: first_seq last_seq used data_crc first_record_ts ts_hwm.
blocks() {
	python3 - "$1" <<'PY'
import os, struct, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    if not n.startswith("seg-"):
        continue
    data = open(os.path.join(d, n), "rb").read()
    off = 4096
    while off + 64 <= len(data):
        magic, _, _, nrec, used, crc, fs, ls, hwm = struct.unpack_from("<QQIIIIQQQ", data, off)
        if magic == 0x014B4C4243520A52 and nrec:
            ts = struct.unpack_from("<Q", data, off + 64 + 16)[0]
            print(fs, ls, used, crc, ts, hwm)
        off += 512 * 1024
PY
}

# Blocks of snapshot $1 that are FIFO blocks copied whole.
copied() {
	blocks "$DEST/$1/data" | cut -d' ' -f1-4 | sort >"$T/snap.blk"
	blocks "$FIFO" | cut -d' ' -f1-4 | sort >"$T/fifo.blk"
	comm -12 "$T/snap.blk" "$T/fifo.blk" | wc -l
}

# window_of IN FROM TO OUT: the packets of pcap IN (microseconds) stamped in [FROM, TO).
window_of() {
	python3 - "$@" <<'PY'
import struct, sys
from decimal import Decimal
src, lo, hi, dst = sys.argv[1], Decimal(sys.argv[2]), Decimal(sys.argv[3]), sys.argv[4]
data = open(src, "rb").read()
out, off = [data[:24]], 24
assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4, "microsecond pcap expected"
while off + 16 <= len(data):
    sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
    if lo <= Decimal(sec) + Decimal(usec) / 1000000 < hi:
        out.append(data[off:off + 16 + incl])
    off += 16 + incl
open(dst, "wb").write(b"".join(out))
PY
}

ns_to_s() { python3 -c "import sys; n=int(sys.argv[1]); print('%d.%09d' % (n // 10**9, n % 10**9))" "$1"; }

# check NAME FROM TO MIN_COPIED: both paths, verified, identical, tcpdump's packets.
check() {
	local name=$1 from=$2 to=$3 min=$4 n
	"$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" --name "$name" \
		--from "$from" --to "$to" >/dev/null 2>"$T/create.err" ||
		fail "$name: create: $(cat "$T/create.err")"
	RAWCAP_SNAPSHOT_RECORD_PATH=1 "$SNAP" create --ring "$RING" --storage "$FIFO" \
		--dest "$DEST" --name "$name-rec" --from "$from" --to "$to" >/dev/null \
		2>"$T/create.err" || fail "$name: create on the record path: $(cat "$T/create.err")"
	for s in "$name" "$name-rec"; do
		"$SNAP" verify --dest "$DEST" "$s" | grep -q "^$s: OK" || fail "$s: verify fails"
		"$PCAP" --snapshot "$DEST/$s" --format pcap -q -o "$T/$s.pcap" 2>"$T/err" ||
			fail "$s: export: $(cat "$T/err")"
	done
	cmp -s "$T/$name.pcap" "$T/$name-rec.pcap" ||
		fail "$name: the whole-block snapshot exports other bytes than the record path's"
	n=$(copied "$name")
	[ "$n" -ge "$min" ] || fail "$name: $n blocks copied whole, want at least $min"
	[ "$(copied "$name-rec")" -le "$n" ] || fail "$name: the record path copied more blocks"
	# tcpdump's view of the same window (microsecond stamps: bounds are packet stamps).
	window_of "$T/ref.pcap" "$from" "$to" "$T/$name-ref.pcap"
	[ "$(count_pkts "$T/$name.pcap")" = "$(count_pkts "$T/$name-ref.pcap")" ] ||
		fail "$name: $(count_pkts "$T/$name.pcap") packets, tcpdump has $(count_pkts "$T/$name-ref.pcap")"
	same_packets "$T/$name.pcap" "$T/$name-ref.pcap"
	echo "$name: $(count_pkts "$T/$name.pcap") packets, $n blocks copied whole"
}

netns_up
capture_ref "$T/ref.pcap" send_traffic 4000
tshark -r "$T/ref.pcap" -T fields -e frame.time_epoch 2>/dev/null >"$T/ts.txt"
nref=$(wc -l <"$T/ts.txt")
[ "$nref" -gt 3000 ] || fail "tcpdump recorded only $nref packets"
at() { sed -n "${1}p" "$T/ts.txt"; }

# A 64 KiB ring: the windows are read back from the FIFO, several blocks long.
# The ring (and its interface table) stays until the last check.
coproc PW { "$PKTW" --size 65536 --storage "$FIFO" --storage-size $((32 << 20)) \
	--fill 1 "$RING" "$T/ref.pcap"; }
PIDS+=($PW_PID)
read -r -t 30 line <&"${PW[0]}" || fail "pktwriter did not start"
read -r -t 30 line <&"${PW[0]}" && [ "$line" = ready ] || fail "pktwriter: $line"
nblk=$(blocks "$FIFO" | wc -l)
[ "$nblk" -ge 5 ] || fail "the FIFO holds $nblk blocks, want at least 5"

end=$(python3 -c "print('%.6f' % ($(at '$') + 0.000001))")
check whole "$(at 1)" "$end" $((nblk - 2))
check cut "$(at $((nref / 10)))" "$(at $((nref * 9 / 10)))" 2
check inside "$(at $((nref / 2)))" "$(at $((nref / 2 + 40)))" 0
# Exactly one block: from its first record's stamp to the next block's, where
# every record of the block is stamped before the next block's first.
one=$(blocks "$FIFO" | awk 'NR > 1 && prev_hwm < $5 && NR > 2 { print prev_ts, $5; exit }
	{ prev_ts = $5; prev_hwm = $6 }')
[ -n "$one" ] || fail "no block is stamped apart from the next"
check one "$(ns_to_s "${one% *}")" "$(ns_to_s "${one#* }")" 1
# capd gone (no ring, no interface table): the FIFO alone, blocks still whole.
echo go >&"${PW[1]}"
read -r -t 60 line <&"${PW[0]}" && [ "$line" = filled ] || fail "pktwriter: $line"
RING=gone$$ check noring "$(at $((nref / 10)))" "$(at $((nref * 9 / 10)))" 2
echo "PASS: whole-block and record-path snapshots of 5 windows verify, export the same bytes and match tcpdump"
