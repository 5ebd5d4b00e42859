#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# quiet.sh - a download that has nothing to send for longer than the server's
# idle timeout (30 s) is still whole. A window reaching 35 s into the future
# with a filter no packet matches sends nothing until its end; the idle timer
# once cut it there: pcap came back empty (not even a header), pcapng as a
# Section Header without an Interface Description Block (tcpdump: "no
# Interface Description Blocks"), curl exit 18. Both must be well-formed
# captures of 0 packets, as rawcap-pcap writes for the same window.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_capd
start_server
t0=$(date +%s)
q="from=$((t0 + 1))&to=$((t0 + 36))&filter=udp%20port%207777"
DL=()
for fmt in pcap pcapng; do
	nsx curl -s -o "$T/q.$fmt" -w '%{http_code} %{exitcode}' "$URL/v1/pcap?$q&format=$fmt" \
		>"$T/q.$fmt.code" 2>&1 &
	DL+=($!)
	PIDS+=($!)
done
for i in 0 1; do wait "${DL[$i]}" || true; done
for fmt in pcap pcapng; do
	[ "$(cat "$T/q.$fmt.code")" = "200 0" ] ||
		fail "$fmt: HTTP status and curl exit $(cat "$T/q.$fmt.code"), want '200 0'" \
			"($(stat -c %s "$T/q.$fmt" 2>/dev/null || echo 0) bytes)"
	tcpdump -r "$T/q.$fmt" -nn >/dev/null 2>"$T/td.err" || fail "$fmt: tcpdump -r: $(cat "$T/td.err")"
	[ "$(count "$T/q.$fmt")" = 0 ] || fail "$fmt: holds packets"
	echo "ok: $fmt: a whole capture of 0 packets after 35 s with nothing to send"
done
echo "PASS"
