#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-merge.sh - kubectl-rawcap's k-way merge of three nodes' windows beside
# mergecap of the same three files, in the same run; then the merge's peak RSS
# at 1x and 4x the window, to show it does not follow the window's size.
#
# Usage: bench/run-merge.sh [WINDOW_BYTES]   (default 1 GiB per node)
#   env RAWCAP_BUILD (default ./build), BENCH_DIR (default /var/tmp), RUNS (default 3),
#       SCALE (default 4: the larger window for the RSS rows; 0 skips them)
# Each node's window is made the way a node makes it: tests/pcap/pktwriter fills a
# ring and disk FIFO with 1400-byte packets (the three at once, so their
# timestamps interleave) and rawcap-pcap exports it as pcapng. Both tools then
# merge the same three files into a file on the same file system (warm page
# cache: this measures the software, not the device). Best of RUNS each.
set -euo pipefail
B=${RAWCAP_BUILD:-$PWD/build}
WIN=${1:-$((1 << 30))}
RUNS=${RUNS:-3}
SCALE=${SCALE:-4}
KR=$B/cli/kubectl-rawcap
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/rc-bench-merge.XXXXXX")
export RAWCAP_SHM_DIR=$W/shm
mkdir -p "$RAWCAP_SHM_DIR"
cleanup() { chmod -R u+w "$W" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
for t in mergecap capinfos python3 bc; do
	command -v "$t" >/dev/null || { echo "run-merge: $t missing" >&2; exit 1; }
done

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # now, best
maxrss() { # CMD... -> peak RSS in KiB of one run (output to /dev/null)
	python3 -c 'import resource,subprocess,sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sys.exit(r.returncode) if r.returncode > 1 else print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

# windows BYTES TAG: three nodes' pcapng files $W/TAG-{a,b,c}.pcapng
windows() {
	local bytes=$1 tag=$2 n pids=()
	python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$W/empty.pcap"
	for n in a b c; do
		echo go | "$B/tests/pktwriter" --size $((64 << 20)) --storage "$W/fifo-$n" \
			--storage-size $((bytes + bytes / 4 + (64 << 20))) --fill "$bytes" "m$$$n" \
			"$W/empty.pcap" >"$W/fill-$n.out" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for n in a b c; do
		grep -q filled "$W/fill-$n.out" || { echo "run-merge: fill $n failed" >&2; exit 1; }
		"$B/readers/rawcap-pcap" --ring "m$$$n" --storage "$W/fifo-$n" -q -o "$W/$tag-$n.pcapng"
		rm -rf "$W/fifo-$n" "$RAWCAP_SHM_DIR/rawcap-m$$$n"
	done
}

windows "$WIN" w1
in_bytes=$(( $(stat -c %s "$W/w1-a.pcapng") + $(stat -c %s "$W/w1-b.pcapng") + $(stat -c %s "$W/w1-c.pcapng") ))
pk=0
for n in a b c; do
	pk=$((pk + $(capinfos -c -M "$W/w1-$n.pcapng" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')))
done

ours() { "$KR" merge -q -o "$W/out-kr.pcapng" a="$W/w1-a.pcapng" b="$W/w1-b.pcapng" \
	c="$W/w1-c.pcapng"; }
theirs() { mergecap -w "$W/out-mc.pcapng" "$W/w1-c.pcapng" "$W/w1-b.pcapng" "$W/w1-a.pcapng"; }
ours # warm the page cache
t_kr=$(best ours)
t_mc=$(best theirs)
[ "$(capinfos -c -M "$W/out-kr.pcapng" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')" = "$pk" ] ||
	echo "warning: the merged file does not hold every packet" >&2
rm -f "$W/out-kr.pcapng" "$W/out-mc.pcapng"
rss_kr1=$(maxrss "$KR" merge -q -o - a="$W/w1-a.pcapng" b="$W/w1-b.pcapng" c="$W/w1-c.pcapng")
rss_mc1=$(maxrss mergecap -w - "$W/w1-c.pcapng" "$W/w1-b.pcapng" "$W/w1-a.pcapng")

rate() { echo "scale=2; $1 / $2" | bc -l; }
printf '\n3 nodes x %.0f MiB windows: %d packets, %.1f MiB of pcapng in; best of %d\n\n' \
	"$(echo "$WIN / 1048576" | bc -l)" "$pk" "$(echo "$in_bytes / 1048576" | bc -l)" "$RUNS"
printf '| %-44s | %8s | %12s | %8s | %s |\n' tool seconds packets/s "MB/s in" "vs mergecap"
printf '|%s|%s|%s|%s|%s|\n' ---------------------------------------------- ---------- -------------- ---------- -------------
row() { printf '| %-44s | %8.3f | %12.0f | %8.1f | %s |\n' "$1" "$2" "$(rate "$pk" "$2")" \
	"$(rate "$in_bytes / 1000000" "$2")" "$3"; }
row "mergecap -w OUT c b a" "$t_mc" "1.00x"
row "kubectl-rawcap merge -o OUT a=.. b=.. c=.." "$t_kr" "$(rate "$t_mc" "$t_kr")x mergecap's rate"

printf '\n| %-44s | %14s |\n' "peak RSS (output to a pipe)" "KiB"
printf '|%s|%s|\n' ---------------------------------------------- ----------------
printf '| %-44s | %14s |\n' "mergecap, 1x window" "$rss_mc1" "kubectl-rawcap merge, 1x window" "$rss_kr1"
if [ "$SCALE" -gt 0 ]; then
	rm -f "$W"/w1-*.pcapng
	windows $((WIN * SCALE)) w4
	rss_kr4=$(maxrss "$KR" merge -q -o - a="$W/w4-a.pcapng" b="$W/w4-b.pcapng" c="$W/w4-c.pcapng")
	printf '| %-44s | %14s |\n' "kubectl-rawcap merge, ${SCALE}x window" "$rss_kr4"
fi
