#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install.sh - the README's install lines work as written: `cmake --install
# build`, `ldconfig`, and building the example reader with pkg-config. They
# are read from README.md between the install:begin/end markers and run, one
# by one, from a directory whose build/ is this build tree and docs/ the
# source's, inside a private mount namespace: /usr/local is an empty tmpfs
# and /etc an overlay with a scratch upper layer, so the lines install for
# real (the default prefix, the loader's cache) and the system is untouched.
# Then a second program, built the same way, must load the installed
# librawcap (not the build tree's) and report the build's version, and the
# example reader must run against it, and the installed rawcap-snapshot must
# reach the S3 module installed beside the library.
set -euo pipefail
. "$RAWCAP_SRC/tests/lib.sh"
rc_need_root
rc_need unshare cc pkg-config ldconfig cmake
rc_tmp readme-install

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$B/CMakeCache.txt")
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
[ "$prefix" = /usr/local ] || { echo "SKIP: built for prefix $prefix, the README's lines install to /usr/local"; exit 77; }

W=$TMP/work
mkdir -p "$W"
ln -s "$B" "$W/build"
ln -s "$RAWCAP_SRC/docs" "$W/docs"
sed -n '/<!-- install:begin -->/,/<!-- install:end -->/p' "$RAWCAP_SRC/README.md" |
	grep -v '^<!--\|^```\|^#\|^$' >"$TMP/lines"
[ "$(wc -l <"$TMP/lines")" = 3 ] || fail "README.md has $(wc -l <"$TMP/lines") install lines between the markers, want 3"
cat >"$W/version.c" <<'C'
#include <stdio.h>
#include <rawcap/rawcap.h>
int main(void) { printf("%s\n", rawcap_version()); return 0; }
C

# Inside the namespace: scratch /usr/local and /etc, then each README line as
# written, then the checks that need the namespace's view. Output: one
# "ok: ..." line per step, or "FAIL: ..." and a non-zero exit.
cat >"$TMP/inside.sh" <<'SH'
set -euo pipefail
TMP=$1 W=$1/work
mount -t tmpfs tmpfs /usr/local
mkdir "$TMP/ov"
mount -t tmpfs tmpfs "$TMP/ov"
mkdir "$TMP/ov/up" "$TMP/ov/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$TMP/ov/up,workdir=$TMP/ov/work" /etc
cd "$W"
while IFS= read -r line; do
	bash -c "$line" >"$TMP/out" 2>&1 || { echo "FAIL: '$line' exited $?: $(tail -5 "$TMP/out")"; exit 1; }
	echo "ok: $line"
done <"$TMP/lines"
[ -x ./example-reader ] || { echo "FAIL: no example-reader built"; exit 1; }
cc -o version version.c $(pkg-config --cflags --libs rawcap)
for p in example-reader version; do
	lib=$(ldd "./$p" | awk '$1 == "librawcap.so.0" { print $3 }')
	[ "$lib" = /usr/local/lib/librawcap.so.0 ] || { echo "FAIL: $p loads librawcap from '$lib', want the installed one"; exit 1; }
done
echo "version: $(./version)"
rc=0
./example-reader rc-no-such-ring >"$TMP/out" 2>&1 || rc=$?
echo "example-reader: exit $rc: $(cat "$TMP/out")"
# The S3 client is the module installed beside the library: its URL check answers.
/usr/local/bin/rawcap-snapshot list --remote ftp://bucket >"$TMP/out" 2>&1 || true
echo "s3 module: $(cat "$TMP/out")"
SH
unshare --mount --propagation private bash "$TMP/inside.sh" "$TMP" >"$TMP/inside.log" 2>&1 ||
	fail "in the mount namespace: $(cat "$TMP/inside.log")"
cat "$TMP/inside.log"
grep -qx "version: $version" "$TMP/inside.log" || fail "the installed librawcap says $(grep version: "$TMP/inside.log"), want $version"
grep -q "example-reader: exit 1: example-reader: open ring: " "$TMP/inside.log" ||
	fail "example-reader did not run against the installed library and report the missing ring"
grep -q "s3 module: .*not an s3://BUCKET" "$TMP/inside.log" ||
	fail "the installed rawcap-snapshot did not reach the installed S3 module"
echo PASS
