#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-server.sh - GET /v1/pcap of a window over loopback beside
# `rawcap-pcap -o - | cat` of the same window, in the same run: rate, the
# server's CPU per exported GB, and its peak RSS after a small and after a
# large window (flat: the stream buffers at most 1 MiB per download).
#
# Usage: bench/run-server.sh [WINDOW_BYTES]   (default 1 GiB; as root)
#   env RAWCAP_BUILD (default ./build), BENCH_DIR (default /var/tmp), RUNS (default 3)
# The FIFO is filled by tests/pcap/pktwriter (1400-byte packets, 64 MiB
# ring); the server and curl run in a private network namespace.
set -euo pipefail
B=${RAWCAP_BUILD:-$PWD/build}
WIN=${1:-$((1 << 30))}
RUNS=${RUNS:-3}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/rc-bench.XXXXXX")
RING=srvbench$$
NS=rc-srvbench-$$
URL=http://127.0.0.1:9470
SRV=""
cleanup() {
	[ -z "$SRV" ] || kill "$SRV" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	chmod -R u+w "$W" 2>/dev/null || true
	rm -rf "$W"
	rm -f /dev/shm/rawcap-$RING
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # now, best
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SRV/stat"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$SRV/status"; }

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

pcap() { "$B/readers/rawcap-pcap" --ring "$RING" --storage "$W/fifo" --from "$t_from" --to "$1" -q -o - | cat >"$W/rc.pcapng"; }
get() { ip netns exec "$NS" curl -sf -o "$W/srv.pcapng" "$URL/v1/pcap?from=$t_from&to=$1"; }
get "$t_small"
rss_small=$(hwm_kib)
t_rc=$(best pcap "$t_to")
c0=$(cpu_ticks)
t_srv=$(best get "$t_to")
c1=$(cpu_ticks)
rss_large=$(hwm_kib)
cmp -s "$W/rc.pcapng" "$W/srv.pcapng" || echo "warning: the download differs from rawcap-pcap's" >&2
by=$(stat -c %s "$W/srv.pcapng")
hz=$(getconf CLK_TCK)

rate() { echo "scale=1; $1 / $2" | bc -l; }
cpu_gb=$(echo "scale=2; ($c1 - $c0) / $hz / $RUNS / ($by / 1000000000)" | bc -l)
printf '\nwindow: %.1f MiB of pcapng; best of %d\n\n' "$(echo "$by / 1048576" | bc -l)" "$RUNS"
printf '| %-44s | %8s | %8s | %s |\n' tool seconds MB/s "vs baseline"
printf '|%s|%s|%s|%s|\n' ---------------------------------------------- ---------- ---------- -------------
printf '| %-44s | %8.3f | %8.1f | %s |\n' "rawcap-pcap -o - | cat" "$t_rc" "$(rate "$by / 1000000" "$t_rc")" "1.00x"
printf '| %-44s | %8.3f | %8.1f | %s |\n' "curl GET /v1/pcap (rawcap-server, loopback)" "$t_srv" \
	"$(rate "$by / 1000000" "$t_srv")" "$(rate "$t_rc" "$t_srv")x rawcap-pcap's rate"
# The client's own cost: curl reads 16 KiB at a time.
[ -z "${CURL_TIME:-}" ] || { echo "curl's own time:"; time (get "$t_to"); }
printf '\nserver CPU per exported GB: %s s; server peak RSS: %d KiB after a 1%% window, %d KiB after the whole window\n' \
	"$cpu_gb" "$rss_small" "$rss_large"
