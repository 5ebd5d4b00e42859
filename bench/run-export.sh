#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-export.sh - export rate of rawcap-pcap over a window read from the
# disk FIFO, beside `tcpdump -r IN -w OUT` on the same packets; snapshot
# creation time beside `cp` (and `cp` + sync) of the same bytes.
#
# Usage: bench/run-export.sh [WINDOW_BYTES]   (default 1 GiB)
#   env RAWCAP_BUILD (default ./build), BENCH_DIR (default /var/tmp), RUNS (default 3)
# The FIFO is filled by tests/pcap/pktwriter with 1400-byte packets through a
# 64 MiB ring, so the window is read back from disk (warm page cache: this
# measures the software, not the device). Best of RUNS for each tool.
set -euo pipefail
B=${RAWCAP_BUILD:-$PWD/build}
WIN=${1:-$((1 << 30))}
RUNS=${RUNS:-3}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/rc-bench.XXXXXX")
RING=bench$$
cleanup() { chmod -R u+w "$W" 2>/dev/null || true; rm -rf "$W"; rm -f /dev/shm/rawcap-$RING; }
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # now, best

# Fill: the FIFO holds the whole window (+ slack), the ring only 64 MiB of it.
: >"$W/empty.pcap"
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$W/empty.pcap"
t_from=$(date +%s.%N)
echo go | "$B/tests/pktwriter" --size $((64 << 20)) --storage "$W/fifo" \
	--storage-size $((WIN + WIN / 4 + (64 << 20))) --fill "$WIN" "$RING" "$W/empty.pcap" >/dev/null
t_to=$(date +%s.%N)
data=$(du -sb "$W/fifo" | cut -f1)

# Export: rawcap-pcap (pcap and pcapng) from disk; tcpdump rewriting the same packets.
"$B/readers/rawcap-pcap" --ring $RING --storage "$W/fifo" --from "$t_from" --to "$t_to" \
	--format pcap -q -o "$W/in.pcap"
pk=$(capinfos -c -M "$W/in.pcap" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
by=$(stat -c %s "$W/in.pcap")
exp_pcap() { "$B/readers/rawcap-pcap" --ring $RING --storage "$W/fifo" --from "$t_from" \
	--to "$t_to" --format pcap -q -o "$W/out-rc.pcap"; }
exp_ng() { "$B/readers/rawcap-pcap" --ring $RING --storage "$W/fifo" --from "$t_from" \
	--to "$t_to" -q -o "$W/out-rc.pcapng"; }
tcpd() { tcpdump -r "$W/in.pcap" -w "$W/out-td.pcap" 2>/dev/null; }
t_rc=$(best exp_pcap)
t_ng=$(best exp_ng)
t_td=$(best tcpd)
cmp -s "$W/in.pcap" "$W/out-rc.pcap" || echo "warning: repeated exports differ" >&2
rm -f "$W/out-rc.pcap" "$W/out-rc.pcapng" "$W/out-td.pcap"

# Snapshot of the window beside cp of the FIFO's bytes.
n=0
snapc() { n=$((n + 1)); "$B/readers/rawcap-snapshot" create --ring $RING --storage "$W/fifo" \
	--dest "$W/snaps" --name s$n-$RANDOM --from "$t_from" --to "$t_to" >/dev/null; }
cpc() { rm -rf "$W/cp"; cp -r "$W/fifo" "$W/cp"; }
cps() { rm -rf "$W/cp"; cp -r "$W/fifo" "$W/cp"; sync -f "$W/cp"; }
t_sn=$(RUNS=1 best snapc); chmod -R u+w "$W/snaps"; rm -rf "$W/snaps"
t_sn=$(best snapc); chmod -R u+w "$W/snaps"; rm -rf "$W/snaps"
t_cp=$(best cpc)
t_cs=$(best cps)

rate() { echo "scale=1; $1 / $2" | bc -l; }
printf '\nwindow: %d packets, %.1f MiB of packets (pcap file), FIFO %.1f MiB; best of %d\n\n' \
	"$pk" "$(echo "$by / 1048576" | bc -l)" "$(echo "$data / 1048576" | bc -l)" "$RUNS"
printf '| %-40s | %8s | %12s | %8s | %s |\n' tool seconds packets/s MB/s "vs baseline"
printf '|%s|%s|%s|%s|%s|\n' ------------------------------------------ ---------- -------------- ---------- -------------
row() { printf '| %-40s | %8.3f | %12.0f | %8.1f | %s |\n' "$1" "$2" "$(rate "$pk" "$2")" \
	"$(rate "$by / 1000000" "$2")" "$3"; }
row "tcpdump -r IN -w OUT" "$t_td" "1.00x"
row "rawcap-pcap --format pcap (from disk)" "$t_rc" "$(rate "$t_td" "$t_rc")x tcpdump's rate"
row "rawcap-pcap (pcapng, from disk)" "$t_ng" "$(rate "$t_td" "$t_ng")x tcpdump's rate"
row "cp -r FIFO" "$t_cp" "1.00x"
row "cp -r FIFO && sync" "$t_cs" "$(rate "$t_cs" "$t_cp")x cp time"
row "rawcap-snapshot create (fsync, SHA-256)" "$t_sn" "$(rate "$t_sn" "$t_cp")x cp time"
