#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# config.sh - the same settings from a config file and the environment, with
# the command line winning over the environment over the file; the settings
# reach the ring (size) and the capture (filter).
set -euo pipefail
TNAME=config
. "$(dirname "$0")/lib.sh"

cat >"$TMP/capd.conf" <<CONF
# a ConfigMap-style file
ring-size: 4Mi
interfaces = lo
filter = "udp port 9998"
snaplen: 128
CONF
# The environment overrides the file's filter; the command line the ring size.
CAPD_CONFIG=$TMP/capd.conf CAPD_FILTER='udp port 9999' start_capd "$TMP/capd.log" --ring-size 2Mi
start_verify "$TMP/verify.out" --port 9999 --count 100
nsx "$TRAFFIC" udp 127.0.0.1 9999 100 >/dev/null
nsx "$TRAFFIC" udp 127.0.0.1 9998 100 100 >/dev/null
sleep 0.5
stop_capd "$TMP/capd.log"
finish_verify "$TMP/verify.out"
v=$(cat "$TMP/verify.out")
echo "reader: $v"
grep -q ", 2097152 bytes" "$TMP/capd.log" || fail "command line did not win: $(head -3 "$TMP/capd.log")"
[ "$(kv packets "$v")" = 100 ] || fail "environment filter not applied"
# snaplen 128 from the file: every capture is cut to 128 bytes, so no payload verifies whole.
[ "$(kv cap_bytes "$v")" -le $((100 * 128)) ] || fail "file snaplen not applied"
printf 'bogus-key = 1\n' >"$TMP/bad.conf"
rc=0
err=$(nsx "$CAPD" --config "$TMP/bad.conf" 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "bad.conf:1: unknown option 'bogus-key'" <<<"$err" || fail "bad config: $rc $err"
echo "PASS"
