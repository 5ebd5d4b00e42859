#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_capd.sh - the README's first command, scripts/run-capd.sh, as written:
# it starts capd and tells its user what to do next: where the ring is (capd
# names /dev/shm/rawcap-default), the readers to run and how to stop; the
# lines it gives work (rawcap-stat, rawcap-pcap --last 5m, /metrics), and
# Ctrl-C stops capd with exit 0. Run from a scratch clone whose build/ is this
# build tree (cmake stands in: the tree is built), in a network namespace and
# a private mount namespace (scratch /etc for the rawcap user it creates,
# tmpfs /var/lib/rawcap and /dev/shm), so the host is left as it was.
set -euo pipefail
B=${RAWCAP_BUILD:?} S=${RAWCAP_SRC:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in unshare ip curl dpkg-query useradd; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
T=$(mktemp -d /tmp/rc-runcapd.XXXXXX)
NS=rc-runcapd-$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$T/clone/scripts" "$T/bin" "$T/etc" "$T/varlib"
cp "$S/scripts/run-capd.sh" "$S/scripts/install-deps.sh" "$T/clone/scripts/"
ln -s "$B" "$T/clone/build"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/cmake" && chmod +x "$T/bin/cmake"
cp -a /etc/. "$T/etc/"
ip netns add "$NS"

cat >"$T/inner.sh" <<'SH'
set -euo pipefail
T=$1
fail() { echo "FAIL: $*"; exit 1; }
mount --bind "$T/etc" /etc
mount --bind /var/lib "$T/varlib"
mount -t tmpfs tmpfs /var/lib
mkdir /var/lib/dpkg && mount --bind "$T/varlib/dpkg" /var/lib/dpkg
mount -t tmpfs tmpfs /dev/shm
ip link set lo up
PATH=$T/bin:$PATH bash "$T/clone/scripts/run-capd.sh" --interfaces lo >"$T/out" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "capturing into ring" "$T/out" && break; sleep 0.1; done
grep -q "capturing into ring 'default' (/dev/shm/rawcap-default," "$T/out" ||
	fail "capd did not say where its ring is: $(cat "$T/out")"
[ -f /dev/shm/rawcap-default ] || fail "no /dev/shm/rawcap-default"
for want in "its ring is /dev/shm/rawcap-NAME" "build/readers/rawcap-stat" \
	"build/readers/rawcap-pcap --last 5m -o last5m.pcapng" "Stop with Ctrl-C"; do
	grep -qF -- "run-capd: " "$T/out" && grep -qF -- "$want" "$T/out" ||
		fail "run-capd.sh did not tell its user '$want': $(cat "$T/out")"
done
# The lines it gives, as given, from the clone.
cd "$T/clone"
build/readers/rawcap-stat --interval 0 >"$T/stat" 2>&1 || fail "rawcap-stat: $(cat "$T/stat")"
grep -q "^state *live" "$T/stat" || fail "rawcap-stat does not say capd is live: $(cat "$T/stat")"
curl -s 127.0.0.1 >/dev/null 2>&1 || true # a packet or two to hold
build/readers/rawcap-pcap --last 5m -o last5m.pcapng 2>"$T/pcap.err" || fail "rawcap-pcap: $(cat "$T/pcap.err")"
[ -s last5m.pcapng ] || fail "no last5m.pcapng"
m=$(curl -sf http://127.0.0.1:9464/metrics) || true # (not piped into grep -q: pipefail)
grep -q '^capd_' <<<"$m" || fail "no metrics on 127.0.0.1:9464: $m"
kill -INT $pid
rc=0
wait $pid || rc=$?
[ "$rc" = 0 ] || fail "Ctrl-C: capd exited $rc: $(tail -5 "$T/out")"
echo "ok: $(grep -c '^run-capd:' "$T/out") lines of what next; ring, stat, pcap, metrics, Ctrl-C -> 0"
SH
ip netns exec "$NS" unshare -m --propagation private bash "$T/inner.sh" "$T"
echo "PASS"
