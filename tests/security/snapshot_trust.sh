#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# snapshot_trust.sh - nothing in snapshot storage or at an output path is
# trusted because of its name. Snapshot destinations, snapshots, manifests
# and data files that are FIFOs, links, oversize or in the wrong place never
# hang rawcap-snapshot (create, list, show, verify) or an export
# (rawcap-pcap --snapshot), and each gets one clear line naming it; output
# paths that are links, FIFOs (with or without a reader), devices or
# directories are refused, an existing file loses "other" access.
# Every command runs under `timeout`: a hang is a failure, not a stuck test.
set -euo pipefail
TNAME=snaptrust
. "$(dirname "$0")/../capd/lib.sh"
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
SNAP=$RAWCAP_BUILD/readers/rawcap-snapshot
TAP=$RAWCAP_BUILD/readers/rawcap-tap
D=$TMP/snaps

packets() { tcpdump -r "$1" -nn 2>/dev/null | wc -l; }

# run WANT_RC OUT CMD...: run under timeout; the exit status must be WANT_RC.
run() {
	local want=$1 out=$2 rc=0
	shift 2
	timeout 30 "$@" >"$out" 2>&1 || rc=$?
	[ "$rc" != 124 ] || fail "hung: $*"
	[ "$rc" = "$want" ] || fail "exit $rc, want $want: $* => $(cat "$out")"
}

# says FILE TEXT: the command's output names the problem.
says() { grep -q -- "$2" "$1" || fail "unclear, want \"$2\": $(cat "$1")"; }

start_capd "$TMP/capd.log" --interfaces lo --storage "$TMP/fifo" --storage-size 64Mi
nsx "$TRAFFIC" udp 127.0.0.1 9999 300 >/dev/null
sleep 1
run 0 "$TMP/c" "$SNAP" create --ring "$RING" --storage "$TMP/fifo" --dest "$D" --name good --last 1h
run 0 "$TMP/e" "$PCAP" --snapshot "$D/good" -o "$TMP/good.pcap"
[ "$(packets "$TMP/good.pcap")" = 300 ] || fail "the good snapshot holds $(packets "$TMP/good.pcap") packets"
stop_capd "$TMP/capd.log"

# Destinations that are not directories.
ln -s "$D" "$TMP/destlink"
mkfifo "$TMP/destfifo"
for dest in destlink destfifo; do
	run 1 "$TMP/o" "$SNAP" create --ring "$RING" --storage "$TMP/fifo" --dest "$TMP/$dest" \
		--name x --last 1h
	says "$TMP/o" "$TMP/$dest: a \(symbolic link\|FIFO, not a directory\)"
	run 1 "$TMP/o" "$SNAP" list --dest "$TMP/$dest"
	says "$TMP/o" "list $TMP/$dest: a \(symbolic link\|FIFO, not a directory\)"
done
echo "destinations that are a link or a FIFO: refused, named"

# Odd snapshots beside the good one (root may change the sealed copies).
copy() { cp -a "$D/good" "$D/$1" && chmod -R u+w "$D/$1"; }
mkfifo "$D/fifosnap"
ln -s good "$D/linksnap"
copy fifomanifest && rm "$D/fifomanifest/manifest.json" && mkfifo "$D/fifomanifest/manifest.json"
copy bigmanifest && head -c $((5 << 20)) /dev/zero >>"$D/bigmanifest/manifest.json"
copy fifodata && seg=$(ls "$D/fifodata/data" | head -1) && rm "$D/fifodata/data/$seg" &&
	mkfifo "$D/fifodata/data/$seg"
copy bigdata && head -c $((20 << 20)) /dev/zero >>"$D/bigdata/data/$seg"
copy linkdata && rm -r "$D/linkdata/data" && ln -s ../good/data "$D/linkdata/data"

