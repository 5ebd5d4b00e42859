#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# storage_trust.sh - nothing already in the storage directory is trusted.
# An object named like a segment that is not one (a FIFO, a symbolic link, a
# socket, a device, a directory, another user's copy of a real segment, a
# truncated file) never hangs capd's start-up or a reader, is never read as
# data, and capd keeps capturing; links, FIFOs, sockets and devices are
# removed, so are torn segments of capd's own, the rest (a directory,
# another user's file) ignored, each with a log line naming it. A storage path
# that is itself odd (a link, a FIFO, a file, another user's directory) is
# refused by capd with one line naming it, and by the readers, at once.
# Every command runs under `timeout`: a hang is a failure, not a stuck test.
set -euo pipefail
TNAME=strust
. "$(dirname "$0")/../capd/lib.sh"
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
SNAP=$RAWCAP_BUILD/readers/rawcap-snapshot
S=$TMP/fifo
ODD=seg-00000000000000f0.rcs # numbered above every real segment: it would be the newest
SENT=0

# packets FILE: packets in a capture file, counted by tcpdump.
packets() { tcpdump -r "$1" -nn 2>/dev/null | wc -l; }

# send N: N UDP packets over lo, captured by the running capd.
send() {
	nsx "$TRAFFIC" udp 127.0.0.1 9999 "$1" >/dev/null
	SENT=$((SENT + $1))
	sleep 1
}

# readers WHAT: rawcap-pcap and rawcap-snapshot over the storage alone finish
# (no hang) and hold exactly the packets sent: nothing forged, nothing lost.
readers() {
	local what=$1 rc n
	rc=0; timeout 30 "$PCAP" --storage "$S" --ring gone-$$ -o "$TMP/out.pcap" 2>"$TMP/pcap.err" || rc=$?
	[ "$rc" != 124 ] || fail "$what: rawcap-pcap --storage hung"
	[ "$rc" = 0 ] || fail "$what: rawcap-pcap --storage exit $rc: $(cat "$TMP/pcap.err")"
	n=$(packets "$TMP/out.pcap")
	[ "$n" = "$SENT" ] || fail "$what: rawcap-pcap exported $n packets, $SENT were sent"
	rm -rf "$TMP/dest"
	rc=0; timeout 30 "$SNAP" create --storage "$S" --ring gone-$$ --dest "$TMP/dest" --name s \
		--last 1h >"$TMP/snap.out" 2>&1 || rc=$?
	[ "$rc" != 124 ] || fail "$what: rawcap-snapshot create hung"
	grep -q "^$TMP/dest/s: $SENT packets" "$TMP/snap.out" ||
		fail "$what: rawcap-snapshot create (exit $rc): $(cat "$TMP/snap.out"), $SENT sent"
}

# plant KIND: put an odd object named like a segment into the storage.
plant() {
	local seg
	seg=$(ls "$S"/seg-*.rcs | head -1)
	case $1 in
	fifo) mkfifo "$S/$ODD" ;;
	symlink) ln -s /etc/passwd "$S/$ODD" ;;
	seglink) cp "$seg" "$TMP/copy.rcs"; ln -s "$TMP/copy.rcs" "$S/$ODD" ;;
	socket) python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$S/$ODD" ;;
	chardev) mknod "$S/$ODD" c 1 3 ;;
	directory) mkdir "$S/$ODD" ;;
	truncated) head -c 100 "$seg" >"$S/$ODD"; chown --reference="$seg" "$S/$ODD" ;;
	esac
}

start_capd "$TMP/capd.log" --interfaces lo --storage "$S" --storage-size 64Mi --sync-interval 0s
send 300
stop_capd "$TMP/capd.log"
readers "clean storage"

for kind in fifo symlink seglink socket chardev directory truncated; do
	plant "$kind"
	readers "$kind before capd"
	: >"$TMP/capd.log"
	start_capd "$TMP/capd.log" --interfaces lo --storage "$S" --storage-size 64Mi --sync-interval 0s
	grep -q "$ODD" "$TMP/capd.log" || fail "$kind: capd did not name $ODD"
	grep "$ODD" "$TMP/capd.log" | head -1
	send 50
	stop_capd "$TMP/capd.log"
	readers "$kind after capd"
	case $kind in
	fifo | symlink | seglink | socket | chardev | truncated)
		[ ! -e "$S/$ODD" ] && [ ! -L "$S/$ODD" ] || fail "$kind: capd left $ODD in place" ;;
	*) [ -e "$S/$ODD" ] || fail "$kind: capd removed $ODD (not its own)" ;;
	esac
	[ "$kind" != seglink ] || [ -f "$TMP/copy.rcs" ] || fail "capd removed a link's target"
	rm -rf "${S:?}/$ODD"
	echo "$kind: capd started and captured, readers finished with exactly $SENT packets"
