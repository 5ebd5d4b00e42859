#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# offline.sh - the README's first command needs no network once the build
# packages are there: scripts/run-capd.sh asks install-deps.sh for what
# building and running take (--build-only), which fetches nothing (no test
# packages, npm packages or Debian's kubectl). It once fetched the tests'
# kubectl and stopped there, capd never started, on a machine with every
# build package but no route to deb.debian.org.
# Runs install-deps.sh from a scratch clone whose apt-get, npm and dpkg-deb fail.
set -euo pipefail
S=${RAWCAP_SRC:?}
command -v dpkg-query >/dev/null || { echo "SKIP: not Debian (no dpkg-query)"; exit 77; }
T=$(mktemp -d /tmp/rc-offline.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/clone/scripts" "$T/bin"
cp "$S/scripts/install-deps.sh" "$T/clone/scripts/"
touch "$T/clone/CMakeLists.txt" # a checkout: install-deps.sh would fetch kubectl into it
for t in apt-get npm dpkg-deb debconf-set-selections; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\necho "%s: no network here" >&2\nexit 100\n' \
		"$t" "$T" "$t" >"$T/bin/$t"
	chmod +x "$T/bin/$t"
done
fail() { echo "FAIL: $*"; exit 1; }

grep -q '^bash scripts/install-deps.sh --build-only' "$S/scripts/run-capd.sh" ||
	fail "scripts/run-capd.sh does not ask install-deps.sh for --build-only"
# Only meaningful where the build packages are present (they are wherever rawcap was built).
rc=0
PATH=$T/bin:$PATH bash "$T/clone/scripts/install-deps.sh" --build-only >"$T/out" 2>&1 || rc=$?
if grep -q '^apt-get install' "$T/calls" 2>/dev/null; then
	echo "SKIP: build packages missing here, apt-get was needed: $(cat "$T/out")"
	exit 77
fi
[ "$rc" = 0 ] && [ ! -e "$T/calls" ] ||
	fail "install-deps.sh --build-only with no network: exit $rc: $(cat "$T/out"); ran: $(cat "$T/calls" 2>/dev/null)"
[ ! -e "$T/clone/.deps" ] && [ ! -e "$T/clone/tests" ] || fail "--build-only fetched test tools: $(ls -a "$T/clone")"
echo "ok: install-deps.sh --build-only, offline: $(cat "$T/out")"
rc=0
PATH=$T/bin:$PATH bash "$T/clone/scripts/install-deps.sh" --bogus >"$T/out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "install-deps: unknown option '--bogus'" "$T/out" ||
	fail "install-deps.sh --bogus: exit $rc: $(cat "$T/out")"
echo "PASS"
