#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# roundtrip.sh - a snapshot goes to the S3 test server and comes back whole:
# traffic captured by tcpdump (curl talking to the same server) becomes a snapshot, which is uploaded, listed,
# downloaded into a fresh snapshot directory, verified, and exported with
# rawcap-pcap: the export is byte for byte that of the original snapshot and
# holds exactly tcpdump's packets. The copy is sealed like a local snapshot
# (never o+r). So does an empty snapshot. A second upload is a no-op; a different snapshot of the same
# name is refused; delete --remote removes it, manifest first. No secret
# appears in any output.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

server_start
capture_traffic "$T/ref.pcap"
make_snapshot web "$T/ref.pcap"
: >"$T/server.log"

run up upload web --dest "$DEST" --to "$URL"
expect up 0 "upload web to $URL: 1 files"
grep -q "^PUT /bkt/rawcap/snaps/web/manifest.json 200" "$T/server.log" || fail "no manifest PUT"
[ "$(grep -c '^PUT ' "$T/server.log")" = 2 ] || fail "want 2 PUTs: $(cat "$T/server.log")"
# The manifest went up last.
tail -1 "$T/server.log" | grep -q 'manifest.json 200' || fail "manifest not last: $(tail -3 "$T/server.log")"
! grep -q MISMATCH "$T/server.log" || fail "payload hash mismatch: $(grep MISMATCH "$T/server.log")"

run list list --remote "$URL"
expect list 0
awk -F'\t' '$1 == "web" && $4 ~ /packets/' "$T/out/list.out" | grep -q . || fail "list: $(cat "$T/out/list.out")"
npk=$(tcpdump -r "$T/ref.pcap" 2>/dev/null | wc -l)
grep -q "	$npk packets" "$T/out/list.out" || fail "list shows not $npk packets: $(cat "$T/out/list.out")"

run down download web --dest "$T/fresh" --from "$URL"
expect down 0 "verified against the manifest's SHA-256 sums"
"$SNAP" verify --dest "$T/fresh" web | grep -q "web: OK" || fail "verify of the download"
"$SNAP" list --dest "$T/fresh" | grep -q "^web" || fail "not listed locally"
cmp "$DEST/web/manifest.json" "$T/fresh/web/manifest.json" || fail "manifest changed on the way"
same_export "$DEST/web" "$T/fresh/web" "$T/ref.pcap"
# Sealed as local snapshots are, and never readable by others.
[ -z "$(find "$T/fresh/web" -perm /o+rwx)" ] || fail "o+ permissions: $(find "$T/fresh/web" -perm /o+rwx -ls)"
[ -z "$(find "$T/fresh/web" -perm /a+w)" ] || fail "writable: $(find "$T/fresh/web" -perm /a+w -ls)"
[ -z "$(find "$T/fresh" -name '.dl-*')" ] || fail "staging left behind"

# Idempotent: the same snapshot again sends no data.
n=$(grep -c '^PUT ' "$T/server.log")
run up2 upload web --dest "$DEST" --to "$URL"
expect up2 0 "already there"
[ "$(grep -c '^PUT ' "$T/server.log")" = "$n" ] || fail "second upload sent data"
# Another snapshot under the same name is refused.
mkdir -p "$T/other"
capture_traffic "$T/ref2.pcap"
DEST=$T/other make_snapshot web "$T/ref2.pcap"
run clash upload web --dest "$T/other" --to "$URL"
expect clash 1 "a different snapshot named web is there"
# A download never replaces a local snapshot.
run down2 download web --dest "$T/fresh" --from "$URL"
expect down2 1 "exists"

# An empty snapshot (a window without packets: no data files) goes and comes back too.
mkpcap "$T/none.pcap" 0
make_snapshot quiet "$T/none.pcap"
run up-empty upload quiet --dest "$DEST" --to "$URL"
expect up-empty 0 "0 files"
run down-empty download quiet --dest "$T/fresh" --from "$URL"
expect down-empty 0 "verified"
"$SNAP" verify --dest "$T/fresh" quiet | grep -q "quiet: OK" || fail "verify of the empty download"

run del delete web --remote "$URL"
expect del 0 "deleted web"
grep -n '^DELETE ' "$T/server.log" | head -1 | grep -q 'manifest.json' || fail "manifest not deleted first"
[ "$(stored_objects web)" = 0 ] || fail "objects left after delete"
run list2 list --remote "$URL"
expect list2 0
! grep -q "^web" "$T/out/list2.out" || fail "still listed: $(cat "$T/out/list2.out")"
run del2 delete web --remote "$URL"
expect del2 1 "no snapshot named web"
no_secrets
echo "PASS: snapshot of $npk packets uploaded, listed, downloaded, verified; pcap export identical"
