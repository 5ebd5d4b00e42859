# SPDX-License-Identifier: MIT
# lib.sh - shared by the bench/run-*.sh scripts (sourced): timing helpers.
# RUNS (default 3) is how many times best() runs a command.
RUNS=${RUNS:-3}

now() { date +%s.%N; }

# best CMD... -> seconds of the fastest of RUNS runs
best() {
	local b="" s e t
	for _ in $(seq "$RUNS"); do
		s=$(now); "$@"; e=$(now)
		t=$(echo "$e - $s" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

# timed KEY CMD... -> run CMD once, keep the fastest and slowest seconds of KEY
# in BEST[KEY] and WORST[KEY]: for interleaved rounds, where every tool runs
# once per round so a change of load hits them all alike.
declare -A BEST WORST
timed() {
	local k=$1 s e t
	shift
	s=$(now); "$@"; e=$(now)
	t=$(echo "$e - $s" | bc -l)
	if [ -z "${BEST[$k]:-}" ] || [ "$(echo "$t < ${BEST[$k]}" | bc -l)" = 1 ]; then BEST[$k]=$t; fi
	if [ -z "${WORST[$k]:-}" ] || [ "$(echo "$t > ${WORST[$k]}" | bc -l)" = 1 ]; then WORST[$k]=$t; fi
}

# bench_workdir RING: prints the machine and its load, makes the work
# directory W (under BENCH_DIR, default /var/tmp) and removes it and ring
# RING's shm file on exit.
bench_workdir() {
	BENCH_RING=$1
	echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/rc-bench.XXXXXX")
	trap 'chmod -R u+w "$W" 2>/dev/null || true; rm -rf "$W"; rm -f "/dev/shm/rawcap-$BENCH_RING"' EXIT
}

# bench_fill B RING WIN: tests/pktwriter of build B fills a disk FIFO in
# $W/fifo with WIN bytes of packets (ring RING of 64 MiB); t_from and t_to
# bound the window written; $W/empty.pcap is an empty pcap file.
bench_fill() {
	python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$W/empty.pcap"
	t_from=$(date +%s.%N)
	echo go | "$1/tests/pktwriter" --size $((64 << 20)) --storage "$W/fifo" \
		--storage-size $(($3 + $3 / 4 + (64 << 20))) --fill "$3" "$2" "$W/empty.pcap" >/dev/null
	t_to=$(date +%s.%N)
}

# wall_cpu CMD... -> "WALL CPU" seconds of one run of CMD (CPU: user + sys of
# it and its children). CMD runs in a subshell, its output discarded.
wall_cpu() {
	local r w u s
	r=$({ TIMEFORMAT='%3R %3U %3S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
	read -r w u s <<<"$r"
	echo "$w $(echo "$u + $s" | bc -l)"
}
