#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rules.sh - the rules a snapshot keeps: names cannot escape the snapshot
# storage; verify finds a flipped byte; two snapshots can be created at once
# (and one name only once); the creator (not root) cannot write a snapshot
# afterwards; a quota, or a full file system without one, gives a clear error; half-built snapshots are never
# listed; delete; delete, list and verify walk --dest as create does and say
# why they refuse (a planted link on the way, a --dest another user made in a
# 1777 directory); SIGINT/SIGTERM cancel a create and leave nothing; what a
# killed create left is reaped once its PID is gone; serve exits 0 on SIGTERM.
set -euo pipefail
. "$(dirname "$0")/../pcap/lib.sh"

DEST=$T/snaps
netns_up
capture_ref "$T/ref.pcap" send_traffic 100
"$PKTW" "$RING" "$T/ref.pcap" >/dev/null
snap() { "$SNAP" "$@"; }
expect_exit() { # expect_exit CODE PATTERN cmd...
	local want=$1 pat=$2 rc; shift 2
	set +e; "$@" >"$T/out" 2>&1; rc=$?; set -e
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want: $(cat "$T/out")"
	grep -q -- "$pat" "$T/out" || fail "$*: output lacks '$pat': $(cat "$T/out")"
}

# Names: traversal and separators are usage errors, nothing is created outside.
for bad in ../evil a/b .. .hidden "-x" ""; do
	expect_exit 2 "invalid snapshot name" snap create --ring "$RING" --dest "$DEST" --name "$bad" --last 1h
done
expect_exit 2 "invalid snapshot name" snap verify --dest "$DEST" ../../etc
expect_exit 2 "invalid snapshot name" snap delete --dest "$DEST" ..
[ ! -e "$T/evil" ] || fail "a traversal name created $T/evil"

# Two at once, different names: both complete and verify.
snap create --ring "$RING" --dest "$DEST" --name one --from -24h --to now >/dev/null 2>"$T/e1" &
p1=$!
snap create --ring "$RING" --dest "$DEST" --name two --from -24h --to now >/dev/null 2>"$T/e2" &
p2=$!
wait $p1 || fail "concurrent create one: $(cat "$T/e1")"
wait $p2 || fail "concurrent create two: $(cat "$T/e2")"
snap verify --dest "$DEST" one | grep -q "one: OK" || fail "verify one"
snap verify --dest "$DEST" two | grep -q "two: OK" || fail "verify two"
cmp -s <("$PCAP" --snapshot "$DEST/one" | tcpdump -r - -nn -xx 2>/dev/null) \
	<(tcpdump -r "$T/ref.pcap" -nn -xx 2>/dev/null) || fail "snapshot one differs from tcpdump"
# Two at once, same name: exactly one wins.
set +e
snap create --ring "$RING" --dest "$DEST" --name same --last 24h >/dev/null 2>"$T/s1" & q1=$!
snap create --ring "$RING" --dest "$DEST" --name same --last 24h >/dev/null 2>"$T/s2" & q2=$!
wait $q1; r1=$?; wait $q2; r2=$?
set -e
[ $((r1 + r2)) = 1 ] || fail "same name twice at once: exits $r1 and $r2"
grep -hq "exists" "$T/s1" "$T/s2" || fail "no 'exists' message: $(cat "$T/s1" "$T/s2")"
expect_exit 1 "exists" snap create --ring "$RING" --dest "$DEST" --name one --last 24h

# verify detects one flipped byte.
f=$(ls "$DEST/two/data" | head -n 1)
chmod u+w "$DEST/two/data" "$DEST/two/data/$f"
python3 - "$DEST/two/data/$f" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(5000); b = f.read(1); f.seek(5000); f.write(bytes([b[0] ^ 1]))
PY
expect_exit 1 "SHA-256 mismatch" snap verify --dest "$DEST" two
# ... and an added file.
touch "$DEST/two/data/extra"
chmod u+w "$DEST/one/data"; touch "$DEST/one/data/extra"
expect_exit 1 "not listed" snap verify --dest "$DEST" one

