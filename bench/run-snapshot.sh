#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-snapshot.sh - `rawcap-snapshot create` of a window read from the disk
# FIFO, in paired rounds beside `cp -r FIFO && sync` of the same bytes: each
# round runs every command once, in an order that rotates from round to
# round, and prints the load and each command's time over `cp && sync`'s in
# that round; the end gives the median and best of those per-round ratios.
# An untimed round of every command comes first. Every timed command starts
# alike: the outputs before it removed and `sync` run, untimed (no dirty
# pages, no deletion's journal commit or discards left to it; the file
# system may be mounted with discard) and about a GiB of memory just freed,
# so none pays for another's leftovers. Before, the command after `cp &&
# sync` (the same one in most rounds: the rotation keeps the cyclic order)
# wrote its GiB into memory nothing had just freed, on this VM 0.5-0.8 s
# more CPU in the page-cache copy (docs/ARCHITECTURE.md, ninth round).
#
# Usage: bench/run-snapshot.sh [WINDOW_BYTES]   (default 1 GiB)
#   env RAWCAP_BUILD (default ./build), BENCH_DIR (default /var/tmp), RUNS (default 7),
#   REF_BUILD (optional: a second build, e.g. of main, in the same rounds),
#   CUT=1 (the window starts and ends inside FIFO blocks, not at the FIFO's edges)
# Rows: the build (whole FIFO blocks copied as they are), the same build with
# RAWCAP_SNAPSHOT_RECORD_PATH=1 (every record framed again), REF_BUILD.
set -euo pipefail
B=${RAWCAP_BUILD:-$PWD/build}
WIN=${1:-$((1 << 30))}
RUNS=${RUNS:-7}
REF=${REF_BUILD:-}
echo "# $0 $*  (RUNS=$RUNS RAWCAP_BUILD=$B${REF:+ REF_BUILD=$REF}${CUT:+ CUT=1})"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # bench_workdir, bench_fill, wall_cpu
RING=bsnap$$
bench_workdir $RING

bench_fill "$B" $RING "$WIN"
if [ -n "${CUT:-}" ]; then # a hundredth in from each end: both edges cut a block
	read -r t_from t_to < <(python3 -c "a, b = $t_from, $t_to; d = (b - a) / 100
print('%.9f %.9f' % (a + d, b - d))")
fi
data=$(du -sb "$W/fifo" | cut -f1)

n=0
snapc() { n=$((n + 1)); "$1/readers/rawcap-snapshot" create --ring $RING --storage "$W/fifo" \
	--dest "$W/snaps" --name s$n --from "$t_from" --to "$t_to" >/dev/null 2>&1; }
run_cs() { cp -r "$W/fifo" "$W/cp"; sync -f "$W/cp"; }
# before each command, untimed: nothing left of the one before, nothing dirty
settle() { chmod -R u+w "$W/snaps" 2>/dev/null || true; rm -rf "$W/snaps" "$W/cp"; sync; }
run_new() { snapc "$B"; }
run_rec() { RAWCAP_SNAPSHOT_RECORD_PATH=1 snapc "$B"; }
run_ref() { LD_LIBRARY_PATH=$REF/lib snapc "$REF"; }

names=(cs new rec)
[ -z "$REF" ] || names+=(ref)
declare -A R C # R[name]: the per-round ratios over cp && sync, one per line; C: CPU s
# An untimed warm-up round: the FIFO in the page cache, and every command
# once, so the first timed round does not run in the writeback of a cold
# `cp && sync` (it was the slowest round of most runs before).
for nm in "${names[@]}"; do settle; "run_$nm"; done
printf '%-5s %-16s %8s %8s %8s %8s   %s\n' round load cs new rec ref "new/cs rec/cs ref/cs new/ref"
for i in $(seq "$RUNS"); do
	declare -A T=()
	k=${#names[@]}
	for j in $(seq 0 $((k - 1))); do
		nm=${names[$(((i + j) % k))]}
		settle
		read -r T[$nm] cpu < <(wall_cpu "run_$nm")
		C[$nm]+="$cpu"$'\n'
	done
	ratio() {
		if [ -n "${T[$1]:-}" ] && [ -n "${T[$2]:-}" ]; then
			printf '%.3f' "$(echo "${T[$1]} / ${T[$2]}" | bc -l)"
		else echo -; fi
	}
	for nm in new rec ref; do [ -z "${T[$nm]:-}" ] || R[$nm]+="$(ratio "$nm" cs)"$'\n'; done
	[ -z "$REF" ] || R[nr]+="$(ratio new ref)"$'\n'
	printf '%-5s %-16s %8.3f %8.3f %8.3f %8s   %s %s %s %s\n' "$i" "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"${T[cs]}" "${T[new]}" "${T[rec]}" "${T[ref]:--}" \
		"$(ratio new cs)" "$(ratio rec cs)" "$(ratio ref cs)" "$(ratio new ref)"
done
stat() { sort -n | awk -v f="$1" '{ v[NR] = $1 } END {
	printf f, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'; }
printf '\nwindow: %.1f MiB of FIFO; %d rounds; ratios per round, then their median (best, worst)\n\n' \
	"$(echo "$data / 1048576" | bc -l)" "$RUNS"
printf '| %-41s | %-26s | %-13s |\n|%s|%s|%s|\n' command 'vs `cp && sync`' "CPU s, median" \
	------------------------------------------- ---------------------------: ---------------:
row() { printf '| %-41s | %-26s | %13s |\n' "$1" "$2" "$(printf '%s' "${C[$3]}" | stat '%.3f')"; }
row "cp -r FIFO && sync" "1.00x" cs
row "rawcap-snapshot create (whole blocks)" "$(printf '%s' "${R[new]}" | stat '%.2fx (%.2fx, %.2fx)')" new
row "the same, RAWCAP_SNAPSHOT_RECORD_PATH=1" "$(printf '%s' "${R[rec]}" | stat '%.2fx (%.2fx, %.2fx)')" rec
if [ -n "$REF" ]; then
	row "REF_BUILD" "$(printf '%s' "${R[ref]}" | stat '%.2fx (%.2fx, %.2fx)')" ref
	echo
	echo "whole blocks / REF_BUILD, per round: $(printf '%s' "${R[nr]}" | stat '%.3fx (%.3fx, %.3fx)')"
fi
settle
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
