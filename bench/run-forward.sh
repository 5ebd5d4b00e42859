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
# Usage: [ROUNDS=N] bench/run-forward.sh [BUILD_DIR]   (default: build, 3 rounds)
set -euo pipefail
B=${1:-build}
BIN=$(realpath "$B/bench/forward_bench")
NS=rc-fwdbench-$$
TMP=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$TMP"' EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
echo "# $0 $*   ROUNDS=${ROUNDS:-3}"
uptime
echo "Steady state: per round the paused forwarder gets COUNT new packets (1M at 64 B, 80k at 1500 B),"
echo "resumes, and is timed from the first to the last byte the receiver reads."
echo "| packet | link  | fwd pkt/s | fwd MB/s | copy MB/s | fwd/copy time | fwd/copy-from-warm-ring time | fwd/copy CPU | fwd/copy-from-warm-ring CPU |"
echo "|-------:|-------|----------:|---------:|----------:|------:|------:|------:|------:|"
for size in 64 1500; do
	count=$([ "$size" = 64 ] && echo 1000000 || echo 80000)
	ip netns exec "$NS" "$BIN" --steady "$size" "$count"
	ip netns exec "$NS" "$BIN" --steady "$size" "$count" "$TMP/cert.pem" "$TMP/key.pem"
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
	ip netns exec "$NS" "$BIN" "$size" "$count"
	ip netns exec "$NS" "$BIN" "$size" "$count" "$TMP/cert.pem" "$TMP/key.pem"
done
echo "(MB/s: pcapng stream bytes; the copy moves the same byte count from one hot 64 KiB buffer,"
echo " the copy from the ring from a fresh mapping of the ring's pages, as a reader maps them;"
echo " best of ROUNDS=${ROUNDS:-3} interleaved rounds, order alternating; CPU: the sending thread's)"
uptime