done
# A real segment replaced by another user's file (a forgery as far as anyone
# can tell): never read, neither by readers nor by capd's recovery.
seg=$(ls "$S"/seg-*.rcs | tail -1)
mkdir "$TMP/one" && cp -p "$seg" "$TMP/one/" && chown --reference="$seg" "$TMP/one"
timeout 30 "$PCAP" --storage "$TMP/one" --ring gone-$$ -o "$TMP/one.pcap" 2>/dev/null || true
n_seg=$(packets "$TMP/one.pcap")
[ "$n_seg" -gt 0 ] || fail "no packets in the newest segment"
cp -p "$seg" "$TMP/forged" && chown 65534:65534 "$TMP/forged" && mv "$TMP/forged" "$seg"
SENT=$((SENT - n_seg))
readers "another user's segment"
rm -f "$RAWCAP_SHM_DIR/rawcap-$RING" # else capd persists the old ring's copy of those records again
start_capd "$TMP/capd.log" --interfaces lo --storage "$S" --storage-size 64Mi --sync-interval 0s
grep -q "ignoring $seg: owned by uid 65534" "$TMP/capd.log" || fail "capd did not name $seg"
send 50
stop_capd "$TMP/capd.log"
readers "another user's segment, after capd"
rm -f "$seg"
echo "another user's segment ($n_seg packets): never read; capd skipped its number"

: >"$TMP/capd.log"
# Directories at the next segments' names: capd numbers its segments past
# one it finds at start, and skips one that appears while it runs.
lastno() { ls "$S" | sed -n 's/^seg-\([0-9a-f]*\)\.rcs$/\1/p' | tail -1; }
segname() { printf 'seg-%016x.rcs' "$1"; }
n1=$((16#$(lastno) + 1))
mkdir "$S/$(segname $n1)"
# Another segment size (5Mi: segments of 4 blocks, not 7) starts a new segment at once.
start_capd "$TMP/capd.log" --interfaces lo --storage "$S" --storage-size 5Mi --sync-interval 0s
send 10
n2=$((16#$(lastno) + 1))
[ "$n2" -gt $((n1 + 1)) ] || fail "capd numbered a segment at or below $(segname $n1)"
mkdir "$S/$(segname $n2)"
send 4000 # about 2.6 MB: past the 2 MB segment capd started with
stop_capd "$TMP/capd.log"
grep -q "segment number $n2 is taken" "$TMP/capd.log" || fail "capd did not skip $(segname $n2)"
[ -d "$S/$(segname $n1)" ] && [ -d "$S/$(segname $n2)" ] || fail "a directory was replaced"
rmdir "$S/$(segname $n1)" "$S/$(segname $n2)"
echo "directories at segment names: numbered past at start, skipped while running"

# The storage path itself: refused at once with one line naming it (and
# the readers refuse a link, a FIFO or a file at once too).
odd_storage() {
	local what=$1 want=$2 rc
	rc=0; timeout 30 ip netns exec "$NS" "$CAPD" --ring "$RING" --ring-size 1Mi --interfaces lo \
		--storage "$TMP/odd" --storage-size 64Mi 2>"$TMP/odd.log" || rc=$?
	[ "$rc" != 124 ] || fail "storage $what: capd hung"
	[ "$rc" != 0 ] || fail "storage $what: capd accepted it"
	grep -q "$TMP/odd.*$want" "$TMP/odd.log" || fail "storage $what: unclear: $(cat "$TMP/odd.log")"
	grep "$want" "$TMP/odd.log" | head -1
	[ -z "${3:-}" ] || { rm -rf "$TMP/odd"; return 0; } # readers may read any directory they are given
	rc=0; timeout 30 "$PCAP" --storage "$TMP/odd" --ring gone-$$ -o "$TMP/o.pcap" 2>"$TMP/odd.err" || rc=$?
	[ "$rc" = 1 ] || fail "storage $what: rawcap-pcap exit $rc"
	grep -q "$TMP/odd" "$TMP/odd.err" || fail "storage $what: rawcap-pcap unclear: $(cat "$TMP/odd.err")"
	rm -rf "$TMP/odd"
}
ln -s "$S" "$TMP/odd"
odd_storage symlink "symbolic link"
mkfifo "$TMP/odd"
odd_storage FIFO "a FIFO, not a directory"
echo x >"$TMP/odd"
odd_storage file "a regular file, not a directory"
mkdir "$TMP/odd" && chown 65534:65534 "$TMP/odd"
odd_storage "foreign directory" "owned by uid 65534.*chown -R" readers-may

# A directory it is given open to everyone is tightened, not used as is.
mkdir -m 0777 "$TMP/open"
start_capd "$TMP/capd.log" --interfaces lo --storage "$TMP/open" --storage-size 64Mi
stop_capd "$TMP/capd.log"
[ "$(stat -c %a "$TMP/open")" = 750 ] || fail "storage mode $(stat -c %a "$TMP/open"), want 750"
echo "PASS: odd objects in or at the storage never hang, forge or stop capture"
