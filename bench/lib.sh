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
