#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# multipart.sh - a snapshot whose files are larger than two part sizes goes
# up in parts (5 MiB, three at once), each part signed with its own SHA-256
# and checked by the server, completed only after the whole file matched
# the manifest; it comes back verified, and its pcap export is byte for
# byte the original's, packets as generated. The server refuses some part
# uploads and downloads once (503 SlowDown): they are retried and succeed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Every third part upload and every second data download first gets 503 SlowDown.
server_start FAULT_PARTS=3 FAULT_GETS=2
mkpcap "$T/big.pcap" $((40 << 20)) 7
make_snapshot big "$T/big.pcap"
nfiles=$(ls "$DEST/big/data" | wc -l)
[ "$nfiles" -ge 2 ] || fail "want a snapshot of several segment files, got $nfiles"

run up upload big --dest "$DEST" --to "$URL" --part-size 5Mi --parallel 3
expect up 0 "$nfiles files"
inits=$(grep -c '^POST .*?uploads= 200' "$T/server.log")
parts=$(grep -c '^PUT .*?partNumber=.*&uploadId=.* 200' "$T/server.log")
completes=$(grep -c '^POST .*?uploadId=.* 200' "$T/server.log")
# Every segment file is at least 10 MiB: each one is a multipart upload.
[ "$inits" = "$nfiles" ] && [ "$completes" = "$nfiles" ] ||
	fail "$inits multipart uploads and $completes completions for $nfiles files"
[ "$parts" -ge $((2 * nfiles)) ] || fail "only $parts parts"
grep -q '^PUT .*partNumber=.* 503' "$T/server.log" || fail "no part was refused (fault injection off?)"
grep -q "requests retried" "$T/out/up.out" || fail "retries not reported: $(cat "$T/out/up.out")"
! grep -q MISMATCH "$T/server.log" || fail "payload hash mismatch: $(grep MISMATCH "$T/server.log")"
[ "$(pending_uploads)" = 0 ] || fail "unfinished multipart uploads left"
tail -1 "$T/server.log" | grep -q 'manifest.json 200' || fail "manifest not last"

run down download big --dest "$T/fresh" --from "$URL" --parallel 3
expect down 0 "verified"
grep -q '^GET .*/data/.* 503' "$T/server.log" || fail "no download was refused (fault injection off?)"
"$SNAP" verify --dest "$T/fresh" big | grep -q "big: OK" || fail "verify of the download"
same_export "$DEST/big" "$T/fresh/big" "$T/big.pcap"
no_secrets
echo "PASS: $nfiles files in $parts parts up, verified down, export identical"
