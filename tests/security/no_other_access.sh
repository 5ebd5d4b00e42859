#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# no_other_access.sh - who can read captured packets. capd with no --user
# drops to rawcap's dedicated identity (uid and gid 64720), never nobody.
# Nothing rawcap creates - ring, FIFO directory and segments, lock file,
# snapshot destination, snapshots, exported files - gives "other" any
# access; a snapshot destination that existed open to everyone (as kubelet's
# hostPath DirectoryOrCreate leaves it) is tightened, and one rawcap may not
# tighten is refused. A user outside the ring's group reads no packet, from
# the ring, the FIFO, a snapshot or an export.
set -euo pipefail
TNAME=noother
. "$(dirname "$0")/../capd/lib.sh"
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
SNAP=$RAWCAP_BUILD/readers/rawcap-snapshot
STAT=$RAWCAP_BUILD/readers/rawcap-stat
U=$((20000 + $$ % 20000))
as_other() { setpriv --reuid=$U --regid=$U --clear-groups "$@"; }
as_group() { setpriv --reuid=64721 --regid=64720 --clear-groups "$@"; }

# The default identity.
start_capd "$TMP/capd.log" --interfaces lo --storage "$TMP/fifo" --storage-size 64Mi \
	--sync-interval 0s
ids=$(awk '/^(Uid|Gid):/ {print $2, $3, $4, $5}' "/proc/$CAPD_PID/status" | tr '\n' ' ')
[ "$ids" = "64720 64720 64720 64720 64720 64720 64720 64720 " ] || fail "capd ids: $ids"
grep -q "dropped to uid 64720 gid 64720" "$TMP/capd.log" || fail "capd did not say its identity"
nsx "$TRAFFIC" udp 127.0.0.1 9999 200 >/dev/null
sleep 1
echo "capd with no --user runs as 64720:64720"

# A snapshot into a destination open to everyone, as kubelet creates it.
mkdir -m 0755 "$TMP/snaps"
"$SNAP" create --ring "$RING" --storage "$TMP/fifo" --dest "$TMP/snaps" --name s --last 1h \
	>"$TMP/snap.out" 2>&1 || fail "snapshot: $(cat "$TMP/snap.out")"
"$PCAP" --ring "$RING" --storage "$TMP/fifo" -o "$TMP/export.pcapng" 2>/dev/null ||
	fail "export failed"
stop_capd "$TMP/capd.log"

# Modes and owners, exactly.
mode() { stat -c '%a %u:%g' "$1"; }
[ "$(mode "$TMP/fifo")" = "750 64720:64720" ] || fail "FIFO dir: $(mode "$TMP/fifo")"
for f in "$TMP"/fifo/seg-*.rcs; do
	[ "$(mode "$f")" = "640 64720:64720" ] || fail "$f: $(mode "$f")"
done
[ "$(stat -c %a "$TMP/fifo/capd.lock")" = 600 ] || fail "lock: $(mode "$TMP/fifo/capd.lock")"
[ "$(stat -c %a "$TMP/snaps")" = 750 ] || fail "snapshot destination not tightened: $(mode "$TMP/snaps")"
[ "$(stat -c %a "$TMP/snaps/s")" = 550 ] && [ "$(stat -c %a "$TMP/snaps/s/data")" = 550 ] ||
	fail "snapshot directories: $(mode "$TMP/snaps/s") $(mode "$TMP/snaps/s/data")"
[ "$(find "$TMP/snaps/s" -type f -printf '%m\n' | sort -u)" = 440 ] || fail "snapshot files not 0440"
[ "$(stat -c %a "$TMP/export.pcapng")" = 640 ] || fail "export: $(mode "$TMP/export.pcapng")"
# And nothing anywhere under what rawcap made gives "other" anything.
open=$(find "$RAWCAP_SHM_DIR" "$TMP/fifo" "$TMP/snaps" "$TMP/export.pcapng" -mindepth 0 \
	\( -perm /o=rwx \) ! -path "$RAWCAP_SHM_DIR" -printf '%m %p\n')
[ -z "$open" ] || fail "open to other users: $open"
echo "ring, FIFO, lock, snapshot and export: no access for other users"

# Someone outside the ring's group reads nothing; the group reads it all.
as_other "$STAT" --ring "$RING" --interval 0 >/dev/null 2>&1 && fail "another user read the ring"
n=$(as_other sh -c "cat '$TMP'/fifo/seg-* '$TMP'/snaps/s/data/seg-* '$TMP/export.pcapng' 2>/dev/null" |
	grep -a -c RCP1 || true)
[ "$n" = 0 ] || fail "another user read $n packets"
as_other "$PCAP" --storage "$TMP/fifo" --ring gone -o - 2>/dev/null | grep -q -a RCP1 &&
	fail "another user exported packets from the FIFO"
n=$(as_group "$PCAP" --storage "$TMP/fifo" --ring gone -o - 2>/dev/null |
	tcpdump -r - -nn 2>/dev/null | wc -l)
[ "$n" = 200 ] || fail "a reader in the ring's group exported $n of 200 packets"
echo "uid $U: nothing; a reader in group 64720: all 200 packets"

# A destination open to everyone that this user may not tighten: refused, with the fix.
chmod 0755 "$TMP"
mkdir -m 0755 "$TMP/rootsnaps"
as_group "$SNAP" create --ring "$RING" --storage "$TMP/fifo" --dest "$TMP/rootsnaps" --name s \
	--last 1h >"$TMP/o" 2>&1 && fail "created a snapshot in a directory open to everyone"
grep -q "open to other users (mode 0755).*chmod o-rwx" "$TMP/o" || fail "unclear: $(cat "$TMP/o")"
echo "PASS: captured packets are readable by the ring's group only"
