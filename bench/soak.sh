#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak.sh - capd for a long run at a steady packet rate with every reader
# attached, to show it does not drift: RSS and open fds flat, no loss at that
# rate, CPU per packet constant; and that its /metrics and /healthz endpoint
# answers a probe every second throughout while an attacker holds IDLE idle
# connections (reopened as capd times them out) and 20 slowloris ones. Not
# part of ctest (10 minutes by default).
#
# In a private network namespace capd captures lo (filter: the test port)
# into a 64 MiB ring and a disk FIFO while these readers follow it: the
# fault tests' accounting reader (tests/fault-reader: torn records, gaps),
# rawcap-stat --interval 1, and rawcap-forward streaming pcapng to a TCP
# client. capd-traffic sends RATE datagrams/s in batches paced by the clock. Every
# SAMPLE seconds: capd's RSS, fd count, CPU, packets captured, kernel drops.
# Prints a markdown table and a verdict; exit 1 if RSS grows by more than
# 10 % (+1 MiB), the fd count drifts (more than one away from its value after
# the first interval: the disk FIFO keeps the next segment open once it is
# used), anything is lost, or a probe of /healthz or /metrics goes unanswered.
# The fd check excludes the attacker's connections (sampled between them is
# not possible): with IDLE > 0 it is reported, not judged.
#
#   bench/soak.sh [BUILD_DIR]     DURATION=10m (e.g. 120s, 2m) RATE=20000 SAMPLE=10 IDLE=1000
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
DURATION=${DURATION:-10m}
RATE=${RATE:-20000}
SAMPLE=${SAMPLE:-10}
IDLE=${IDLE:-1000}
ADDR=127.0.0.1:9469
case $DURATION in
*m) SECS=$((${DURATION%m} * 60)) ;;
*s) SECS=${DURATION%s} ;;
*) SECS=$DURATION ;;
esac
CAPD=$BUILD/capd/capd
TRAFFIC=$BUILD/tests/capd-traffic
FREADER=$BUILD/tests/fault-reader
STAT=$BUILD/readers/rawcap-stat
FWD=$BUILD/readers/rawcap-forward
for b in "$CAPD" "$TRAFFIC" "$FREADER" "$STAT"; do
	[ -x "$b" ] || { echo "soak: $b not built (cmake --build $BUILD)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "soak: needs root (network namespace, AF_PACKET)" >&2; exit 1; }

NS=rc-soak-$$
TMP=$(mktemp -d /tmp/rc-soak-XXXXXX)
RING=soak$$
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
PIDS=()
cleanup() {
	local p
	touch "$TMP/stop" "$TMP/done"
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
nsx() { ip netns exec "$NS" "$@"; }

ulimit -n 8192 # the attacker's idle connections, on both sides
ip netns exec "$NS" "$CAPD" --ring "$RING" --ring-size 64Mi --interfaces lo --filter "udp port 9999" \
	--storage "$TMP/fifo" --storage-size 1Gi --stats-listen $ADDR 2>"$TMP/capd.log" &
CAPD_PID=$!
PIDS+=("$CAPD_PID")
for _ in $(seq 100); do grep -q "capturing into ring" "$TMP/capd.log" && break; sleep 0.1; done
grep -q "capturing into ring" "$TMP/capd.log" || { cat "$TMP/capd.log"; exit 1; }
# `ip netns exec` execs capd (no function or subshell around it): $! is capd.

"$FREADER" --ring "$RING" --until-file "$TMP/done" --ready-file "$TMP/fready" >"$TMP/reader.out" \
	2>"$TMP/reader.err" &
PIDS+=($!)
"$STAT" --ring "$RING" --interval 1 >/dev/null 2>"$TMP/stat.err" &
PIDS+=($!)
readers="fault-reader, rawcap-stat --interval 1"
if [ -x "$FWD" ] && command -v python3 >/dev/null; then
	nsx "$FWD" --ring "$RING" --listen 127.0.0.1:7777 --plain 2>"$TMP/fwd.err" &
	PIDS+=($!)
	sleep 0.5
	nsx python3 -c '
import socket, sys, time
for _ in range(50):
    try:
        s = socket.create_connection(("127.0.0.1", 7777)); break
    except OSError:
        time.sleep(0.1)
n = 0
while True:
    d = s.recv(1 << 20)
    if not d: break
    n += len(d)
open(sys.argv[1], "w").write(str(n))
' "$TMP/fwd.bytes" &
	PIDS+=($!)
	readers="$readers, rawcap-forward (pcapng over TCP)"
fi
for _ in $(seq 50); do [ -e "$TMP/fready" ] && break; sleep 0.1; done

# The prober and the attacker: a /healthz and a /metrics request every second.
nsx python3 tests/capd/http_load.py attack $ADDR --idle "$IDLE" --slow 20 --probe-every 1 \
	--until "$TMP/stop" --seconds $((SECS + 120)) >"$TMP/probe.out" 2>"$TMP/probe.err" &
PROBER=$!
PIDS+=("$PROBER")
readers="$readers; probes of /healthz and /metrics every second, $IDLE idle + 20 slowloris connections"

# Paced by the clock: each batch tops the total up to RATE * elapsed.
(
	i=0
	t0=${EPOCHREALTIME/./}
	while [ ! -e "$TMP/stop" ]; do
		want=$(((${EPOCHREALTIME/./} - t0) * RATE / 1000000))
		per=$((want - i))
		[ "$per" -gt $((RATE / 5)) ] && per=$((RATE / 5))
		if [ "$per" -gt 0 ]; then
			nsx "$TRAFFIC" udp 127.0.0.1 9999 "$per" "$i" >>"$TMP/sent" 2>/dev/null || true
			i=$((i + per))
		fi
		sleep 0.05
	done
) &
SENDER=$!
PIDS+=("$SENDER")

hz=$(getconf CLK_TCK)
sample() { # -> "rss_kib fds cpu_ticks packets kernel_drop"
	local rss fds cpu st
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$CAPD_PID/status")
	fds=$(ls "/proc/$CAPD_PID/fd" | wc -l)
	cpu=$(awk '{print $14 + $15}' "/proc/$CAPD_PID/stat")
	st=$("$STAT" --ring "$RING" --json --interval 0)
	echo "$rss $fds $cpu $(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' <<<"$st")" \
		"$(sed -n 's/.*"kernel_drop":\([0-9]*\).*/\1/p' <<<"$st")"
}
echo "soak: ${SECS}s at ${RATE} datagrams/s target, readers: $readers"
echo
echo "| t (s) | RSS (KiB) | fds | pkts/s | CPU us/pkt | kernel drops |"
echo "|---:|---:|---:|---:|---:|---:|"
read -r rss0 fds0 cpu0 pk0 dr0 <<<"$(sample)"
echo "| 0 | $rss0 | $fds0 | - | - | $dr0 |"
start=$SECONDS prev_cpu=$cpu0 prev_pk=$pk0 rss_max=$rss0 fds_bad=0 cpus=()
while [ $((SECONDS - start)) -lt "$SECS" ]; do
	sleep "$SAMPLE"
	kill -0 "$CAPD_PID" 2>/dev/null || { echo "soak: capd died"; tail "$TMP/capd.log"; exit 1; }
	read -r rss fds cpu pk dr <<<"$(sample)"
	dp=$((pk - prev_pk))
	us=$(awk -v c=$((cpu - prev_cpu)) -v p="$dp" -v hz="$hz" \
		'BEGIN { printf "%.2f", p ? c * 1e6 / hz / p : 0 }')
	cpus+=("$us")
	echo "| $((SECONDS - start)) | $rss | $fds | $((dp / SAMPLE)) | $us | $dr |"
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
	[ -n "${fds1:-}" ] || fds1=$fds
	[ "$fds" -le $((fds1 + 1)) ] && [ "$fds" -ge $((fds1 - 1)) ] || fds_bad=1
	prev_cpu=$cpu prev_pk=$pk
done
touch "$TMP/stop"
wait "$SENDER" 2>/dev/null || true
wait "$PROBER" 2>/dev/null || true
probe=$(cat "$TMP/probe.out")
sleep 2
read -r rss fds cpu pk dr <<<"$(sample)"
touch "$TMP/done"
for _ in $(seq 100); do [ -s "$TMP/reader.out" ] && break; sleep 0.1; done
r=$(cat "$TMP/reader.out")
sent=$(awk -F'[= ]' '{s += $2} END {print s + 0}' "$TMP/sent")
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -1; }
n=${#cpus[@]}
h=$((n / 2))
first=$(printf '%s\n' "${cpus[@]:0:h}" | awk '{s += $1} END {printf "%.2f", NR ? s / NR : 0}')
second=$(printf '%s\n' "${cpus[@]:h}" | awk '{s += $1} END {printf "%.2f", NR ? s / NR : 0}')
echo
echo "sent=$sent captured=$pk kernel_drop=$dr reader: $r"
echo "RSS KiB: start $rss0, max $rss_max, end $rss; fds: start $fds0, first interval ${fds1:-?}, end $fds;" \
	"CPU us/pkt: first half $first, second half $second"
echo "endpoint: $probe"
bad=0
[ "$rss_max" -le $((rss0 + rss0 / 10 + 1024)) ] || { echo "FAIL: RSS grew"; bad=1; }
[ "$fds_bad" = 0 ] || [ "$IDLE" != 0 ] || { echo "FAIL: fd count drifted"; bad=1; }
probes=$(kv probes "$probe")
[ -n "$probes" ] && [ "$probes" -ge $((SECS * 9 / 10)) ] &&
	[ "$(kv healthz_ok "$probe")" = "$probes" ] && [ "$(kv metrics_ok "$probe")" = "$probes" ] ||
	{ echo "FAIL: probes of /healthz or /metrics went unanswered: $probe"; bad=1; }
[ "$dr" = 0 ] || { echo "FAIL: kernel drops"; bad=1; }
[ "$pk" = "$sent" ] || { echo "FAIL: captured $pk of $sent"; bad=1; }
[ "$(kv lost "$r")" = 0 ] && [ "$(kv udp_bad "$r")" = 0 ] && [ "$(kv udp_ok "$r")" = "$sent" ] ||
	{ echo "FAIL: the reader lost or damaged records"; bad=1; }
[ "$bad" = 0 ] && echo "PASS: flat RSS and fds, no loss, CPU per packet $first -> $second us," \
	"every probe answered ($probes, slowest $(kv max_ms "$probe") ms)"
exit "$bad"
