#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# privdrop.sh - after setup capd runs as a non-root user with every capability
# set empty, no_new_privs and seccomp filtering (/proc/<pid>/status), the ring
# belongs to the ring group with mode 0640, and capd cannot open a new
# AF_PACKET socket: the hidden --selftest-after-drop makes capd try it right
# after the drop, and seccomp must kill it with SIGSYS. A probe run as the same
# uid with no capabilities cannot open one either.
set -euo pipefail
TNAME=privdrop
. "$(dirname "$0")/lib.sh"

start_capd "$TMP/capd.log" --interfaces lo --user nobody
st=/proc/$CAPD_PID/status
grep -E '^(Uid|Gid|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' "$st"
uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' "$st")
[ "$uid" = 65534655346553465534 ] || fail "uids not all nobody: $uid"
for c in CapEff CapPrm CapBnd CapInh CapAmb; do
	[ "$(awk -v k="$c:" '$1 == k {print $2}' "$st")" = 0000000000000000 ] || fail "$c not empty"
done
[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] || fail "no_new_privs not set"
[ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] || fail "no seccomp filter"
[ "$(stat -c %a "$RAWCAP_SHM_DIR/rawcap-$RING")" = 640 ] || fail "ring mode not 0640"
[ "$(stat -c %G "$RAWCAP_SHM_DIR/rawcap-$RING")" = "$(id -gn nobody)" ] || fail "ring group wrong"
# Still capturing after the drop.
start_verify "$TMP/verify.out" --port 9999 --count 100
nsx "$TRAFFIC" udp 127.0.0.1 9999 100 >/dev/null
sleep 0.5
stop_capd "$TMP/capd.log"
finish_verify "$TMP/verify.out"
[ "$(kv udp_ok "$(cat "$TMP/verify.out")")" = 100 ] || fail "no capture after the drop"

# capd itself, after its drop, asking for a raw socket.
rc=0
nsx "$CAPD" --ring "${RING}b" --ring-size 1Mi --interfaces lo --selftest-after-drop \
	2>"$TMP/selftest.log" || rc=$?
grep -q "dropped to uid" "$TMP/selftest.log" || fail "selftest did not reach the drop"
[ "$rc" = $((128 + 31)) ] || fail "capd was not killed by SIGSYS (exit $rc): $(cat "$TMP/selftest.log")"

# The same uid without capabilities cannot open one either.
if command -v python3 >/dev/null && command -v setpriv >/dev/null; then
	rc=0
	nsx setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all \
		python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)' \
		2>/dev/null || rc=$?
	[ "$rc" != 0 ] || fail "an unprivileged probe opened an AF_PACKET socket"
fi
echo "PASS"
