#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# reader_perms.sh - who may read what capd writes. capd runs as nobody with
# --group G: the ring and the disk FIFO are readable by G only. A reader
# running as an unrelated user cannot open the ring or the storage; a reader
# in G reads both but can never write (the ring, a segment, the storage
# directory). Ring names from the command line are validated: no path
# escapes through a reader or capd.
set -euo pipefail
TNAME=rperm
. "$(dirname "$0")/../capd/lib.sh"
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }
STAT=$RAWCAP_BUILD/readers/rawcap-stat
DR=$RAWCAP_BUILD/tests/diskread
G=$((40000 + $$ % 20000))
U=$((20000 + $$ % 20000))
as_other() { setpriv --reuid=$U --regid=$U --clear-groups "$@"; }
as_group() { setpriv --reuid=$U --regid=$U --groups=$G "$@"; }

start_capd "$TMP/capd.log" --interfaces lo --user nobody --group $G --storage "$TMP/fifo" \
	--storage-size 64Mi --sync-interval 0s
nsx "$TRAFFIC" udp 127.0.0.1 9999 3000 >/dev/null
sleep 1
ringf=$RAWCAP_SHM_DIR/rawcap-$RING
ls -ln "$ringf" "$TMP/fifo" | head -4

# An unrelated user: nothing.
as_other "$STAT" --ring "$RING" --interval 0 >/dev/null 2>"$TMP/o1" && fail "unrelated user read the ring"
grep -q "Permission denied" "$TMP/o1" || fail "unclear error for an unrelated user: $(cat "$TMP/o1")"
as_other "$DR" --storage "$TMP/fifo" --no-ring >"$TMP/o2" 2>&1 && fail "unrelated user read the storage"
as_other cat "$TMP"/fifo/seg-*.rcs >/dev/null 2>&1 && fail "unrelated user read a segment"
echo "unrelated uid $U: ring and storage refused"

# The ring's group: reads both, writes nothing.
st=$(as_group "$STAT" --ring "$RING" --json --interval 0) || fail "group reader cannot read the ring"
grep -q '"packets":3000' <<<"$st" || fail "group reader: wrong figures: $st"
rd=$(as_group "$DR" --ring "$RING" --storage "$TMP/fifo")
[ "$(kv records "$rd")" -ge 3000 ] || fail "group reader cannot read the storage: $rd"
seg=$(ls "$TMP"/fifo/seg-*.rcs | head -1)
for target in "$ringf" "$seg"; do
	as_group sh -c "printf x >>'$target'" 2>/dev/null && fail "group reader wrote to $target"
	as_group dd if=/dev/zero of="$target" bs=1 count=1 conv=notrunc 2>/dev/null &&
		fail "group reader overwrote $target"
done
as_group touch "$TMP/fifo/intruder" 2>/dev/null && fail "group reader created a file in the storage"
as_group rm -f "$seg" 2>/dev/null || true
[ -e "$seg" ] || fail "group reader deleted a segment"
echo "group $G: reads ring ($(kv records "$rd") records with storage), cannot write, create or delete"
stop_capd "$TMP/capd.log"

# Names from the command line: no path escapes, clear errors.
for bad in ../../etc/passwd a/b .. "$(printf 'x%.0s' $(seq 80))"; do
	rc=0; "$STAT" --ring "$bad" --interval 0 >/dev/null 2>"$TMP/e" || rc=$?
	[ "$rc" = 2 ] && grep -q "bad --ring" "$TMP/e" || fail "rawcap-stat accepted ring '$bad' ($rc)"
	rc=0; "$CAPD" --ring "$bad" --interfaces lo 2>"$TMP/e" || rc=$?
	[ "$rc" = 2 ] && grep -q "bad --ring" "$TMP/e" || fail "capd accepted ring '$bad' ($rc)"
done
echo "PASS: ring and storage readable by the ring group only, never writable by readers"
