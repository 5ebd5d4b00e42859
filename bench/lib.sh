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
