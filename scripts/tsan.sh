#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tsan.sh - build the ring and its tests with ThreadSanitizer (build-tsan) and
# run the ring stress test (one writer, fast/slow/lapped reader processes) and
# the ring unit tests under it. Bounded: RAWCAP_STRESS_RECORDS (default 10 M,
# the ctest default: ~30 s under TSan on 2 cores) scales the stress test.
#
# TSan sees each process's own threads and memory accesses. Suppressions, if
# ever needed for the ring's intended optimistic reads (a reader copies a
# record the writer may be overwriting, then validates it with the
# sequence/position check; see shm/ring_reader.h), go in tests/tsan.supp with
# a comment each; a report anywhere else is a real race and fails the run.
#   usage: scripts/tsan.sh [BUILD_DIR]   (default build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-tsan}
tests=(stress_run stress_writer stress_reader test_ring test_ring_proc)

# clang: gcc refuses atomic_thread_fence under -fsanitize=thread (-Werror=tsan).
# TSan does not model stand-alone fences either (common/atomics.h uses them for
# the seqlock-style index), which is what tests/tsan.supp would be for.
CC=${CC:-clang} cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAWCAP_TSAN=ON \
	-DRAWCAP_BPF=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target "${tests[@]}"

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
export RAWCAP_STRESS_RECORDS=${RAWCAP_STRESS_RECORDS:-10000000}
echo "== TSan: ring_stress ($RAWCAP_STRESS_RECORDS records), test_ring, test_ring_proc"
start=$SECONDS
ctest --test-dir "$out" --output-on-failure -R '^(ring_stress|test_ring|test_ring_proc)$' --timeout 300
echo "== TSan: clean ($((SECONDS - start)) s)"
