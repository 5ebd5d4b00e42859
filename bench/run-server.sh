#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-server.sh - GET /v1/pcap of a window over loopback beside
# `rawcap-pcap -o - | cat` of the same window, in the same run: rate, the
# server's CPU per exported GB, and its peak RSS after a small and after a
# large window (flat: the stream buffers at most 1 MiB per download).
#
# The client that counts is bench/http_get (libcurl, writing its file in
# 1 MiB pieces as cat does at the end of rawcap-pcap's pipe): the 0.9x goal
# is its rate. curl(1) is shown too: it hands its output to stdio 16 KiB at
# a time (about 16 write(2)s of 4 and 12 KiB where cat makes one of 128
# KiB), and on a machine where system calls are dear that is its own cost.
#
# Usage: bench/run-server.sh [WINDOW_BYTES]   (default 1 GiB; as root)
#   env RAWCAP_BUILD (default ./build), BENCH_DIR (default /var/tmp), RUNS (default 3),
#   OUT_DIR (where the three tools write their files; default BENCH_DIR's
#   work directory. OUT_DIR=/dev/shm keeps the disk out of the figures:
#   ext4 starts writeback of a truncated and rewritten file when it is
#   closed, and each round writes three times the window)
# The FIFO is filled by tests/pcap/pktwriter (1400-byte packets, 64 MiB
# ring); the server and curl run in a private network namespace.
set -euo pipefail
B=${RAWCAP_BUILD:-$PWD/build}
WIN=${1:-$((1 << 30))}
RUNS=${RUNS:-3}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/rc-bench.XXXXXX")
O=$W
[ -z "${OUT_DIR:-}" ] || O=$(mktemp -d "$OUT_DIR/rc-bench-out.XXXXXX")
RING=srvbench$$
NS=rc-srvbench-$$
URL=http://127.0.0.1:9470
SRV=""
cleanup() {
	[ -z "$SRV" ] || kill "$SRV" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	chmod -R u+w "$W" 2>/dev/null || true
	rm -rf "$W" "$O"
	rm -f /dev/shm/rawcap-$RING
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # now, timed
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SRV/stat"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$SRV/status"; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$W/empty.pcap"
t_from=$(now)
echo go | "$B/tests/pktwriter" --size $((64 << 20)) --storage "$W/fifo" \
	--storage-size $((WIN + WIN / 4 + (64 << 20))) --fill "$WIN" "$RING" "$W/empty.pcap" >/dev/null
t_to=$(now)
t_small=$(echo "$t_from + ($t_to - $t_from) / 100" | bc -l)

mkdir -p "$W/snaps"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" "$B/server/rawcap-server" --ring "$RING" --storage "$W/fifo" \
	--snapshots "$W/snaps" 2>"$W/server.err" &
SRV=$!
for _ in $(seq 100); do ip netns exec "$NS" curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done

pcap() { "$B/readers/rawcap-pcap" --ring "$RING" --storage "$W/fifo" --from "$t_from" --to "$1" -q -o - | cat >"$O/rc.pcapng"; }
url() { echo "$URL/v1/pcap?from=$t_from&to=$1"; }
get() { ip netns exec "$NS" "$B/bench/http_get" "$(url "$1")" "$O/srv.pcapng"; }
curl_get() { ip netns exec "$NS" curl -sf -o "$O/curl.pcapng" "$(url "$1")"; }
get "$t_small"
rss_small=$(hwm_kib)
# Interleaved, so that the machine's load changes weigh on all three alike.
ticks=0
for _ in $(seq "$RUNS"); do
	timed rc pcap "$t_to"
	c0=$(cpu_ticks)
	timed srv get "$t_to"
	ticks=$((ticks + $(cpu_ticks) - c0))
	timed curl curl_get "$t_to"
done
t_rc=${BEST[rc]} t_srv=${BEST[srv]} t_curl=${BEST[curl]}
w_rc=${WORST[rc]} w_srv=${WORST[srv]} w_curl=${WORST[curl]}
rss_large=$(hwm_kib)
for f in srv curl; do
	cmp -s "$O/rc.pcapng" "$O/$f.pcapng" || echo "warning: the download ($f) differs from rawcap-pcap's" >&2
done
by=$(stat -c %s "$O/srv.pcapng")
hz=$(getconf CLK_TCK)

rate() { echo "scale=2; $1 / $2" | bc -l; }
row() { # row LABEL SECONDS RATIO WORST_SECONDS WORST_RATIO
	printf '| %-46s | %8.3f | %8.1f | %-11s | %8.3f | %-11s |\n' "$1" "$2" \
		"$(rate "$by / 1000000" "$2")" "$3" "$4" "$5"
}
cpu_gb=$(echo "scale=2; $ticks / $hz / $RUNS / ($by / 1000000000)" | bc -l)
printf '\n%s\nwindow: %.1f MiB of pcapng, written to %s; best (and worst) of %d; load average before: %s\n\n' \
	"RUNS=$RUNS ${OUT_DIR:+OUT_DIR=$OUT_DIR }$0 $WIN" \
	"$(echo "$by / 1048576" | bc -l)" "$(df --output=fstype "$O" | tail -1)" "$RUNS" "$load0"
printf '| %-46s | %8s | %8s | %-11s | %8s | %-11s |\n' tool seconds MB/s "vs baseline" \
	"worst s" "worst vs worst"
printf '|%s|%s|%s|%s|%s|%s|\n' ------------------------------------------------ ---------- ---------- \
	------------- ---------- -------------
row "rawcap-pcap -o - | cat >FILE" "$t_rc" "1.00x" "$w_rc" "1.00x"
row "bench/http_get URL FILE (libcurl, loopback)" "$t_srv" "$(rate "$t_rc" "$t_srv")x" "$w_srv" \
	"$(rate "$w_rc" "$w_srv")x"
row "curl -o FILE URL (loopback)" "$t_curl" "$(rate "$t_rc" "$t_curl")x" "$w_curl" \
	"$(rate "$w_rc" "$w_curl")x"
printf '\nserver CPU per exported GB: %s s; server peak RSS: %d KiB after a 1%% window, %d KiB after the whole window; load average after: %s\n' \
	"$cpu_gb" "$rss_small" "$rss_large" "$(cut -d' ' -f1-3 /proc/loadavg)"
