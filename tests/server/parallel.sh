#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# parallel.sh - eight downloads at once while traffic runs, and capd loses
# nothing. rawcap-server runs as the chart runs it: its own uid, capd's
# group, and capd --self-uids that uid, so its answers are not captured
# (captured, eight 33 MB downloads would push the window they read out of a
# 64 MiB FIFO). Eight downloads of the window, each paced as over a network,
# run together while fresh paced UDP traffic is captured. Every download is
# complete and equal to rawcap-pcap's export byte for byte; capd's loss
# counters (every cause) do not move; the ring holds every fresh datagram.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SRV_UID=64721

start_capd --self-uids "$SRV_UID"
ring_gid=$(stat -c %g "$RAWCAP_SHM_DIR/rawcap-$RING") || fail "no ring file for $RING"
chown "$SRV_UID" "$T/snaps"
SERVER_AS=(setpriv --reuid="$SRV_UID" --regid="$ring_gid" --clear-groups)
start_server --max-exports 8

# The window: 2000 datagrams and 32 MB of TCP.
T0=$(now)
sleep 0.2
nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 0 >/dev/null 2>"$T/udp.err" || fail "udp traffic failed"
nsx "$TRAFFIC" tcp 127.0.0.1 9998 32000000 >/dev/null 2>"$T/tcp.err" || fail "tcp traffic failed"
sleep 0.5
T1=$(now)
udp_in() { tcpdump -r "$1" -nn "udp port $2" 2>/dev/null | wc -l; }
for _ in $(seq 50); do
	# until it holds the window: an early attempt may exit non-zero (what it
	# lacks is counted), so the loop, not set -e, judges
	"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" --filter "$F" -q \
		-o - 2>/dev/null | cat >"$T/ref.pcapng" || true
	[ "$(udp_in "$T/ref.pcapng" 9999)" = 2000 ] && break
	sleep 0.1
done
[ "$(udp_in "$T/ref.pcapng" 9999)" = 2000 ] || fail "rawcap-pcap does not hold the window's 2000 datagrams"

loss() { nsx curl -sf -o "$T/node.json" "$URL/v1/node" && jq -c '.loss' "$T/node.json"; }
loss0=$(loss) || fail "GET /v1/node failed"
[ -n "$loss0" ] && [ "$loss0" != null ] || fail "no loss counters in /v1/node"

# Fresh traffic while the downloads run: 30 paced bursts of 200 datagrams.
T2=$(now)
nsx bash -c 'for i in $(seq 0 29); do "$0" udp 127.0.0.1 9997 200 $((i * 200)) >/dev/null || exit 1; sleep 0.1; done' \
	"$TRAFFIC" 2>"$T/bg.err" &
BG=$!
PIDS+=("$BG")
q="from=$T0&to=$T1&filter=port%209999%20or%20port%209998"
DL=()
for i in $(seq 8); do
	ip netns exec "$NS" curl -s --limit-rate 6000000 -o "$T/d$i.pcapng" -w '%{http_code}' \
		"$URL/v1/pcap?$q" >"$T/d$i.code" 2>"$T/d$i.err" &
	DL+=($!)
	PIDS+=($!)
done
for i in $(seq 8); do
	wait "${DL[$((i - 1))]}" || fail "download $i: curl exited $?: $(cat "$T/d$i.err")"
	[ "$(cat "$T/d$i.code")" = 200 ] || fail "download $i: HTTP $(cat "$T/d$i.code")"
	cmp -s "$T/d$i.pcapng" "$T/ref.pcapng" ||
		fail "download $i differs from rawcap-pcap's export" \
			"($(stat -c %s "$T/d$i.pcapng") vs $(stat -c %s "$T/ref.pcapng") bytes)"
done
wait "$BG" || fail "background traffic failed: $(cat "$T/bg.err")"
echo "8 parallel downloads complete, each identical to rawcap-pcap's ($(stat -c %s "$T/ref.pcapng") bytes)"
sleep 0.5
T3=$(now)

loss1=$(loss) || fail "GET /v1/node failed after the downloads"
[ "$loss1" = "$loss0" ] || fail "capd's loss changed while 8 downloads ran: $loss0 -> $loss1"
# rawcap-server's answers are rawcap's own traffic: before a socket dump knows a
# new connection, its first packets may be captured, never a download's bulk.
"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T2" --to "$T3" --filter "tcp src port $PORT" \
	-q -o - 2>/dev/null | cat >"$T/self.pcapng" || true
self_bytes=$(capinfos -d -M "$T/self.pcapng" 2>/dev/null | awk -F: '/Data size/ {gsub(/[ a-z]/, "", $2); print $2}')
echo "captured of rawcap-server's answers: $self_bytes bytes in $(count "$T/self.pcapng") packets"
# The handshakes' SYN-ACKs are (no lookup before a connection exists), no
# payload is: before capd looked its new connections up, 1-30 MB of the
# downloads' first answers were, and lapped the persister of a 16 MiB ring.
[ -n "$self_bytes" ] && [ "$self_bytes" -le 65535 ] ||
	fail "capd captured ${self_bytes:-?} bytes of rawcap-server's own answers (at most a handshake's)"
n=0
for _ in $(seq 50); do
	"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T2" --to "$T3" --filter 'udp dst port 9997' \
		-q -o - 2>/dev/null | cat >"$T/fresh.pcapng" || true
	n=$(count "$T/fresh.pcapng")
	[ "$n" = 6000 ] && break
	sleep 0.1
done
[ "$n" = 6000 ] || fail "the capture holds $n of the 6000 datagrams sent during the downloads"
echo "capd lost nothing: loss $loss1 unchanged, 6000 of 6000 fresh datagrams held"
echo "PASS"
