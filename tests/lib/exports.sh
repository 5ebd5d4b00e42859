#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# exports.sh - librawcap exports exactly the symbols lib/librawcap.map lists,
# each under the version the map gives it, and the map lists exactly the
# functions include/rawcap/*.h declare RAWCAP_API: nothing private leaks, and
# a public function missing from the map (a link error for every reader) fails
# here first. And what a released version exports keeps its node and signature.
set -euo pipefail
: "${RAWCAP_BUILD:?run through ctest, or set RAWCAP_BUILD to the build tree}"
: "${RAWCAP_SRC:?run through ctest, or set RAWCAP_SRC to the source tree}"
LIB=$RAWCAP_BUILD/lib/librawcap.so
MAP=$RAWCAP_SRC/lib/librawcap.map
TMP=$(mktemp -d /tmp/rc-exports-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -e "$LIB" ] || fail "no $LIB"

# The map: "name VERSION" for every name in a version block's global: part.
awk '
	/^[A-Za-z_0-9.]+[ \t]*\{/ { ver = $1; next }
	/global:/ { g = 1; next }
	/local:/ { g = 0; next }
	/^}/ { g = 0; next }
	g && /^[ \t]*[A-Za-z_][A-Za-z_0-9]*;/ { gsub(/[ \t;]/, ""); print $0, ver }
' "$MAP" | sort >"$TMP/map"
[ -s "$TMP/map" ] || fail "no symbols read from $MAP"
grep -q '\*' "$TMP/map" && fail "the map exports a glob"

# The library: every defined dynamic symbol but the version nodes, as "name VERSION".
nm -D --defined-only --with-symbol-versions "$LIB" |
	awk '$2 != "A" { split($3, a, "@+"); print a[1], a[2] }' | sort >"$TMP/lib"
diff -u "$TMP/map" "$TMP/lib" >"$TMP/diff" || {
	cat "$TMP/diff"
	fail "librawcap's exports differ from the map (- only in the map, + only in the library)"
}

# The headers: every RAWCAP_API function.
grep -hv "define RAWCAP_API" "$RAWCAP_SRC"/include/rawcap/*.h | tr '\n' ' ' | grep -oE 'RAWCAP_API[^;(]*\(' |
	grep -oE '[A-Za-z_][A-Za-z_0-9]*[[:space:]]*\($' | tr -d ' (' | sort >"$TMP/hdr"
cut -d' ' -f1 "$TMP/map" | diff -u "$TMP/hdr" - >"$TMP/diff" || {
	cat "$TMP/diff"
	fail "the map and the RAWCAP_API declarations differ (- only in headers, + only in the map)"
}
# Released signatures stay as they were (a changed one is a new function in a new node).
"${CC:-cc}" -std=gnu11 -fsyntax-only -I"$RAWCAP_SRC/include" "$RAWCAP_SRC/tests/lib/abi_0_1.c" ||
	fail "a function of a released version node changed its signature (tests/lib/abi_0_1.c)"
for want in "rawcap_snapshot_delete RAWCAP_0.1" "rawcap_snapshot_list RAWCAP_0.1"; do
	grep -qx "$want" "$TMP/lib" || fail "$want: not exported under its released version"
done

echo "PASS: $(wc -l <"$TMP/map") symbols, exported as the map lists them and declared in include/rawcap/"
