#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# format_version.sh - a disk FIFO segment written in another segment format
# version (an older or a newer rawcap: a downgrade, an upgrade rolled back)
# has an intact header that no reader of this version reads. Readers
# exported the rest and said nothing (a storage holding only such segments:
# "nothing is held", exit 0), and capd kept them beside its own segments for
# ever: never read, never recycled, disk beyond --storage-size. Now an export
# names them and is partial (exit 1) while it still holds the other
# segments' records; capd, taking the storage over, removes them and says so.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
command -v capinfos >/dev/null || { echo "SKIP: capinfos missing"; exit 77; }

T=$(mktemp -d /tmp/rc-fmtver-XXXXXX)
export RAWCAP_SHM_DIR=$T/shm
mkdir "$RAWCAP_SHM_DIR"
cleanup() { rm -rf "$T"; }
trap cleanup EXIT

# setver FILE VERSION: rewrite a segment header's format version, with a valid header CRC.
setver() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xffffffff
with open(sys.argv[1], 'r+b') as f:
    h = bytearray(f.read(128))
    struct.pack_into('<I', h, 8, int(sys.argv[2]))
    struct.pack_into('<I', h, 68, crc32c(bytes(h[:68])))
    f.seek(0)
    f.write(h)
EOF
}
# export NAME: rawcap-pcap over the storage alone; sets RC, PKTS, and $T/NAME.err.
export_fifo() {
	RC=0
	"$PCAP" --storage "$T/fifo" --ring none -o "$T/$1.pcapng" 2>"$T/$1.err" || RC=$?
	PKTS=0
	[ ! -s "$T/$1.pcapng" ] || PKTS=$(capinfos -Mc "$T/$1.pcapng" | awk '/packets:/ {print $NF}')
	echo "$1: exit $RC, $PKTS packets: $(tr '\n' ' ' <"$T/$1.err")"
}

out=$("$DW" --ring rc-fmtver --storage "$T/fifo" --storage-size 32Mi --records 30000 2>/dev/null)
segs=("$T"/fifo/seg-*.rcs)
[ ${#segs[@]} = 2 ] || fail "expected 2 segments: ${segs[*]}"
export_fifo all
[ "$RC" = 0 ] && [ "$PKTS" = 30000 ] || fail "the intact storage did not export 30000 packets"

# The older segment in a newer format: the newer one's records still come, the rest is named.
setver "${segs[0]}" 2
export_fifo newer
[ "$RC" = 1 ] || fail "an export missing a segment in format 2 exited $RC"
grep -q "seg-0000000000000001.rcs) are in segment format 2" "$T/newer.err" ||
	fail "the export did not name the format-2 segment"
[ "$PKTS" -gt 0 ] && [ "$PKTS" -lt 30000 ] || fail "the format-1 segment's packets: $PKTS"

# Only segments of another format (here an older one, 0): not "nothing is held" and exit 0.
setver "${segs[1]}" 0
export_fifo older
[ "$RC" = 1 ] || fail "an export of a storage of unreadable segments exited $RC"
grep -q "2 disk FIFO segment files (the first seg-0000000000000001.rcs) are in segment format" \
	"$T/older.err" || fail "the export did not name the unreadable segments"

# capd (its stand-in runs the same storage code) takes the storage over: they go, said.
"$DW" --ring rc-fmtver --storage "$T/fifo" --storage-size 32Mi --records 100 \
	>"$T/dw2.out" 2>"$T/dw2.err"
cat "$T/dw2.err"
[ "$(grep -c "removing .*segment format [02], this capd writes and reads format 1" \
	"$T/dw2.err")" = 2 ] || fail "the writer did not remove both foreign segments"
export_fifo after
[ "$RC" = 0 ] || fail "the export after the writer took over exited $RC"
echo "PASS: segments of another format are named by exports and removed by the writer"
