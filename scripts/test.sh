#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh - set up everything and run the whole test suite (the README's test command).
#
# Installs the Debian packages, builds, runs ctest, then builds again with
# ASan+UBSan and runs the suite once more. Run as root on Debian 12.
#   RAWCAP_SKIP_SANITIZE=1   skip the sanitizer pass (quicker local runs)
#   RAWCAP_CTEST_ARGS="..."  extra ctest arguments (e.g. -R ring)
#   RAWCAP_FUZZ_SECONDS=N    run each libFuzzer target N seconds (default 15; 0 skips)
#   RAWCAP_SKIP_TSAN=1, RAWCAP_SKIP_VALGRIND=1   skip those passes
#   RAWCAP_CTEST_JOBS=N      tests run at once (default: the number of CPUs). Every
#                            test makes its own namespaces, rings and files, so they
#                            may overlap; most of their time is spent waiting.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
tjobs=${RAWCAP_CTEST_JOBS:-$jobs}

bash scripts/install-deps.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== ctest"
# shellcheck disable=SC2086
ctest --test-dir build --output-on-failure -j"$tjobs" ${RAWCAP_CTEST_ARGS:-}

if [ "${RAWCAP_SKIP_SANITIZE:-0}" != 1 ]; then
	echo "== build (ASan+UBSan)"
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRAWCAP_SANITIZE=ON >/dev/null
	cmake --build build-asan -j"$jobs"
	echo "== ctest (ASan+UBSan)"
	# shellcheck disable=SC2086
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build-asan --output-on-failure -j"$tjobs" -LE 'nosan' ${RAWCAP_CTEST_ARGS:-}
fi

if [ "${RAWCAP_SKIP_TSAN:-0}" != 1 ]; then
	echo "== ring stress under ThreadSanitizer"
	bash scripts/tsan.sh
fi

if [ "${RAWCAP_SKIP_VALGRIND:-0}" != 1 ]; then
	echo "== valgrind memcheck over the readers"
	bash scripts/valgrind.sh build
fi

if [ "${RAWCAP_FUZZ_SECONDS:-15}" != 0 ]; then
	echo "== fuzz (libFuzzer, ${RAWCAP_FUZZ_SECONDS:-15}s per target)"
	bash scripts/fuzz.sh "${RAWCAP_FUZZ_SECONDS:-15}"
fi
