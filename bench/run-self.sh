#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-self.sh - what leaving rawcap's own traffic out costs capd; prints markdown.
#
#  1. Per packet: self_bench times capd_self_skip() against the copy into the
#     ring that capd makes for every packet anyway (ratios, same process).
#  2. Per socket dump: capd runs IDLE seconds in a namespace holding SOCKS
#     other TCP sockets and one connection of its user; its final stats give
#     what the last NETLINK_SOCK_DIAG dump cost the loop and how many ran.
#
#   bench/run-self.sh [BUILD_DIR]    (default ./build); IDLE=10 SOCKS=10000
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CAPD=$BUILD/capd/capd
BENCH=$BUILD/bench/self_bench
IDLE=${IDLE:-10}
SOCKS=${SOCKS:-10000}
NS=rc-bself-$$
TMP=$(mktemp -d /tmp/rc-bself-XXXXXX)
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
PIDS=()

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
for f in "$CAPD" "$BENCH"; do [ -x "$f" ] || { echo "missing $f (build first)" >&2; exit 2; }; done
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

# hold USER N PORT: N TCP sockets (N/2 connections) and a listener on PORT, owned by USER.
hold() {
	ip netns exec "$NS" setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups \
		/usr/bin/python3 -c '
import resource, socket, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
l = socket.socket(); l.bind(("127.0.0.1", port)); l.listen(4096)
keep = []
for _ in range(n // 2):
    keep.append(socket.create_connection(("127.0.0.1", port)))
    keep.append(l.accept()[0])
print("ready", flush=True)
time.sleep(3600)' "$2" "$3" >"$TMP/hold-$3" &
	PIDS+=($!)
	for _ in $(seq 600); do grep -q ready "$TMP/hold-$3" 2>/dev/null && return; sleep 0.1; done
	echo "could not open $2 sockets" >&2
	exit 1
}

echo "Load before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; kernel $(uname -r)"
echo
echo "Per packet (64 B Ethernet/IPv4/UDP, CPU time, best of 5):"
echo
"$BENCH"

hold nobody 2 7001
hold root "$SOCKS" 7002
ip netns exec "$NS" "$CAPD" --ring bself$$ --ring-size 16Mi --interfaces lo --user nobody \
	2>"$TMP/capd.log" &
CPID=$!
PIDS+=($CPID)
sleep "$IDLE"
kill -INT "$CPID"
wait "$CPID" || true
us=$(tr ' ' '\n' <"$TMP/capd.log" | sed -n 's/^self_dump_us=//p' | tail -1)
n=$(tr ' ' '\n' <"$TMP/capd.log" | sed -n 's/^self_dumps=//p' | tail -1)
echo
echo "Socket dumps beside $SOCKS other sockets: $n in ${IDLE} s, the last cost capd's loop ${us} us" \
	"($(awk -v u="$us" -v s="$SOCKS" 'BEGIN {printf "%.2f", u / s}') us per socket)"