# Quota: a clear error, nothing left behind.
expect_exit 1 "snapshot storage full" snap create --ring "$RING" --dest "$DEST" --name q --last 24h --quota 64Ki
[ ! -e "$DEST/q" ] || fail "quota failure left $DEST/q"
# A full file system without a quota: said as such, not as a quota of 0 bytes.
mkdir -p "$T/small"
expect_exit 1 "snapshot storage full: the window does not fit in $T/small: No space left" \
	unshare -m sh -c 'mount -t tmpfs -o size=64k rc-small "$0" && exec "$@"' "$T/small" \
	"$SNAP" create --ring "$RING" --dest "$T/small" --name full --last 24h

# A half-built snapshot (crash) is never listed; delete removes one.
mkdir "$DEST/.tmp-crash-1"
snap list --dest "$DEST" >"$T/list"
grep -q crash "$T/list" && fail "list shows a half-built snapshot"
snap delete --dest "$DEST" one
snap list --dest "$DEST" | grep -q "^one" && fail "deleted snapshot still listed"
# delete takes a path too, and deletes only a snapshot: a directory without a
# manifest (a user's own, a half-built one), a file or a link stays, exit 1.
mkdir -p "$T/mine/keep" && echo data >"$T/mine/keep/file"
ln -s "$T/mine/keep" "$T/mine/link"; echo x >"$T/mine/plain"
for victim in keep link plain; do
	expect_exit 1 "not a snapshot" snap delete "$T/mine/$victim"
done
[ "$(cat "$T/mine/keep/file")" = data ] && [ -L "$T/mine/link" ] && [ -f "$T/mine/plain" ] ||
	fail "delete removed something that is not a snapshot"
mkdir "$DEST/notsnap"
expect_exit 1 "not a snapshot" snap delete --dest "$DEST" notsnap
[ -d "$DEST/notsnap" ] || fail "delete removed a directory without a manifest"
rmdir "$DEST/notsnap"
expect_exit 2 "invalid snapshot name" snap delete --dest "$DEST" "$DEST/two"
snap delete "$DEST/same/" && [ ! -e "$DEST/same" ] || fail "delete PATH left $DEST/same"
# A delete walks --dest as a create does: a link another user planted on the
# way (here in a 1777 directory, leading to our snapshots) is not followed.
if [ "$(id -u)" = 0 ]; then
	mkdir -m 1777 "$T/pub"
	ln -s "$(dirname "$DEST")" "$T/pub/planted"
	chown -h nobody "$T/pub/planted"
	snap list --dest "$DEST" | grep -q "^two" || fail "no snapshot 'two' to aim the planted link at"
	# The refusal says which component and why, once, with the command's context;
	# list and verify walk --dest the same way and say the same.
	via=$T/pub/planted/$(basename "$DEST")
	why="planted: a symbolic link of uid 65534: rawcap does not follow it"
	expect_exit 1 "delete $via/two: $why" snap delete --dest "$via" two
	[ "$(grep -c "symbolic link" "$T/out")" = 1 ] || fail "said more than once: $(cat "$T/out")"
	grep -q "Operation not permitted" "$T/out" && fail "delete says only errno: $(cat "$T/out")"
	snap list --dest "$DEST" | grep -q "^two" || fail "a delete through a planted link removed 'two'"
	expect_exit 1 "list $via: $why" snap list --dest "$via"
	expect_exit 1 "verify $via/two: $why" snap verify --dest "$via" two
	# show and the reads of a snapshot (rawcap-pcap --snapshot) walk it too
	snap show --dest "$DEST" two >/dev/null || fail "show two"
	snap show --dest "$via" two >"$T/out" 2>&1 && fail "show through a planted link: $(cat "$T/out")"
	"$B/readers/rawcap-pcap" --snapshot "$via/two" -o "$T/via.pcap" >"$T/out" 2>&1 &&
		fail "rawcap-pcap --snapshot through a planted link: $(cat "$T/out")"
	grep -q "Operation not permitted" "$T/out" || fail "rawcap-pcap --snapshot through a planted link: $(cat "$T/out")"
	grep -q "snapshot lists" "$T/out" && fail "rawcap-pcap read through a planted link: $(cat "$T/out")"
	rm -f "$T/via.pcap"
	# --dest itself a directory another user made in a 1777 directory (/tmp): not
	# used for anything (it could take the snapshots, or keep them from being made).
	mkdir -m 0777 "$T/pub/snaps" && chown nobody "$T/pub/snaps"
	own="snaps: a directory of uid 65534 in a directory others may write"
	expect_exit 1 "create .*$own" snap create --ring "$RING" --dest "$T/pub/snaps" --name p --last 24h
	expect_exit 1 "list $T/pub/snaps: $own" snap list --dest "$T/pub/snaps"
	expect_exit 1 "verify $T/pub/snaps/two: $own" snap verify --dest "$T/pub/snaps" two
	expect_exit 1 "delete $T/pub/snaps/two: $own" snap delete --dest "$T/pub/snaps" two
	[ -z "$(ls -A "$T/pub/snaps")" ] || fail "something was made in another user's --dest"
	# ours there is used
	mkdir "$T/pub/mine"
	snap list --dest "$T/pub/mine" >/dev/null || fail "list of our own directory in a 1777 one"
	rm -rf "$T/pub"
