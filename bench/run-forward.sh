#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-forward.sh - rawcap-forward throughput to a local sink over loopback,
# 64 B and 1500 B packets, plain TCP and TLS, each beside a plain copy of
# the same bytes over the same kind of socket. Runs in its own network
# namespace (loopback only). Two tables: the steady state (one live
# forwarder and receiver attached for the whole run; the ring wrapped once
# before the timed rounds, so its mapping is warm, as in a forwarder that
# runs for days) and cold (every round replays a window through a new
# mapping of the ring, paying the first touch of its pages).
# SHM_HUGE=within_size (any tmpfs huge= value) puts the ring on a tmpfs of
# the benchmark's own, mounted with that huge= option over /dev/shm inside
# its mount namespace (ip netns exec makes one per command): the ring on
# transparent huge pages without touching the node's /dev/shm or sysfs.
# Usage: [ROUNDS=N] [SHM_HUGE=MODE] bench/run-forward.sh [BUILD_DIR]   (default: build, 3 rounds)
set -euo pipefail
B=${1:-build}
BIN=$(realpath "$B/bench/forward_bench")
NS=rc-fwdbench-$$
TMP=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$TMP"' EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
# bench ARGS...: forward_bench in the namespace, on a huge-page tmpfs with SHM_HUGE.
bench() {
	if [ -z "${SHM_HUGE:-}" ]; then
		ip netns exec "$NS" "$BIN" "$@"
		return
	fi
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$NS" sh -c 'mount -t tmpfs -o "huge=$0,size=1g,mode=1777" rc-fwdbench /dev/shm &&
		exec "$@"' "$SHM_HUGE" "$BIN" "$@"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
echo "# $0 $*   ROUNDS=${ROUNDS:-3} ring on ${SHM_HUGE:+a private tmpfs, huge=}${SHM_HUGE:-/dev/shm}"
uptime
echo "Steady state: per round the paused forwarder gets COUNT new packets (1M at 64 B, 80k at 1500 B),"
echo "resumes, and is timed from the first to the last byte the receiver reads."
echo "| packet | link  | fwd pkt/s | fwd MB/s | copy MB/s | fwd/copy time | fwd/copy-from-warm-ring time | fwd/copy CPU | fwd/copy-from-warm-ring CPU |"
echo "|-------:|-------|----------:|---------:|----------:|------:|------:|------:|------:|"
for size in 64 1500; do
	count=$([ "$size" = 64 ] && echo 1000000 || echo 80000)
	bench --steady "$size" "$count"
	bench --steady "$size" "$count" "$TMP/cert.pem" "$TMP/key.pem"
done
echo "(MB/s: pcapng stream bytes; the copies move the same byte count over a new connection, from one"
echo " hot 64 KiB buffer and from a mapping of the ring read once before, timed first to last byte;"
echo " best of ROUNDS=${ROUNDS:-3} interleaved rounds, order alternating; CPU: the sending thread's)"
uptime
echo
echo "Cold: every round forwards a window of COUNT packets through a new mapping of the ring."
echo "| packet | link  | fwd pkt/s | fwd MB/s | copy MB/s | fwd/copy time | fwd/copy-from-ring time | fwd/copy CPU |"
echo "|-------:|-------|----------:|---------:|----------:|------:|------:|------:|"
for size in 64 1500; do
	count=$([ "$size" = 64 ] && echo 1000000 || echo 150000)
	bench "$size" "$count"
	bench "$size" "$count" "$TMP/cert.pem" "$TMP/key.pem"
done
echo "(MB/s: pcapng stream bytes; the copy moves the same byte count from one hot 64 KiB buffer,"
echo " the copy from the ring from a fresh mapping of the ring's pages, as a reader maps them;"
echo " best of ROUNDS=${ROUNDS:-3} interleaved rounds, order alternating; CPU: the sending thread's)"
uptime
