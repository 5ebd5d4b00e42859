#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ring_squat.sh - what is under a ring's name in a world-writable, sticky shm
# directory (/dev/shm's semantics) is checked before anyone trusts it:
#  - another user's forged ring (a valid header claiming a live writer, pid 1,
#    fresh heartbeat): readers refuse it naming the owner and show none of its
#    figures; capd starts anyway, removes it and creates its own;
#  - a FIFO, a symlink (to a file the reader could read), a world-writable
#    root-owned file: refused at once by readers (no hang), replaced by capd;
#  - a directory capd cannot remove: capd exits 1 at once, naming it.
set -euo pipefail
TNAME=squat
. "$(dirname "$0")/../capd/lib.sh"
STAT=$RAWCAP_BUILD/readers/rawcap-stat
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
SQUATTER=23456
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
chmod 1777 "$RAWCAP_SHM_DIR"
OBJ=$RAWCAP_SHM_DIR/rawcap-$RING

# A well-formed header (shm/ring_layout.h) claiming a live writer, written by uid 23456.
cat >"$TMP/forge.py" <<'PY'
import os, struct, sys, time
DATA = 1 << 16
entries = DATA >> 12
data_off = (4096 + entries * 32 + 256 * 312 + 4095) & ~4095
buf = bytearray(data_off + DATA)
now = time.time_ns()
struct.pack_into("<QIIQQQQQQIIQQII", buf, 0, 0x31474E49525752, 1, 4096, len(buf), data_off,
                 DATA, now, now, 4096, entries, 12, 4096 + entries * 32, 0, 1, DATA // 4)
for i in range(entries):
    struct.pack_into("<Q", buf, 4096 + 32 * i, 2**64 - 1)
struct.pack_into("<Q", buf, 528, now)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, bytes(buf))
PY
as_squatter() { setpriv --reuid=$SQUATTER --regid=$SQUATTER --clear-groups "$@"; }

reader_refuses() { # reader_refuses PATTERN: rawcap-stat and rawcap-pcap exit 1 at once, naming it
	local out rc=0
	out=$(timeout 10 "$STAT" --ring "$RING" --interval 0 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "rawcap-stat exited $rc on $1: $out"
	grep -q "$OBJ: not a ring capd made (.*$2" <<<"$out" || fail "rawcap-stat: unclear: $out"
	! grep -q "writer pid" <<<"$out" || fail "rawcap-stat showed forged figures: $out"
	rc=0
	out=$(timeout 10 "$PCAP" --ring "$RING" -o "$TMP/x.pcapng" -q 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "rawcap-pcap exited $rc on $1: $out"
	grep -q "not a ring capd made" <<<"$out" || fail "rawcap-pcap: unclear: $out"
	echo "ok: readers refuse $1: $(head -1 <<<"$out")"
}

capd_replaces() { # capd_replaces WHAT: capd starts within 15 s and owns the ring
	start_capd "$TMP/capd-$1.log" --ring-size 4Mi --interfaces lo
	grep -q "$OBJ: .*; replacing it" "$TMP/capd-$1.log" || fail "capd did not say what it replaced"
	[ "$(stat -c %u "$OBJ")" = 0 ] || fail "the ring is not capd's after replacing $1"
	"$STAT" --ring "$RING" --interval 0 | grep -q "state        live" || fail "readers cannot read capd's ring"
	stop_capd "$TMP/capd-$1.log"
	rm -f "$OBJ"
	echo "ok: capd replaced $1: $(grep -m1 "replacing it" "$TMP/capd-$1.log")"
}

as_squatter "$PY" "$TMP/forge.py" "$OBJ"
reader_refuses "a forged ring" "owned by uid $SQUATTER"
capd_replaces forged

mkfifo -m 0600 "$OBJ"
reader_refuses "a FIFO" "it is a FIFO"
capd_replaces fifo

echo secret >"$TMP/target"
chmod 0644 "$TMP/target"
ln -s "$TMP/target" "$OBJ"
reader_refuses "a symlink" "symlink"
capd_replaces symlink
[ "$(cat "$TMP/target")" = secret ] || fail "the symlink's target was changed"

start_capd "$TMP/capd-own.log" --ring-size 4Mi --interfaces lo
stop_capd "$TMP/capd-own.log"
chmod 0666 "$OBJ"
reader_refuses "a world-writable ring" "writable by everyone"
rm -f "$OBJ"

mkdir "$OBJ"
rc=0
timeout 20 ip netns exec "$NS" "$CAPD" --ring "$RING" --ring-size 4Mi --interfaces lo \
	2>"$TMP/capd-dir.log" || rc=$?
[ "$rc" = 1 ] || fail "capd exited $rc with a directory under the ring's name"
grep -q "cannot remove $OBJ: .*remove it by hand or choose another --ring" "$TMP/capd-dir.log" ||
	fail "capd's error does not name the object: $(cat "$TMP/capd-dir.log")"
echo "ok: capd refuses a directory it cannot remove: $(tail -1 "$TMP/capd-dir.log")"
rmdir "$OBJ"
echo "PASS"
