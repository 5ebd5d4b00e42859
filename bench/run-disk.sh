#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-disk.sh - disk FIFO persistence throughput and CPU, beside
# `dd if=/dev/zero of=FILE bs=1M oflag=direct` on the same file system, in the
# same invocation.
#
#   bench/run-disk.sh [BUILD_DIR] [DIR_ON_TARGET_FS] [SIZE_MIB]
#   defaults: build /var/tmp 2048
#
# The capd stand-in (diskwriter) generates records as fast as the persister
# takes them (--gate: a benchmark-only mode that waits for the disk instead of
# being lapped, so the figure is the persistence pipeline's top speed, not
# a race between generator and disk) into a 256 MiB ring and persists them
# (io_uring, O_DIRECT unless noted). The persister's CPU is
# the run's CPU minus that of an identical run without persisting (--no-persist),
# so the table charges it only for what persisting costs. Throughput counts
# only bytes that reached disk, over the wall time including the final flush.
set -euo pipefail
BUILD=${1:-build}
PARENT=${2:-/var/tmp}
MIB=${3:-2048}
DW="$BUILD/tests/diskwriter"
[ -x "$DW" ] || { echo "build diskwriter first (cmake --build $BUILD --target diskwriter)"; exit 1; }
T=$(mktemp -d "$PARENT/rc-bench-disk-XXXXXX")
RING="rc-bench-disk-$$"
trap 'rm -rf "$T" "/dev/shm/rawcap-$RING"' EXIT
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# file system: $(df -T "$T" | awk 'NR==2 { print $2 " on " $1 }'), ${MIB} MiB per run"

dd_line=$(dd if=/dev/zero of="$T/dd.bin" bs=1M count="$MIB" oflag=direct 2>&1 | tail -1)
rm -f "$T/dd.bin"
dd_secs=$(sed -E 's/.* copied, ([0-9.]+) s.*/\1/' <<<"$dd_line")
dd_mbs=$(awk -v s="$dd_secs" -v m="$MIB" 'BEGIN { printf "%.0f", m * 1048576 / s / 1e6 }')

run() { # run NAME ARGS...: one diskwriter run, prints its summary line
	rm -rf "$T/fifo" "/dev/shm/rawcap-$RING"
	"$DW" --ring "$RING" --storage "$T/fifo" --storage-size "$((MIB + 64))Mi" \
		--ring-size 256Mi --bytes "${MIB}Mi" --no-fill --payload 1400 "$@" 2>/dev/null
}

base=$(run --no-persist)
base_cpu=$(kv "$base" cpu)
printf "\n| %-28s | %9s | %8s | %10s | %13s | %11s |\n" \
	"run" "MB/s" "x dd" "CPU s/GB" "% core/100MB/s" "lapped recs"
printf "|%s|%s|%s|%s|%s|%s|\n" "------------------------------" "-----------" "----------" \
	"------------" "----------------" "-------------"
printf "| %-28s | %9s | %8s | %10s | %13s | %11s |\n" "dd bs=1M oflag=direct" "$dd_mbs" \
	"1.00" "-" "-" "-"
for variant in "io_uring O_DIRECT" "io_uring O_DIRECT reg-bufs" "io_uring buffered"; do
	case "$variant" in
	*reg-bufs) out=$(run --gate --reg-buffers) ;;
	*buffered) out=$(run --gate --no-direct) ;;
	*) out=$(run --gate) ;;
	esac
	awk -v b="$(kv "$out" disk_bytes)" -v s="$(kv "$out" secs)" -v c="$(kv "$out" cpu)" \
		-v c0="$base_cpu" -v dd="$dd_mbs" -v l="$(kv "$out" lapped)" -v n="$variant" 'BEGIN {
		mbs = b / s / 1e6; pc = c - c0; if (pc < 0) pc = 0
		printf "| %-28s | %9.0f | %8.2f | %10.3f | %13.1f | %11d |\n",
			n, mbs, mbs / dd, pc / (b / 1e9), 100 * pc / (b / 1e8), l }'
done
# Sustained, as capd runs (no gate): a fixed rate inside the disk's bandwidth must never lap.
rate=$((dd_mbs * 1000000 / 2 / 790)) # ~790 bytes per record with --payload 1400
out=$(run --rate "$rate")
echo
echo "sustained at ~$((dd_mbs / 2)) MB/s ($rate records/s): lapped=$(kv "$out" lapped)" \
	"disk_bytes=$(kv "$out" disk_bytes) cpu=$(kv "$out" cpu)s in $(kv "$out" secs)s"
echo "generator alone (--no-persist): cpu=${base_cpu}s for ${MIB} MiB"
