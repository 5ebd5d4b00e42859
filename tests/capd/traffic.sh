#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# traffic.sh - capd on lo in a test namespace: 100,000 UDP datagrams with known
# payloads and a 50 MB TCP transfer. A librawcap reader checks every UDP payload
# exactly once, capd's counters balance (captured + kernel drops = kernel seen),
# and an independent tcpdump on the same interface sees the same packets and bytes.
set -euo pipefail
TNAME=traffic
. "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || { echo "SKIP: tcpdump missing"; exit 77; }
N=100000

# The /metrics scrape below is rawcap's own traffic, which capd leaves out or
# not depending on when its socket dump runs: both capture without it.
NOT_METRICS="not tcp port 9469"
start_capd "$TMP/capd.log" --interfaces lo --stats-listen 127.0.0.1:9469 --filter "$NOT_METRICS"
start_verify "$TMP/verify.out" --port 9999 --count $N
ip netns exec "$NS" tcpdump -i lo -s 262144 -B 131072 -U -w "$TMP/td.pcap" "$NOT_METRICS" \
	2>"$TMP/tcpdump.log" &
TD_PID=$!
PIDS+=("$TD_PID")
for _ in $(seq 100); do grep -q "listening on" "$TMP/tcpdump.log" && break; sleep 0.1; done
grep -q "listening on" "$TMP/tcpdump.log" || fail "tcpdump did not start"

udp=$(nsx "$TRAFFIC" udp 127.0.0.1 9999 $N) || fail "UDP sender failed"
tcp=$(nsx "$TRAFFIC" tcp 127.0.0.1 9998 52428800) || fail "TCP transfer failed"
echo "sent: udp $udp; tcp $tcp"
metrics=$(nsx curl -s --max-time 5 http://127.0.0.1:9469/metrics || true)
health=$(nsx curl -s --max-time 5 http://127.0.0.1:9469/healthz || true)
live=$(nsx curl -s --max-time 5 http://127.0.0.1:9469/livez || true)
sleep 1.5 # every socket block retires within 100 ms; tcpdump flushes per packet (-U)

kill -TERM "$TD_PID"
wait "$TD_PID" || true
stop_capd "$TMP/capd.log"
finish_verify "$TMP/verify.out"

v=$(cat "$TMP/verify.out")
final=$(grep "capd: final:" "$TMP/capd.log")
echo "reader: $v"
echo "$final"
[ "$(kv udp_dup "$v")" = 0 ] || fail "UDP payloads delivered twice"
[ "$(kv udp_bad "$v")" = 0 ] || fail "damaged UDP payloads"
drops=$(kv sock0.kernel_drops "$final")
ok=$(kv udp_ok "$v")
[ "$(kv sock0.balanced "$final")" = yes ] || fail "captured + dropped != kernel seen: $final"
[ "$(kv loss_kernel_drop "$v")" = "$drops" ] || fail "loss records do not sum to kernel drops"
if [ "$drops" = 0 ]; then
	[ "$ok" = $N ] || fail "udp_ok=$ok of $N with no kernel drop"
else
	[ $((ok + drops)) -ge $N ] || fail "udp_ok=$ok + drops=$drops < sent $N"
fi
[ "$(kv packets "$v")" = "$(kv sock0.captured "$final")" ] || fail "reader and capd disagree on packets"

# tcpdump, independently, on the same interface at the same time.
td_pkts=$(tcpdump -r "$TMP/td.pcap" -nn 2>/dev/null | wc -l)
td_drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$TMP/tcpdump.log")
td_bytes=$(capinfos -M -d "$TMP/td.pcap" 2>/dev/null | sed -n 's/^Data size:[^0-9]*\([0-9]*\).*/\1/p')
echo "tcpdump: packets=$td_pkts bytes=${td_bytes:-?} dropped=${td_drop:-?}"
if [ "${td_drop:-0}" = 0 ] && [ "$drops" = 0 ]; then
	[ "$td_pkts" = "$(kv packets "$v")" ] || fail "tcpdump saw $td_pkts packets, capd $(kv packets "$v")"
	if [ -n "$td_bytes" ]; then
		[ "$td_bytes" = "$(kv pkt_bytes "$v")" ] || fail "tcpdump saw $td_bytes bytes, capd $(kv pkt_bytes "$v")"
	fi
fi
[ "$(kv packets "$v")" -gt $N ] || fail "too few packets for UDP + TCP"
grep -q '^capd_ring_packets_total [1-9]' <<<"$metrics" || fail "no packet metric: $metrics"
grep -q 'capd_interface_packets_total{interface="lo"' <<<"$metrics" || fail "no per-interface metric"
[ "$health" = ok ] || fail "healthz said: $health"
[ "$live" = ok ] || fail "livez said: $live"
echo "PASS"
