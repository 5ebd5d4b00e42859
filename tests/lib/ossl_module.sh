#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ossl_module.sh - librawcap.so reaches OpenSSL only through its module
# (rawcap/openssl.so, dlopen()ed by the first TLS context or SHA-256), so
# readers that use neither do not load libssl or libcrypto:
#   - librawcap.so needs neither and calls no OpenSSL symbol; the module
#     needs both and exports only its table;
#   - rawcap-pcap exporting a window from a disk FIFO loads neither
#     (LD_DEBUG=files: every object the dynamic loader opened);
#   - rawcap-snapshot create loads the module and libcrypto, and its
#     manifest's SHA-256 equals sha256sum's of the files;
#   - a librawcap.so with no module beside it: rawcap-forward with TLS exits
#     with a message naming the module's path (before it listens), snapshot
#     create fails and leaves nothing, and rawcap-pcap exports the same bytes.
# TLS through the module is what the forward_tls* tests exercise.
set -euo pipefail
. "$RAWCAP_SRC/tests/lib.sh"
rc_need readelf nm sha256sum
rc_tmp ossl-module

LIB=$B/lib/librawcap.so.0
MOD=$B/lib/rawcap/openssl.so
RING=osslmod$$
trap 'rm -f /dev/shm/rawcap-$RING; rc_cleanup' EXIT
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
# loaded LOG NAME: did the loader open a file whose name starts with NAME?
loaded() { grep -E "file=[^ ]*/?$2[^ ]* \[0\];  (needed|dynamically loaded)" "$1" >/dev/null; }

[ -f "$MOD" ] || fail "no module at $MOD"
needed "$LIB" | grep -E 'libssl|libcrypto' && fail "librawcap.so links OpenSSL"
calls=$(nm -D --undefined-only "$LIB" | grep -E ' (SSL|SSL_CTX|EVP|ERR|X509|OPENSSL)_' || true)
[ -z "$calls" ] || fail "librawcap.so calls OpenSSL directly: $calls"
needed "$MOD" | grep -q '^libssl' || fail "the module does not link libssl: $(needed "$MOD" | tr '\n' ' ')"
needed "$MOD" | grep -q '^libcrypto' || fail "the module does not link libcrypto"
exports=$(nm -D --defined-only "$MOD" | awk '$2 != "A" { print $3 }')
[ "$exports" = rawcap_ossl_module ] || fail "the module exports '$exports', want rawcap_ossl_module only"
echo "ok: librawcap.so without OpenSSL; the module with libssl and libcrypto, one export"

# A FIFO on disk with a window of packets (the ring holds only part of it).
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$TMP/empty.pcap"
from=$(date +%s.%N)
echo go | "$B/tests/pktwriter" --size $((1 << 20)) --storage "$TMP/fifo" --storage-size $((16 << 20)) \
	--fill $((4 << 20)) "$RING" "$TMP/empty.pcap" >/dev/null
to=$(date +%s.%N)
WIN=(--ring "$RING" --storage "$TMP/fifo" --from "$from" --to "$to")

LD_DEBUG=files "$B/readers/rawcap-pcap" "${WIN[@]}" -q -o "$TMP/out.pcapng" 2>"$TMP/pcap.ld"
[ "$(stat -c %s "$TMP/out.pcapng")" -gt $((2 << 20)) ] || fail "the export is $(stat -c %s "$TMP/out.pcapng") bytes"
loaded "$TMP/pcap.ld" librawcap || fail "LD_DEBUG=files shows no librawcap: $(head -5 "$TMP/pcap.ld")"
for so in libssl libcrypto rawcap/openssl.so; do
	! loaded "$TMP/pcap.ld" "$so" || fail "rawcap-pcap loaded $so for an export"
done
echo "ok: rawcap-pcap exported $(stat -c %s "$TMP/out.pcapng") bytes without loading OpenSSL"

LD_DEBUG=files "$B/readers/rawcap-snapshot" create "${WIN[@]}" --name s1 \
	--snapshot-dir "$TMP/snaps" >"$TMP/create.out" 2>"$TMP/create.ld" ||
	fail "snapshot create failed: $(grep -v '^ *[0-9]*:' "$TMP/create.ld" | tail -3)"
loaded "$TMP/create.ld" rawcap/openssl.so || fail "snapshot create did not load the module"
loaded "$TMP/create.ld" libcrypto || fail "snapshot create did not load libcrypto"
n=0
for f in "$TMP"/snaps/s1/data/*.rcs; do
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	grep -q "$sum" "$TMP/snaps/s1/manifest.json" || fail "$(basename "$f"): sha256 $sum not in the manifest"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "the snapshot has no segment files: $(ls "$TMP/snaps/s1")"
"$B/readers/rawcap-snapshot" verify s1 --snapshot-dir "$TMP/snaps" >/dev/null || fail "verify s1 failed"
echo "ok: snapshot create loaded the module and libcrypto; $n files' SHA-256 equal sha256sum's"

# No module beside the library: TLS and hashing fail clearly, the rest runs.
mkdir -p "$TMP/nomod"
cp -a "$B"/lib/librawcap.so* "$TMP/nomod/"
rc=0
LD_LIBRARY_PATH=$TMP/nomod timeout 20 "$B/readers/rawcap-forward" "${WIN[@]}" \
	--listen 127.0.0.1:9 --tls-cert /nonexistent --tls-key /nonexistent >"$TMP/fwd.out" 2>&1 || rc=$?
grep -q "cannot load OpenSSL for TLS: dlopen: $TMP/nomod/rawcap/openssl.so" "$TMP/fwd.out" ||
	fail "without the module, rawcap-forward said: $(cat "$TMP/fwd.out")"
[ "$rc" != 0 ] || fail "without the module, rawcap-forward with TLS exited 0"
rc=0
LD_LIBRARY_PATH=$TMP/nomod "$B/readers/rawcap-snapshot" create "${WIN[@]}" --name s2 \
	--snapshot-dir "$TMP/snaps" >"$TMP/create2.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "without the module, snapshot create exited 0"
grep -q "OpenSSL module" "$TMP/create2.out" || fail "without the module, create said: $(cat "$TMP/create2.out")"
[ ! -e "$TMP/snaps/s2" ] || fail "without the module, snapshot create left $TMP/snaps/s2"
LD_LIBRARY_PATH=$TMP/nomod "$B/readers/rawcap-pcap" "${WIN[@]}" -q -o "$TMP/out2.pcapng" ||
	fail "rawcap-pcap fails without the module"
cmp -s "$TMP/out.pcapng" "$TMP/out2.pcapng" || fail "the export differs without the module"
echo "ok: without the module: $(tail -1 "$TMP/fwd.out"); snapshot create: $(tail -1 "$TMP/create2.out")"
echo PASS