run 0 "$TMP/list" "$SNAP" list --dest "$D"
cat "$TMP/list"
grep -q "^good	" "$TMP/list" || fail "list lost the good snapshot"
grep -q "^fifosnap	(unreadable: Not a directory)" "$TMP/list" || fail "list: fifosnap unclear"
grep -q "^linksnap	(unreadable: a symbolic link" "$TMP/list" || fail "list: linksnap unclear"
grep -q "^fifomanifest	(unreadable: not a regular file" "$TMP/list" || fail "list: FIFO manifest unclear"
grep -q "^bigmanifest	(unreadable: File too large)" "$TMP/list" || fail "list: big manifest unclear"

# verify: each damage named; nothing read beyond what the manifest allows.
verify() {
	run 1 "$TMP/v" "$SNAP" verify --dest "$D" "$1"
	says "$TMP/v" "$2"
}
verify fifosnap "Not a directory"
verify linksnap "a symbolic link"
verify fifomanifest "manifest.json: not a regular file"
verify bigmanifest "manifest.json: File too large"
verify fifodata "data/$seg: a FIFO, not a regular file"
verify bigdata "data/$seg: [0-9]* bytes, more than the [0-9]* allowed"
verify linkdata "data/$seg: a symbolic link"
run 0 "$TMP/v" "$SNAP" verify --dest "$D" good
echo "verify names every odd snapshot, manifest and data file"

# Exports from odd snapshots end (no hang) and never deliver what is not the snapshot's.
for s in fifosnap linksnap linkdata; do
	run 1 "$TMP/x" "$PCAP" --snapshot "$D/$s" -o "$TMP/x.pcap"
	says "$TMP/x" "export from $D/$s: \(a symbolic link\|Not a directory\)"
done
rc=0; timeout 30 "$PCAP" --snapshot "$D/fifodata" -o "$TMP/x.pcap" >"$TMP/x" 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "export of a snapshot whose segment is a FIFO hung"
[ "$(packets "$TMP/x.pcap")" = 0 ] || fail "the FIFO in place of the only segment delivered packets"
rc=0; timeout 30 "$PCAP" --snapshot "$D/fifomanifest" -o "$TMP/x.pcap" >"$TMP/x" 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "export of a snapshot whose manifest is a FIFO hung"
echo "exports of odd snapshots end, delivering nothing foreign"

# Output paths.
echo secret >"$TMP/target"
ln -s "$TMP/target" "$TMP/outlink"
mkfifo "$TMP/outfifo"
mkdir "$TMP/outdir"
for out in outlink outfifo outdir; do
	run 1 "$TMP/o" "$PCAP" --snapshot "$D/good" -o "$TMP/$out"
	says "$TMP/o" "output $TMP/$out: \(a symbolic link\|a FIFO, not a regular file\|a directory, not a regular file\)"
done
[ "$(cat "$TMP/target")" = secret ] || fail "an export wrote through a link"
run 0 "$TMP/o" "$PCAP" --snapshot "$D/good" -o /dev/null # the null device, as tcpdump -w takes it
run 1 "$TMP/o" "$PCAP" --snapshot "$D/good" -o /dev/zero
says "$TMP/o" "a character device, not a regular file"
timeout 10 cat "$TMP/outfifo" >/dev/null & # a FIFO with a reader is refused too
catpid=$!
sleep 0.5
run 1 "$TMP/o" "$PCAP" --snapshot "$D/good" -o "$TMP/outfifo"
says "$TMP/o" "a FIFO, not a regular file"
wait "$catpid" || true # ends at the refused open's close (or its timeout)
run 1 "$TMP/o" "$TAP" --ring "$RING" -o "$TMP/outfifo"
says "$TMP/o" "a FIFO, not a regular file"
echo "old" >"$TMP/existing" && chmod 0644 "$TMP/existing"
run 0 "$TMP/o" "$PCAP" --snapshot "$D/good" -o "$TMP/existing"
[ "$(stat -c %a "$TMP/existing")" = 640 ] || fail "existing output mode $(stat -c %a "$TMP/existing")"
[ "$(packets "$TMP/existing")" = 300 ] || fail "existing output not rewritten"
echo "PASS: odd snapshots and outputs are named, never hang, never followed"