fi

# The creator cannot write its snapshot afterwards (not root: root ignores modes),
# and other users cannot read it: files 0440, directories 0550.
chmod 0755 "$T"
mkdir "$T/nobody" && chown nobody "$T/nobody"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
as_nobody "$SNAP" create --ring "$RING" --dest "$T/nobody" --name mine --last 24h >/dev/null ||
	fail "create as nobody failed"
[ "$(stat -c %a "$T/nobody/mine")" = 550 ] || fail "snapshot dir mode $(stat -c %a "$T/nobody/mine")"
for m in $(find "$T/nobody/mine" -type f -printf '%m\n' | sort -u); do
	[ "$m" = 440 ] || fail "a snapshot file has mode $m"
done
seg=$(find "$T/nobody/mine/data" -type f | head -n 1)
as_nobody sh -c "echo x >>'$T/nobody/mine/manifest.json'" 2>/dev/null && fail "creator could append to the manifest"
as_nobody sh -c "echo x >>'$seg'" 2>/dev/null && fail "creator could write a segment"
as_nobody touch "$T/nobody/mine/new" 2>/dev/null && fail "creator could add a file"
as_nobody rm -f "$seg" 2>/dev/null || true; [ -e "$seg" ] || fail "creator could remove a segment"
as_nobody "$SNAP" verify --dest "$T/nobody" mine | grep -q "mine: OK" || fail "verify as nobody"

# SIGINT and SIGTERM cancel a create waiting for its window's end (an
# hour away): exit 1, "cancelled", nothing left in DEST (the default
# action killed it and left its .tmp- staging directory).
for sig in INT TERM; do
	"$SNAP" create --ring "$RING" --dest "$DEST" --name sig --from -1h --to +1h \
		>/dev/null 2>"$T/sig.err" &
	cp=$!
	for _ in $(seq 100); do
		ls -a "$DEST" | grep -q '^\.tmp-sig-' && break
		sleep 0.05
	done
	ls -a "$DEST" | grep -q '^\.tmp-sig-' || fail "create sig has no staging: $(cat "$T/sig.err")"
	kill -"$sig" "$cp"
	for _ in $(seq 100); do kill -0 "$cp" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$cp" 2>/dev/null && { kill -KILL "$cp"; fail "create ran on after SIG$sig"; }
	set +e; wait "$cp"; rc=$?; set -e
	[ "$rc" = 1 ] && grep -q cancelled "$T/sig.err" ||
		fail "SIG$sig during create: exit $rc: $(cat "$T/sig.err")"
	! ls -a "$DEST" | grep -q -e '^\.tmp-sig-' -e '^sig$' || fail "SIG$sig left $(ls -a "$DEST")"
