#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-self.sh - what leaving rawcap's own traffic out costs capd, as ratios
# against capd --capture-self in the same invocation; prints markdown.
#
#  1. Per packet: capd-traffic floods UDP over lo for DUR seconds while an
#     idle TCP connection and a listener of capd's user exist, so the table
#     of own connections is not empty and every packet is parsed and tested
#     (the worst case; with no own connection the test is one branch).
#     Reported: capd's CPU seconds per million packets sent, and the ratio.
#  2. Per socket dump: capd idle for IDLE seconds in a namespace holding
#     SOCKS other TCP sockets; the dump runs once a second, so the CPU
#     difference over IDLE dumps is the cost of one.
#
#   bench/run-self.sh [BUILD_DIR]    (default ./build); DUR=5 SIZE=64 ROUNDS=2 IDLE=10 SOCKS=10000
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CAPD=$BUILD/capd/capd
TRAFFIC=$BUILD/tests/capd-traffic
DUR=${DUR:-5}
SIZE=${SIZE:-64}
ROUNDS=${ROUNDS:-2}
IDLE=${IDLE:-10}
SOCKS=${SOCKS:-10000}
NS=rc-bself-$$
TMP=$(mktemp -d /tmp/rc-bself-XXXXXX)
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
PIDS=()

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
for f in "$CAPD" "$TRAFFIC"; do [ -x "$f" ] || { echo "missing $f (build first)" >&2; exit 2; }; done
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# hold USER N PORT: N TCP sockets (N/2 connections) plus a listener on PORT, owned by USER.
hold() {
	ip netns exec "$NS" setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups \
		/usr/bin/python3 -c '
import resource, socket, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
l = socket.socket(); l.bind(("127.0.0.1", port)); l.listen(4096)
keep = []
for _ in range(n // 2):
    keep.append(socket.create_connection(("127.0.0.1", port)))
    keep.append(l.accept()[0])
print("ready", flush=True)
time.sleep(3600)' "$2" "$3" >"$TMP/hold-$3" &
	PIDS+=($!)
	for _ in $(seq 600); do grep -q ready "$TMP/hold-$3" 2>/dev/null && return; sleep 0.1; done
	echo "could not open $2 sockets" >&2
	exit 1
}

start_capd() { # log args...
	local log=$1; shift
	ip netns exec "$NS" "$CAPD" --ring bself$$ --ring-size 256Mi --interfaces lo --block-count 256 \
		--user nobody "$@" 2>"$log" &
	CPID=$!
	sleep 2
}
stop_capd() {
	kill -INT "$CPID"; wait "$CPID" 2>/dev/null || true
}

hold nobody 2 7001 # one own connection and a listener: the table is not empty
declare -A PER
for ((r = 0; r < ROUNDS; r++)); do
	for mode in capture-self exclude; do
		extra=()
		[ "$mode" = capture-self ] && extra=(--capture-self)
		start_capd "$TMP/flood-$mode.log" "${extra[@]}"
		t0=$(cpu_ticks "$CPID")
		sent=$(ip netns exec "$NS" "$TRAFFIC" flood 127.0.0.1 9999 "$SIZE" "$DUR" | sed -n 's/^sent=\([0-9]*\).*/\1/p')
		sleep 1.5
		t1=$(cpu_ticks "$CPID")
		stop_capd
		per=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v n="$sent" 'BEGIN {printf "%.3f", (b - a) / hz / (n / 1e6)}')
		PER[$mode]="${PER[$mode]:-} $per"
		echo "round=$r mode=$mode sent=$sent cpu_s_per_Mpkt=$per" >&2
	done
done
med() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
keep=$(med "${PER[capture-self]}")
excl=$(med "${PER[exclude]}")

hold root "$SOCKS" 7002 # other sockets the dumps must walk
declare -A IDLE_CPU
for mode in capture-self exclude; do
	extra=()
	[ "$mode" = capture-self ] && extra=(--capture-self)
	start_capd "$TMP/idle-$mode.log" "${extra[@]}"
	t0=$(cpu_ticks "$CPID")
	sleep "$IDLE"
	t1=$(cpu_ticks "$CPID")
	stop_capd
	IDLE_CPU[$mode]=$((t1 - t0))
done
dump_ms=$(awk -v a="${IDLE_CPU[capture-self]}" -v b="${IDLE_CPU[exclude]}" -v hz="$hz" -v n="$IDLE" \
	'BEGIN {printf "%.2f", (b - a) / hz / n * 1000}')

echo
echo "Load before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; kernel $(uname -r)"
echo
echo "| what | --capture-self | excluding own traffic | ratio |"
echo "|---|---:|---:|---:|"
echo "| capd CPU s per M ${SIZE} B packets (flood, median of $ROUNDS) | $keep | $excl | $(awk -v a="$keep" -v b="$excl" 'BEGIN {printf "%.2f", b / a}') |"
echo "| capd CPU ticks idle ${IDLE} s beside $SOCKS sockets | ${IDLE_CPU[capture-self]} | ${IDLE_CPU[exclude]} | one dump: ~${dump_ms} ms |"
