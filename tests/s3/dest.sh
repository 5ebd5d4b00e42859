#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dest.sh - download opens its --dest as `rawcap-snapshot create` does
# (safe_mkdir_open): a --dest that is a symbolic link is refused, never
# followed (exit 1, "symbolic link", nothing written where it points); an
# existing --dest open to other users has their access taken away before a
# byte is written there; a snapshot of that name already there is refused
# (exit 1, left untouched); a new --dest is made 0750. Every download that
# succeeds verifies and is sealed like create's snapshots (0550/0440).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

server_start
mkpcap "$T/ref.pcap" $((1 << 20)) 3
make_snapshot web "$T/ref.pcap"
run up upload web --dest "$DEST" --to "$URL"
expect up 0

# A symbolic link as --dest: refused, nothing lands where it points.
mkdir -m 0700 "$T/target"
ln -s "$T/target" "$T/link"
run link download web --dest "$T/link" --from "$URL"
expect link 1 "symbolic link"
[ -z "$(ls -A "$T/target")" ] || fail "the download followed the link: $(ls -A "$T/target")"

# An existing --dest open to others (a world-writable, world-readable parent of the snapshot).
mkdir -m 0777 "$T/open"
chmod 0777 "$T/open"
run open download web --dest "$T/open" --from "$URL"
expect open 0 "verified against the manifest's SHA-256 sums"
[ "$(stat -c %a "$T/open")" = 770 ] || fail "--dest left mode $(stat -c %a "$T/open")"
"$SNAP" verify --dest "$T/open" web | grep -q "web: OK" || fail "verify of the download"
[ "$(stat -c %a "$T/open/web")" = 550 ] || fail "snapshot mode $(stat -c %a "$T/open/web")"
[ -z "$(find "$T/open/web" -type f ! -perm 0440)" ] || fail "file modes: $(find "$T/open/web" -type f -ls)"

# The snapshot exists there already: refused, the existing one untouched.
run again download web --dest "$T/open" --from "$URL"
expect again 1 "exists"
"$SNAP" verify --dest "$T/open" web | grep -q "web: OK" || fail "the existing snapshot changed"
[ "$(ls -A "$T/open")" = web ] || fail "a refused download left: $(ls -A "$T/open")"
# Something else (a link) under the snapshot's name: refused as well, not followed.
mkdir -m 0700 "$T/other"
ln -s "$T/target" "$T/other/web"
run namelink download web --dest "$T/other" --from "$URL"
expect namelink 1 "exists"
[ -z "$(ls -A "$T/target")" ] || fail "the download followed web -> $T/target"

# A --dest that is not a directory.
: >"$T/file"
run notdir download web --dest "$T/file" --from "$URL"
expect notdir 1 "not a directory"

# A new --dest: made 0750, whatever the umask.
(umask 0; run fresh download web --dest "$T/fresh" --from "$URL"; expect fresh 0)
[ "$(stat -c %a "$T/fresh")" = 750 ] || fail "new --dest mode $(stat -c %a "$T/fresh")"
"$SNAP" verify --dest "$T/fresh" web | grep -q "web: OK" || fail "verify of the fresh download"
no_secrets
echo "PASS: download's --dest is checked and made private as create's is"
