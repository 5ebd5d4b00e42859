#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-ebpf.sh - the eBPF (tc) capture backend beside AF_PACKET (capd's
# TPACKET_V3 path) and tcpdump on the same traffic; prints a markdown table.
#
# capd-traffic floods UDP from one private namespace to another over a veth
# pair for DUR seconds; one capturer at a time captures the receiving veth.
# Columns: packets sent and captured, loss (sent - captured, and what the
# capturer itself counted as dropped), the capturer process's CPU seconds
# (utime + stime) per million packets, and for eBPF the time the tc program
# itself ran (kernel.bpf_stats_enabled), which is spent in the packet's
# softirq and not charged to any process. AF_PACKET's in-kernel copy
# (tpacket_rcv) is likewise softirq time that no column shows; the last
# column, the whole machine's busy CPU beyond a no-capture baseline per
# million packets, includes both but is noisy on a shared machine.
# capd's TPACKET_V3 blocks (256 x 1 MiB) and tcpdump's -B get 256 MiB of
# kernel buffer; the BPF ring buffer gets 32 MiB (EBPF_RINGBUF=bytes), the
# size that measured best: larger ones leave every sample cold in cache
# (256 MiB cost 3x the tc program time per 1500 B packet), 8 MiB lost
# packets whenever the drain was descheduled on this loaded machine.
#
#   bench/run-ebpf.sh [BUILD_DIR]   (default ./build); DUR=5 SIZES="64 1500"
#   CAPTURERS="ebpf afpacket tcpdump"
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DRIVER=$BUILD/tests/ebpf_capture_driver
CAPD=$BUILD/capd/capd
TRAFFIC=$BUILD/tests/capd-traffic
DUR=${DUR:-5}
SIZES=${SIZES:-64 1500}
CAPTURERS=${CAPTURERS:-ebpf afpacket tcpdump}
NSA=rc-bebpf-a-$$
NSB=rc-bebpf-b-$$
IFA=bb$$a
IFB=bb$$b
TMP=$(mktemp -d /tmp/rc-bench-ebpf-XXXXXX)
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
CPID=
SINK=

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
for f in "$DRIVER" "$TRAFFIC"; do [ -x "$f" ] || { echo "missing $f (build first)" >&2; exit 2; }; done

cleanup() {
	[ -n "$CPID" ] && kill -9 "$CPID" 2>/dev/null || true
	[ -n "$SINK" ] && kill -9 "$SINK" 2>/dev/null || true
	wait 2>/dev/null || true
	sysctl -qw kernel.bpf_stats_enabled=0 || true
	ip netns del "$NSA" 2>/dev/null || true
	ip netns del "$NSB" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NSA"
ip netns add "$NSB"
ip link add "$IFA" netns "$NSA" type veth peer name "$IFB" netns "$NSB"
for ns in "$NSA" "$NSB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$NSA" addr add 198.18.60.1/24 dev "$IFA"
ip -n "$NSB" addr add 198.18.60.2/24 dev "$IFB"
ip -n "$NSA" link set "$IFA" up
ip -n "$NSB" link set "$IFB" up
# A sink on the receiving side, so the flood causes no ICMP replies.
ip netns exec "$NSA" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 9999)); time.sleep(1e6)' &
SINK=$!
sleep 0.5

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
bpf_run_ns() {
	bpftool -j prog show 2>/dev/null | python3 -c 'import json, sys
print(sum(p.get("run_time_ns", 0) for p in json.load(sys.stdin) if p.get("name", "").startswith("rawcap_tc_")))'
}

start_capturer() {
	case $1 in
	ebpf)
		ip netns exec "$NSA" "$DRIVER" -r bench$$ -i "$IFA" -z $((256 << 20)) -b "${EBPF_RINGBUF:-$((32 << 20))}" -S "$TMP/state" \
			>"$2" 2>&1 &
		;;
	afpacket)
		ip netns exec "$NSA" "$CAPD" --ring bench$$ --ring-size 256Mi --interfaces "$IFA" \
			--block-count 256 2>"$2" &
		;;
	tcpdump)
		ip netns exec "$NSA" tcpdump -i "$IFA" -n -s 262144 -B 262144 -w /dev/null 2>"$2" &
		;;
	esac
	CPID=$!
	sleep 2
	kill -0 "$CPID" 2>/dev/null || { echo "$1 did not start: $(tail -3 "$2")" >&2; CPID=; return 1; }
}

