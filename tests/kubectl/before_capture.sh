#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# before_capture.sh - the README's first kubectl rawcap lines on a fresh node:
# a window reaching before capture began lacks nothing, so the export, a
# snapshot of it and the snapshot's export are complete (exit 0) and say
# "before capture began", as rawcap-pcap and rawcap-snapshot do; the server
# says why in X-Rawcap-Missing-Reason and the snapshot's missing_reason.
# (They said "recycled" and exited 1 on every new cluster.)
set -euo pipefail
. "$(dirname "$0")/../server/lib.sh"
KR=$B/cli/kubectl-rawcap
E=(--endpoints n1=$URL)
start_capd
start_server
nsx "$TRAFFIC" udp 127.0.0.1 9999 200 0 >/dev/null
sleep 0.5
cd "$T"

rc=0
nsx "$KR" export --last 5m -o all.pcapng "${E[@]}" 2>err || rc=$?
[ "$rc" = 0 ] && grep -q "n1: complete, .*is before capture began (nothing was lost)" err ||
	fail "export --last 5m on a fresh node: exit $rc: $(cat err)"
grep -q recycled err && fail "export --last 5m on a fresh node calls it recycled: $(cat err)"
echo "ok: export --last 5m -> $(cat err)"

nsx curl -s -o /dev/null -D hdr "$URL/v1/pcap?last=5m"
grep -qi '^X-Rawcap-Missing-Reason: before capture' hdr ||
	fail "GET /v1/pcap?last=5m on a fresh node: $(cat hdr)"

rc=0
nsx "$KR" snapshot create incident-7 --last 15m "${E[@]}" >out 2>err || rc=$?
[ "$rc" = 0 ] && grep -q "completed .*window start before capture began" out ||
	fail "snapshot create: exit $rc: $(cat out err)"
nsx curl -s "$URL/v1/snapshots/incident-7" | jq -e '.missing_reason == "before capture"' >/dev/null ||
	fail "GET /v1/snapshots/incident-7: $(nsx curl -s "$URL/v1/snapshots/incident-7")"
rc=0
nsx "$KR" snapshot export incident-7 -o incident-7.pcapng "${E[@]}" 2>err || rc=$?
[ "$rc" = 0 ] && ! grep -q recycled err || fail "snapshot export: exit $rc: $(cat err)"
echo "ok: snapshot create, export -> $(cat err)"
echo "PASS"
