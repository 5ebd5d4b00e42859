#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# s3_module.sh - librawcap.so carries the S3 client as a module (rawcap/s3.so,
# dlopen()ed on first use), so readers do not load libcurl and libxml2:
#   - librawcap.so and rawcap-pcap need neither, the module needs both and
#     exports only its table;
#   - rawcap-snapshot reaches the client through the module next to the
#     librawcap.so it loaded (the client's own URL check answers);
#   - a librawcap.so with no module beside it, or with something else in its
#     place, fails the S3 commands (listing, transfers) with a message that
#     names the file, and the readers still work.
set -euo pipefail
. "$RAWCAP_SRC/tests/lib.sh"
rc_need readelf ldd
rc_tmp s3-module

LIB=$B/lib/librawcap.so.0
MOD=$B/lib/rawcap/s3.so
SNAP=$B/readers/rawcap-snapshot
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

[ -f "$MOD" ] || fail "no module at $MOD"
needed "$LIB" | grep -E 'libcurl|libxml2' && fail "librawcap.so links the S3 client's libraries"
ldd "$B/readers/rawcap-pcap" | grep -E 'libcurl|libxml2' && fail "rawcap-pcap loads libcurl/libxml2"
needed "$MOD" | grep -q libcurl || fail "the module does not link libcurl: $(needed "$MOD" | tr '\n' ' ')"
needed "$MOD" | grep -q libxml2 || fail "the module does not link libxml2"
exports=$(nm -D --defined-only "$MOD" | awk '$2 != "A" { print $3 }')
[ "$exports" = rawcap_s3_module ] || fail "the module exports '$exports', want rawcap_s3_module only"
echo "ok: librawcap.so and rawcap-pcap without libcurl/libxml2; the module with them, one export"

# The module answers: its URL check, not the loader, refuses ftp://.
rc=0
"$SNAP" list --remote ftp://bucket >"$TMP/ok.out" 2>&1 || rc=$?
grep -q 'not an s3://BUCKET\[/PREFIX\] URL' "$TMP/ok.out" || fail "list --remote ftp:// said: $(cat "$TMP/ok.out")"
[ "$rc" != 0 ] || fail "list --remote ftp:// exited 0"
echo "ok: rawcap-snapshot reaches the client through $MOD"

# A library with no module beside it: a clear error naming the path, non-zero exit.
mkdir -p "$TMP/nomod" "$TMP/bad/rawcap"
cp -a "$B"/lib/librawcap.so* "$TMP/nomod/"
rc=0
LD_LIBRARY_PATH=$TMP/nomod "$SNAP" list --remote s3://bucket >"$TMP/nomod.out" 2>&1 || rc=$?
grep -q "cannot load the S3 client: dlopen: $TMP/nomod/rawcap/s3.so" "$TMP/nomod.out" ||
	fail "without the module, list --remote said: $(cat "$TMP/nomod.out")"
[ "$rc" = 1 ] || fail "without the module, list --remote exited $rc, want 1"
# A transfer (upload) that cannot start is over, FAILED, with the same reason.
mkdir -p "$TMP/snaps/x"
rc=0
LD_LIBRARY_PATH=$TMP/nomod "$SNAP" upload x --to s3://bucket --snapshot-dir "$TMP/snaps" >"$TMP/up.out" 2>&1 || rc=$?
grep -q "cannot load the S3 client: dlopen: $TMP/nomod/rawcap/s3.so" "$TMP/up.out" ||
	fail "without the module, upload said: $(cat "$TMP/up.out")"
[ "$rc" = 1 ] || fail "without the module, upload exited $rc, want 1"
LD_LIBRARY_PATH=$TMP/nomod "$B/readers/rawcap-pcap" --help >/dev/null || fail "rawcap-pcap --help fails without the module"
echo "ok: without the module: $(tail -1 "$TMP/nomod.out")"

# Something else in the module's place (another library) is refused, not called.
cp -a "$B"/lib/librawcap.so* "$TMP/bad/"
cp "$LIB" "$TMP/bad/rawcap/s3.so"
rc=0
LD_LIBRARY_PATH=$TMP/bad "$SNAP" list --remote s3://bucket >"$TMP/bad.out" 2>&1 || rc=$?
grep -q "not the S3 module of librawcap" "$TMP/bad.out" || fail "a foreign module: $(cat "$TMP/bad.out")"
[ "$rc" = 1 ] || fail "with a foreign module, list --remote exited $rc, want 1"
echo "ok: a foreign module: $(tail -1 "$TMP/bad.out")"
echo PASS
