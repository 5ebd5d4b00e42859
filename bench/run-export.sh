#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-export.sh - export rate of rawcap-pcap over a window read from the
# disk FIFO, beside `tcpdump -r IN -w OUT` on the same packets; snapshot
# creation time beside `cp` (and `cp` + sync) of the same bytes.
#
# Usage: bench/run-export.sh [WINDOW_BYTES]   (default 1 GiB)
#   env RAWCAP_BUILD (default ./build), BENCH_DIR (default /var/tmp), RUNS (default 3),
#   REF_BUILD (optional: a second build, e.g. of main, measured in the same rounds),
#   EXPORT_ONLY=1 (skip the snapshot and cp rows), COLD=1 (before each export
#   and each tcpdump, drop the FIFO's and tcpdump's input from the page cache
#   with POSIX_FADV_DONTNEED: reads come from the device, readahead counts)
# The FIFO is filled by tests/pcap/pktwriter with 1400-byte packets through a
# 64 MiB ring, so the window is read back from disk (warm page cache: this
# measures the software, not the device). Each round runs every tool once,
# so a change of load hits all of them alike; the table gives the best of
# RUNS rounds and the spread (slowest / fastest) of each tool. The export
# rows also give the least CPU (user + sys) of a round, and the rate by CPU:
# on a shared machine, wall time is mostly waiting for a core. A last table
# gives the start-up cost: the CPU of exporting an empty window, beside
# tcpdump rewriting an empty file.
set -euo pipefail
B=${RAWCAP_BUILD:-$PWD/build}
WIN=${1:-$((1 << 30))}
RUNS=${RUNS:-3}
REF=${REF_BUILD:-}
EXPORT_ONLY=${EXPORT_ONLY:-}
COLD=${COLD:-}
echo "# $0 $*  (RUNS=$RUNS RAWCAP_BUILD=$B${REF:+ REF_BUILD=$REF}${EXPORT_ONLY:+ EXPORT_ONLY=1}${COLD:+ COLD=1})"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # now, timed, bench_workdir, bench_fill, wall_cpu
RING=bench$$
bench_workdir $RING

# timed_cpu KEY CMD...: as timed (wall time in BEST/WORST), and the least
# user + sys seconds of a run in CPU[KEY]. CMD runs in a subshell.
declare -A CPU
timed_cpu() {
	local k=$1 w c
	shift
	read -r w c < <(wall_cpu "$@")
	if [ -z "${BEST[$k]:-}" ] || [ "$(echo "$w < ${BEST[$k]}" | bc -l)" = 1 ]; then BEST[$k]=$w; fi
	if [ -z "${WORST[$k]:-}" ] || [ "$(echo "$w > ${WORST[$k]}" | bc -l)" = 1 ]; then WORST[$k]=$w; fi
	if [ -z "${CPU[$k]:-}" ] || [ "$(echo "$c < ${CPU[$k]}" | bc -l)" = 1 ]; then CPU[$k]=$c; fi
}

# Fill: the FIFO holds the whole window (+ slack), the ring only 64 MiB of it.
bench_fill "$B" $RING "$WIN"
data=$(du -sb "$W/fifo" | cut -f1)

# Export: rawcap-pcap (pcap and pcapng) from disk; tcpdump rewriting the same packets.
"$B/readers/rawcap-pcap" --ring $RING --storage "$W/fifo" --from "$t_from" --to "$t_to" \
	--format pcap -q -o "$W/in.pcap"