done

# A create killed outright (SIGKILL, a crash) leaves its .tmp-NAME-PID:
# the next create, or the usage the quota counts, removes it once that PID
# no longer runs; they stayed and counted against the quota for ever.
# Kept: one whose PID runs (reused by another process), and a link named
# like one (and what it points at).
"$SNAP" create --ring "$RING" --dest "$DEST" --name killed --from -1h --to +1h \
	>/dev/null 2>&1 &
kp=$!
for _ in $(seq 100); do ls -a "$DEST" | grep -q '^\.tmp-killed-' && break; sleep 0.05; done
kill -KILL "$kp"
wait "$kp" || true
ls -a "$DEST" | grep -q "^\.tmp-killed-$kp\$" || fail "SIGKILL left no staging: $(ls -a "$DEST")"
mkdir "$DEST/.tmp-live-$$" "$T/target"
: >"$T/target/keep"
ln -s "$T/target" "$DEST/.tmp-link-$kp"
# A delete killed between its rename and the end of its removal leaves
# .del-NAME-PID, an object storage download killed .dl-NAME-PID: reaped by
# the same rules (they stayed, their blocks counted against the quota).
mkdir -p "$DEST/.del-gone-$kp/data" "$DEST/.dl-gone-$kp/gone" "$DEST/.del-live-$$"
head -c 65536 /dev/urandom >"$DEST/.del-gone-$kp/data/seg"
snap create --ring "$RING" --dest "$DEST" --name after --last 24h >/dev/null 2>"$T/after.err" ||
	fail "create after a killed one: $(cat "$T/after.err")"
! ls -a "$DEST" | grep -q '^\.tmp-killed-' || fail "a dead create's staging stayed: $(ls -a "$DEST")"
! ls -a "$DEST" | grep -q -e '^\.del-gone-' -e '^\.dl-gone-' ||
	fail "a dead delete's or download's leftover stayed: $(ls -a "$DEST")"
[ -d "$DEST/.tmp-live-$$" ] && [ -d "$DEST/.del-live-$$" ] || fail "the leftover of a running PID was removed"
[ -L "$DEST/.tmp-link-$kp" ] && [ -f "$T/target/keep" ] || fail "a link named like a staging was followed"
rm -r "$DEST/.tmp-live-$$" "$DEST/.del-live-$$" "$DEST/.tmp-link-$kp" "$T/target"
snap delete --dest "$DEST" after >/dev/null

# A closed terminal (SIGHUP) cancels a create as SIGINT does: its staging removed,
# no snapshot (it was killed, its staging left for the next create to reap).
"$SNAP" create --ring "$RING" --dest "$DEST" --name hup --from -1s --to +30s 2>"$T/hup.err" &
hp=$!
PIDS+=($hp)
sleep 1.5
kill -HUP $hp
rc=0
wait $hp || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 129 ] || fail "create on SIGHUP exited $rc: $(cat "$T/hup.err")"
! ls -a "$DEST" | grep -q -e '^\.tmp-hup-' -e '^hup$' ||
	fail "a create cancelled by SIGHUP left $(ls -a "$DEST")"
# serve idles and exits 0 on SIGTERM.
"$SNAP" serve --ring "$RING" --dest "$DEST" 2>"$T/serve.err" &
sp=$!
PIDS+=($sp)
for _ in $(seq 100); do grep -q serving "$T/serve.err" && break; sleep 0.05; done
kill -TERM $sp
wait $sp || fail "serve exited $? on SIGTERM"
echo "PASS: names, verify, concurrency, quota, crash leftovers, delete, read-only, serve"
