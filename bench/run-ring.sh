#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-ring.sh - build (Release) and run the shm ring benchmark; prints a markdown table.
#
#   bench/run-ring.sh [ring_bench options, e.g. --quick]
#
# Uses its own build directory (build-bench, or $RAWCAP_BENCH_BUILD). The
# machine's load is printed first: the figures are only as good as the
# cores the writer and readers actually got.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${RAWCAP_BENCH_BUILD:-$src/build-bench}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRAWCAP_BPF=OFF >/dev/null
cmake --build "$build" --target ring_bench -j2 >/dev/null
echo "host: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
exec "$build/bench/ring_bench" "$@"
