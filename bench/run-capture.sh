#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-capture.sh - capd against tcpdump, dumpcap, netsniff-ng and stenotype on
# the same traffic, one capturer at a time, in one invocation; prints a
# markdown table.
#
# In a private network namespace, capd-traffic floods UDP over lo as fast as
# it can for DUR seconds, with 64 B and 1500 B frames, while one capturer
# runs. For each we report packets sent, captured and dropped, the
# capturer's own CPU seconds (utime + stime from /proc) per million packets
# sent, and the ratio of that to tcpdump's. Each tool's own counters are
# reported as it prints them: netsniff-ng and stenotype count both copies
# loopback hands to packet sockets (sent and received), so their "captured"
# can be twice "sent"; tcpdump/dumpcap (libpcap) and capd drop the sent copy.
#
#   bench/run-capture.sh [BUILD_DIR]      (default: ./build); DUR=5 SIZES="64 1500"
#   CAPTURERS="capd tcpdump dumpcap netsniff-ng stenotype"; CAPD_EXTRA="--threads 2" adds capd options
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CAPD=$BUILD/capd/capd
TRAFFIC=$BUILD/tests/capd-traffic
DUR=${DUR:-5}
SIZES=${SIZES:-64 1500}
CAPTURERS=${CAPTURERS:-capd tcpdump dumpcap netsniff-ng stenotype}
NS=rc-bench-$$
TMP=$(mktemp -d /tmp/rc-bench-XXXXXX)
STENO=/dev/shm/rc-bench-steno-$$
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
CPID=

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
for f in "$CAPD" "$TRAFFIC"; do [ -x "$f" ] || { echo "missing $f (build first)" >&2; exit 2; }; done

cleanup() {
	[ -n "$CPID" ] && kill -9 "$CPID" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP" "$STENO"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# start_capturer NAME LOG: run it on lo in the namespace; sets CPID.
start_capturer() {
	local log=$2
	case $1 in
	capd)
		ip netns exec "$NS" "$CAPD" --ring bench$$ --ring-size 256Mi --interfaces lo \
			--block-count 256 ${CAPD_EXTRA:-} 2>"$log" &
		;;
	tcpdump)
		ip netns exec "$NS" tcpdump -i lo -n -s 262144 -B 262144 -w /dev/null 2>"$log" &
		;;
	dumpcap)
		ip netns exec "$NS" dumpcap -i lo -q -s 262144 -B 256 -w /dev/null 2>"$log" &
		;;
	netsniff-ng)
		ip netns exec "$NS" netsniff-ng --in lo --out /dev/null --silent --ring-size 256MiB \
			>"$log" 2>&1 &
		;;
	stenotype)
		rm -rf "$STENO"
		mkdir -p "$STENO/PKT0" "$STENO/IDX0"
		ip netns exec "$NS" stenotype --iface=lo --dir="$STENO" --threads=1 --blocks=256 \
			--no_index --seccomp=none --uid=root --gid=root --no_promisc --no_watchdogs \
			--fileage_sec=3600 --filesize_mb=4096 -v --stats_sec=1 >"$log" 2>&1 &
		;;
	esac
	CPID=$!
	sleep 2
	kill -0 "$CPID" 2>/dev/null || { echo "$1 did not start: $(tail -3 "$log")" >&2; CPID=; return 1; }
}

# stop_capturer NAME LOG: stop it; prints "captured dropped".
stop_capturer() {
	local log=$2 cap=- drop=-
	kill -INT "$CPID" 2>/dev/null || true
	# stenotype may hang in shutdown; its figures are logged every second anyway.
	for _ in $(seq 30); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$CPID" 2>/dev/null || true
	wait "$CPID" 2>/dev/null || true
	CPID=
	case $1 in
	capd)
		# Every socket of the final line (--threads N: sock0..sockN-1).
		cap=$(grep 'final:' "$log" | tail -1 | tr ' ' '\n' |
			awk -F= '/^sock[0-9]+\.captured=/ {n += $2} END {print n + 0}')
		drop=$(grep 'final:' "$log" | tail -1 | tr ' ' '\n' |
			awk -F= '/^sock[0-9]+\.kernel_drops=/ {n += $2} END {print n + 0}')
		;;
	tcpdump)
		cap=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$log")
		drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$log")
		;;
	dumpcap)
		cap=$(sed -n 's/.*Packets captured: *\([0-9]*\).*/\1/p; s/^Packets: *\([0-9]*\).*/\1/p' "$log" | tail -1)
		drop=$(sed -n "s|.*on interface '[^']*': *[0-9]*/\([0-9]*\).*|\1|p" "$log" | tail -1)
		;;
	netsniff-ng)
		sed -i 's/\x1b\[[0-9;]*m//g; s/\r//g' "$log"
		cap=$(sed -n 's/^ *\([0-9]*\) *packets passed filter.*/\1/p' "$log" | tail -1)
		drop=$(sed -n 's/^ *\([0-9]*\) *packets failed filter.*/\1/p' "$log" | tail -1)
		;;
	stenotype)
		cap=$(grep -o ' packets=[0-9]*' "$log" | tail -1 | cut -d= -f2)
		drop=$(grep -o ' drops=[0-9]*' "$log" | tail -1 | cut -d= -f2)
		;;
	esac
	echo "${cap:--} ${drop:--}"
}

hz=$(getconf CLK_TCK)
declare -A CPU_PER_M
rows=()
for size in $SIZES; do
	for cap in $CAPTURERS; do
		command -v "$cap" >/dev/null || [ "$cap" = capd ] || { rows+=("| $size | $cap | not installed | | | | |"); continue; }
		log=$TMP/$cap-$size.log
		start_capturer "$cap" "$log" || { rows+=("| $size | $cap | failed to start | | | | |"); continue; }
		t0=$(cpu_ticks "$CPID")
		sent=$(ip netns exec "$NS" "$TRAFFIC" flood 127.0.0.1 9999 "$size" "$DUR" | sed -n 's/^sent=\([0-9]*\).*/\1/p')
		sleep 1.5 # let the capturer drain
		t1=$(cpu_ticks "$CPID")
		read -r got drop < <(stop_capturer "$cap" "$log")
		cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
		# Per packet sent: the same work for every capturer, whatever it counts.
		per=$(awk -v c="$cpu" -v n="$sent" 'BEGIN {if (n + 0 > 0) printf "%.3f", c / (n / 1e6); else print "-"}')
		CPU_PER_M[$cap-$size]=$per
		rows+=("| $size | $cap | $sent | $got | $drop | $cpu | $per |")
		echo "size=$size capturer=$cap sent=$sent captured=$got dropped=$drop cpu_s=$cpu cpu_s_per_Mpkt=$per" >&2
	done
done

echo
echo "Load before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; $DUR s per run; kernel $(uname -r)"
echo
echo "| frame B | capturer | sent | captured | dropped | CPU s | CPU s / M pkts sent | CPU/pkt vs tcpdump |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|"
for r in "${rows[@]}"; do
	size=$(awk -F'|' '{gsub(/ /, "", $2); print $2}' <<<"$r")
	cap=$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$r")
	ratio=$(awk -v a="${CPU_PER_M[$cap-$size]:--}" -v b="${CPU_PER_M[tcpdump-$size]:--}" \
		'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-"}')
	echo "$r $ratio |"
done
