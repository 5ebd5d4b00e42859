#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz.sh - build every libFuzzer target with clang and run each for a bounded time.
#
# Targets are tests/fuzz/fuzz_<name>.c with seed corpora in tests/fuzz/corpus/<name>/.
# Each runs on a scratch copy of its corpus, so the repository is not modified;
# a crash fails the run and leaves the reproducer in build-fuzz/crashes/ (add it
# to the corpus once fixed: it becomes a regression input that ctest replays).
#   usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
out=build-fuzz
mkdir -p "$out/crashes"

CC=clang cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAWCAP_FUZZ=ON \
	-DRAWCAP_BPF=OFF >/dev/null
targets=()
for src in tests/fuzz/fuzz_*.c; do
	targets+=("$(basename "$src" .c)")
done
cmake --build "$out" -j"$(nproc)" --target "${targets[@]}"

failed=0
for t in "${targets[@]}"; do
	name=${t#fuzz_}
	bin=$(find "$out" -type f -name "$t" -perm -u+x | head -1)
	if [ -z "$bin" ]; then
		echo "fuzz: $t: binary not built" >&2
		failed=1
		continue
	fi
	work=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	echo "== fuzz $t for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/crashes/$t-" -print_final_stats=1 "$work" \
		>"$out/$t.log" 2>&1; then
		echo "fuzz: $t FAILED, see $out/$t.log and $out/crashes/" >&2
		tail -30 "$out/$t.log" >&2
		failed=1
	else
		grep -E "stat::number_of_executed_units|cov:" "$out/$t.log" | tail -2
	fi
	rm -rf "$work"
done
exit "$failed"
