#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# filter.sh - --filter 'udp port 9999' captures exactly those packets (the
# kernel filters; other UDP and TCP never reach the ring), and a bad
# expression exits 2 with libpcap's own message and creates nothing.
set -euo pipefail
TNAME=filter
. "$(dirname "$0")/lib.sh"

rc=0
err=$(nsx "$CAPD" --ring "$RING" --interfaces lo --filter 'udp prot 9999' 2>&1 >/dev/null) || rc=$?
[ "$rc" = 2 ] || fail "bad filter exited $rc, want 2"
[ "$(wc -l <<<"$err")" = 1 ] || fail "bad filter printed more than one line: $err"
grep -q "bad filter 'udp prot 9999': .*syntax error" <<<"$err" || fail "unclear message: $err"
[ -z "$(ls -A "$RAWCAP_SHM_DIR")" ] || fail "a bad filter created a ring"

start_capd "$TMP/capd.log" --interfaces lo --filter 'udp port 9999'
start_verify "$TMP/verify.out" --port 9999 --count 2000
nsx "$TRAFFIC" udp 127.0.0.1 9999 1000 >/dev/null
nsx "$TRAFFIC" udp 127.0.0.1 9998 1000 1000 >/dev/null
nsx "$TRAFFIC" tcp 127.0.0.1 9997 1000000 >/dev/null
sleep 0.5
stop_capd "$TMP/capd.log"
finish_verify "$TMP/verify.out"
v=$(cat "$TMP/verify.out")
echo "reader: $v"
[ "$(kv udp_ok "$v")" = 1000 ] || fail "want 1000 datagrams to port 9999"
[ "$(kv packets "$v")" = 1000 ] || fail "packets other than udp port 9999 captured"
[ "$(kv other_port "$v")" = 0 ] && [ "$(kv non_udp "$v")" = 0 ] || fail "filter leaked"
echo "PASS"
