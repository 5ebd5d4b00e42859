#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-capd.sh - set up everything and run capd on a sensible default (the README's first command).
#
# Installs the Debian packages, builds a release build, and runs capd in the
# foreground: every interface, ring "default" of 256 MiB, a 1 GiB disk FIFO in
# /var/lib/rawcap/fifo, metrics on 127.0.0.1:9464. Extra arguments go to capd.
# Stop it with Ctrl-C; read it meanwhile with e.g. `build/readers/rawcap-stat`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
mkdir -p /var/lib/rawcap/fifo
exec build/capd/capd --storage /var/lib/rawcap/fifo --storage-size 1Gi \
	--stats-listen 127.0.0.1:9464 "$@"