# stop_capturer NAME LOG: prints "captured dropped".
stop_capturer() {
	local cap=- drop=-
	kill -INT "$CPID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$CPID" 2>/dev/null || true
	wait "$CPID" 2>/dev/null || true
	CPID=
	case $1 in
	ebpf)
		cap=$(sed -n 's/^packets=\([0-9]*\).*/\1/p' "$2")
		drop=$(sed -n 's/.* drops=\([0-9]*\).*/\1/p' "$2")
		;;
	afpacket)
		cap=$(tr ' ' '\n' <"$2" | sed -n 's/^sock0.captured=//p' | tail -1)
		drop=$(tr ' ' '\n' <"$2" | sed -n 's/^sock0.kernel_drops=//p' | tail -1)
		;;
	tcpdump)
		cap=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$2")
		drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$2")
		;;
	esac
	echo "${cap:--} ${drop:--}"
}

flood() {
	ip netns exec "$NSB" "$TRAFFIC" flood 198.18.60.1 9999 "$1" "$DUR" | sed -n 's/^sent=\([0-9]*\).*/\1/p'
}

declare -A BASE
for size in $SIZES; do
	b0=$(busy_ticks); sent=$(flood "$size"); b1=$(busy_ticks)
	BASE[$size]=$(awk -v a="$b0" -v b="$b1" -v n="$sent" -v hz="$hz" 'BEGIN {printf "%.6f", (b - a) / hz / n}')
	echo "size=$size baseline sent=$sent busy_s=$(( (b1 - b0) / hz ))" >&2
done

rows=()
for size in $SIZES; do
	for cap in $CAPTURERS; do
		if [ "$cap" = afpacket ] && [ ! -x "$CAPD" ]; then rows+=("| $size | $cap | capd not built | | | | | | |"); continue; fi
		log=$TMP/$cap-$size.log
		start_capturer "$cap" "$log" || { rows+=("| $size | $cap | failed to start | | | | | | |"); continue; }
		[ "$cap" = ebpf ] && sysctl -qw kernel.bpf_stats_enabled=1
		r0=$(bpf_run_ns); t0=$(cpu_ticks "$CPID"); b0=$(busy_ticks)
		sent=$(flood "$size")
		sleep 1.5 # let the capturer drain
		t1=$(cpu_ticks "$CPID"); b1=$(busy_ticks); r1=$(bpf_run_ns)
		sysctl -qw kernel.bpf_stats_enabled=0
		read -r got drop < <(stop_capturer "$cap" "$log")
		cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
		per=$(awk -v c="$cpu" -v n="$got" 'BEGIN {if (n + 0 > 0) printf "%.3f", c / (n / 1e6); else print "-"}')
		bpf=-
		[ "$cap" = ebpf ] && bpf=$(awk -v a="$r0" -v b="$r1" -v n="$got" 'BEGIN {if (n + 0 > 0) printf "%.3f", (b - a) / 1e9 / (n / 1e6); else print "-"}')
		sys=$(awk -v a="$b0" -v b="$b1" -v hz="$hz" -v base="${BASE[$size]}" -v s="$sent" -v n="$got" \
			'BEGIN {if (n + 0 > 0) printf "%.3f", ((b - a) / hz - base * s) / (n / 1e6); else print "-"}')
		lost=$(awk -v s="$sent" -v n="$got" 'BEGIN {if (n + 0 > 0 || n == "0") printf "%d (%.2f%%)", s - n, (s - n) * 100 / s; else print "-"}')
		rows+=("| $size | $cap | $sent | $got | $lost | $drop | $per | $bpf | $sys |")
		echo "size=$size capturer=$cap sent=$sent captured=$got dropped=$drop cpu_s=$cpu per_M=$per bpf_per_M=$bpf sys_per_M=$sys" >&2
	done
done

echo
echo "Load before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; $DUR s per run; kernel $(uname -r)"
echo "Command: bench/run-ebpf.sh $BUILD (DUR=$DUR SIZES=\"$SIZES\" CAPTURERS=\"$CAPTURERS\")"
echo
echo "| frame B | capturer | sent | captured | sent - captured | capturer-counted drops | process CPU s / M pkts | tc program s / M pkts | machine CPU s / M pkts over baseline |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