pk=$(capinfos -c -M "$W/in.pcap" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
by=$(stat -c %s "$W/in.pcap")
rcp() { "$1/readers/rawcap-pcap" --ring $RING --storage "$W/fifo" --from "$t_from" \
	--to "$t_to" "${@:2}" 2>/dev/null; }
exp_pcap() { rcp "$B" --format pcap -q -o "$W/out-rc.pcap"; }
exp_ng() { rcp "$B" -q -o "$W/out-rc.pcapng"; }
ref_pcap() { LD_LIBRARY_PATH=$REF/lib rcp "$REF" --format pcap -q -o "$W/out-ref.pcap"; }
ref_ng() { LD_LIBRARY_PATH=$REF/lib rcp "$REF" -q -o "$W/out-ref.pcapng"; }
tcpd() { tcpdump -r "$W/in.pcap" -w "$W/out-td.pcap" 2>/dev/null; }
# Start-up: an empty window (a second in 2001, before anything held) beside
# tcpdump rewriting an empty file: loading, opening the ring and the FIFO.
rce() { "$1/readers/rawcap-pcap" --ring $RING --storage "$W/fifo" --from 1000000000 \
	--to 1000000001 -q -o "$W/out-e$2.pcapng" 2>/dev/null; }
exp_empty() { rce "$B" rc; }
ref_empty() { LD_LIBRARY_PATH=$REF/lib rce "$REF" ref; }
tcpd_empty() { tcpdump -r "$W/empty.pcap" -w "$W/out-etd.pcap" 2>/dev/null; }

# Snapshot of the window beside cp of the FIFO's bytes.
n=0
snapc() { n=$((n + 1)); "$1/readers/rawcap-snapshot" create --ring $RING --storage "$W/fifo" \
	--dest "$W/snaps" --name s$n-$RANDOM --from "$t_from" --to "$t_to" >/dev/null 2>&1
	chmod -R u+w "$W/snaps"; rm -rf "$W/snaps"; }
snap_new() { snapc "$B"; }
snap_ref() { LD_LIBRARY_PATH=$REF/lib snapc "$REF"; }
cpc() { rm -rf "$W/cp"; cp -r "$W/fifo" "$W/cp"; }
cps() { rm -rf "$W/cp"; cp -r "$W/fifo" "$W/cp"; sync -f "$W/cp"; }

# With REF, the two builds swap places every round: whichever runs second
# finds the other's page cache and writeback, so a fixed order biases them.
# COLD: only this benchmark's files leave the page cache (clean pages; nothing is synced).
cold() {
	[ -n "$COLD" ] || return 0
	python3 -c 'import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' \
		"$W/in.pcap" "$W"/fifo/seg-*
}
new_exports() { cold; timed_cpu rc exp_pcap; cold; timed_cpu ng exp_ng; timed_cpu e exp_empty; }
ref_exports() {
	if [ -n "$REF" ]; then cold; timed_cpu rrc ref_pcap; cold; timed_cpu rng ref_ng; timed_cpu re ref_empty; fi
}
new_snap() { timed sn snap_new; }
ref_snap() { if [ -n "$REF" ]; then timed rsn snap_ref; fi; }
if [ -z "$EXPORT_ONLY" ]; then snap_new; else exp_pcap; fi # warm the page cache
for i in $(seq "$RUNS"); do
	cold
	timed_cpu td tcpd
	timed_cpu etd tcpd_empty
	if [ $((i % 2)) = 1 ]; then new_exports; ref_exports; else ref_exports; new_exports; fi
	[ -z "$EXPORT_ONLY" ] || continue
	timed cp cpc
	timed cs cps
	if [ $((i % 2)) = 1 ]; then new_snap; ref_snap; else ref_snap; new_snap; fi
done
cmp -s "$W/in.pcap" "$W/out-rc.pcap" || echo "warning: repeated exports differ" >&2
rm -rf "$W"/out-* "$W/cp"

rate() { echo "scale=2; $1 / $2" | bc -l; }
printf '\nwindow: %d packets, %.1f MiB of packets (pcap file), FIFO %.1f MiB; best of %d rounds\n\n' \
	"$pk" "$(echo "$by / 1048576" | bc -l)" "$(echo "$data / 1048576" | bc -l)" "$RUNS"
printf '| %-40s | %8s | %12s | %8s | %-26s | %6s |\n' tool seconds packets/s MB/s "vs baseline" spread
printf '|%s|%s|%s|%s|%s|%s|\n' ------------------------------------------ ---------- -------------- \
	---------- ---------------------------- --------
row() { printf '| %-40s | %8.3f | %12.0f | %8.1f | %-26s | %5.2fx |\n' "$1" "${BEST[$2]}" \
	"$(rate "$pk" "${BEST[$2]}")" "$(rate "$by / 1000000" "${BEST[$2]}")" "$3" \
	"$(rate "${WORST[$2]}" "${BEST[$2]}")"; }
row "tcpdump -r IN -w OUT" td "1.00x"
row "rawcap-pcap --format pcap (from disk)" rc "$(rate "${BEST[td]}" "${BEST[rc]}")x tcpdump's rate"
row "rawcap-pcap (pcapng, from disk)" ng "$(rate "${BEST[td]}" "${BEST[ng]}")x tcpdump's rate"
if [ -n "$REF" ]; then
	row "REF rawcap-pcap --format pcap" rrc "$(rate "${BEST[td]}" "${BEST[rrc]}")x tcpdump's rate"
	row "REF rawcap-pcap (pcapng)" rng "$(rate "${BEST[td]}" "${BEST[rng]}")x tcpdump's rate"
fi
if [ -z "$EXPORT_ONLY" ]; then
	row "cp -r FIFO" cp "1.00x"
	row "cp -r FIFO && sync" cs "$(rate "${BEST[cs]}" "${BEST[cp]}")x cp time"
	row "rawcap-snapshot create (fsync, SHA-256)" sn "$(rate "${BEST[sn]}" "${BEST[cp]}")x cp, $(rate "${BEST[sn]}" "${BEST[cs]}")x cp+sync"
	if [ -n "$REF" ]; then
		row "REF rawcap-snapshot create" rsn "$(rate "${BEST[rsn]}" "${BEST[cp]}")x cp, $(rate "${BEST[rsn]}" "${BEST[cs]}")x cp+sync"
	fi
fi
# By CPU (user + sys, least of the rounds): what the tools cost, whatever the load.
printf '\n| %-40s | %8s | %-26s |\n|%s|%s|%s|\n' "export (CPU)" "CPU s" "vs tcpdump" \
	------------------------------------------ ---------- ----------------------------
crow() { printf '| %-40s | %8.3f | %-26s |\n' "$1" "${CPU[$2]}" \
	"$(rate "${CPU[td]}" "${CPU[$2]}")x tcpdump's rate"; }
crow "tcpdump -r IN -w OUT" td
crow "rawcap-pcap --format pcap (from disk)" rc
crow "rawcap-pcap (pcapng, from disk)" ng
if [ -n "$REF" ]; then
	crow "REF rawcap-pcap --format pcap" rrc
	crow "REF rawcap-pcap (pcapng)" rng
fi
# Start-up (CPU, least of the rounds): the fixed cost in every export.
printf '\n| %-40s | %8s | %-26s |\n|%s|%s|%s|\n' "start-up: empty window (CPU)" "CPU ms" \
	"vs tcpdump -r EMPTY -w" ------------------------------------------ ---------- \
	----------------------------
erow() { printf '| %-40s | %8.1f | %-26s |\n' "$1" "$(echo "${CPU[$2]} * 1000" | bc -l)" \
	"$(rate "${CPU[$2]}" "${CPU[etd]}")x tcpdump's CPU"; }
erow "tcpdump -r EMPTY -w OUT" etd
erow "rawcap-pcap (pcapng), empty window" e
[ -z "$REF" ] || erow "REF rawcap-pcap (pcapng), empty window" re
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
