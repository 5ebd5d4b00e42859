#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# before_capture_quiet.sh - a cluster export of a window that lies wholly
# before a node's capture began (a quiet window, no packet at all) is what
# rawcap-pcap makes of it on the node: a complete, empty capture that tcpdump
# and capinfos read, in pcapng and pcap; a window reaching back before capture
# holds every packet. kubectl-rawcap had called that part "recycled": partial,
# exit 1, and no file at all. (before_capture.sh covers the README's lines.)
set -euo pipefail
TNAME=kbefore
. "$(dirname "$0")/../capd/lib.sh"
SERVER=$B/server/rawcap-server
KR=$B/cli/kubectl-rawcap
PCAP=$B/readers/rawcap-pcap
[ -x "$SERVER" ] || { echo "SKIP: rawcap-server not built"; exit 77; }
rc_need tcpdump capinfos curl

start_capd "$TMP/capd.log" --ring-size 16Mi --interfaces lo --filter "udp port 9999"
nsx "$TRAFFIC" udp 127.0.0.1 9999 20 0 >/dev/null
mkdir "$TMP/snaps"
ip netns exec "$NS" "$SERVER" --ring "$RING" --snapshot-dir "$TMP/snaps" --listen 127.0.0.1:9482 \
	>"$TMP/server.log" 2>&1 &
PIDS+=($!)
wait_until 10 nsx curl -s -o /dev/null http://127.0.0.1:9482/v1/node
EP=n1=http://127.0.0.1:9482,n2=http://127.0.0.1:9482

# count FILE: packets in a capture tcpdump can read (fails the test if it cannot).
count() {
	tcpdump -r "$1" >/dev/null 2>"$TMP/tcpdump.err" || fail "tcpdump cannot read $1"
	capinfos -Mc "$1" | awk '/packets:/ {print $NF}'
}

for fmt in pcapng pcap; do
	# A quiet window before capture began: rawcap-pcap's answer, then the cluster's.
	win=(--from 2020-01-01T00:00:00Z --to 2020-01-01T00:01:00Z)
	rc=0
	"$PCAP" --ring "$RING" "${win[@]}" -o "$TMP/local.$fmt" 2>"$TMP/local.err" || rc=$?
	[ "$rc" = 0 ] && [ "$(count "$TMP/local.$fmt")" = 0 ] || fail "rawcap-pcap: exit $rc"
	rc=0
	nsx "$KR" export --endpoints "$EP" "${win[@]}" -o "$TMP/quiet.$fmt" 2>"$TMP/quiet.err" ||
		rc=$?
	cat "$TMP/quiet.err"
	[ "$rc" = 0 ] || fail "$fmt: a window before capture began exited $rc"
	[ -f "$TMP/quiet.$fmt" ] || fail "$fmt: no output for a window before capture began"
	[ "$(count "$TMP/quiet.$fmt")" = 0 ] || fail "$fmt: packets in a window before capture"
	grep -q "recycled" "$TMP/quiet.err" && fail "$fmt: called recycled: $(cat "$TMP/quiet.err")"
	grep -q "before capture began" "$TMP/quiet.err" || fail "$fmt: the part is not named"

	# A window reaching back before capture: every packet (20 per node), complete.
	rc=0
	nsx "$KR" export --endpoints "$EP" --from -1h -o "$TMP/back.$fmt" 2>"$TMP/back.err" || rc=$?
	cat "$TMP/back.err"
	[ "$rc" = 0 ] || fail "$fmt: a window reaching back before capture exited $rc"
	[ "$(count "$TMP/back.$fmt")" = 40 ] || fail "$fmt: $(count "$TMP/back.$fmt") packets, not 40"
done
stop_capd "$TMP/capd.log"
echo "PASS: windows before capture began export complete, as rawcap-pcap does"
