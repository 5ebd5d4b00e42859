#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# valgrind.sh - valgrind memcheck over the readers' scenarios: capd (not under
# valgrind: its seccomp filter and valgrind do not mix) captures test traffic
# with a disk FIFO in a private network namespace, then each reader runs
# under memcheck against that ring and storage: rawcap-stat (one-shot, JSON,
# and an interval loop), example-reader, rawcap-forward (plain TCP to a
# client, and its error paths), the disk reader, and the capd tests' reader.
# Any memcheck error or definitely/indirectly lost block fails the run.
#   usage: scripts/valgrind.sh [BUILD_DIR]   (default build; < 3 min)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "valgrind.sh: needs root (network namespace)" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" --target capd capd-traffic capd-verify diskread \
	rawcap-stat rawcap-forward example-reader >/dev/null

NS=rc-vg-$$
TMP=$(mktemp -d /tmp/rc-vg-XXXXXX)
RING=vg$$
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
VG=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite,indirect --track-fds=no --quiet)
failed=0
n=0

# vg NAME EXPECTED_RC... -- CMD...: run CMD under memcheck (in the namespace).
vg() {
	local name=$1 ok=() rc=0
	shift
	while [ "$1" != -- ]; do ok+=("$1"); shift; done
	shift
	n=$((n + 1))
	ip netns exec "$NS" "${VG[@]}" --log-file="$TMP/$name.vg" "$@" >"$TMP/$name.out" \
		2>"$TMP/$name.err" || rc=$?
	if [ "$rc" = 99 ] || grep -qE "ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]" \
		"$TMP/$name.vg" || [[ ! " ${ok[*]} " =~ " $rc " ]]; then
		echo "valgrind: $name FAILED (exit $rc)"
		tail -40 "$TMP/$name.vg" "$TMP/$name.err"
		failed=1
	else
		echo "valgrind: $name clean (exit $rc)"
	fi
}

ip netns exec "$NS" "$BUILD/capd/capd" --ring "$RING" --ring-size 64Mi --interfaces lo \
	--filter "udp port 9999" --storage "$TMP/fifo" --storage-size 64Mi --sync-interval 0s \
	2>"$TMP/capd.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q "capturing into ring" "$TMP/capd.log" && break; sleep 0.1; done
grep -q "capturing into ring" "$TMP/capd.log" || { cat "$TMP/capd.log"; exit 1; }
ip netns exec "$NS" "$BUILD/tests/capd-traffic" udp 127.0.0.1 9999 30000 0 >/dev/null
sleep 1

vg stat-once 0 -- "$BUILD/readers/rawcap-stat" --ring "$RING" --interval 0
vg stat-json 0 -- "$BUILD/readers/rawcap-stat" --ring "$RING" --json --interval 0
vg stat-loop 0 124 -- timeout -s INT 3 "$BUILD/readers/rawcap-stat" --ring "$RING" --interval 1
vg stat-badring 1 2 -- "$BUILD/readers/rawcap-stat" --ring ../etc --interval 0
vg example-reader 0 124 -- timeout -s INT 4 "$BUILD/readers/example-reader" "$RING"
vg diskread-disk 0 1 -- "$BUILD/tests/diskread" --storage "$TMP/fifo" --no-ring
vg diskread-both 0 1 -- "$BUILD/tests/diskread" --ring "$RING" --storage "$TMP/fifo"
touch "$TMP/vdone"
vg capd-verify 0 -- "$BUILD/tests/capd-verify" --ring "$RING" --port 9999 --count 30000 \
	--until-file "$TMP/vdone"
grep -q "udp_ok=30000" "$TMP/capd-verify.out" || { echo "capd-verify: $(cat "$TMP/capd-verify.out")"; failed=1; }

# rawcap-forward: replay ring + disk to a TCP client, then its error paths.
ip netns exec "$NS" python3 -c '
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 7788)); l.listen(1); open(sys.argv[1], "w").close()
c, _ = l.accept(); n = 0
while True:
    d = c.recv(1 << 20)
    if not d: break
    n += len(d)
open(sys.argv[1], "w").write(str(n))
' "$TMP/sink.bytes" &
PIDS+=($!)
for _ in $(seq 50); do [ -e "$TMP/sink.bytes" ] && break; sleep 0.1; done
mkdir -p "$TMP/ctl"
vg forward-replay 0 124 -- timeout -s INT 15 "$BUILD/readers/rawcap-forward" --ring "$RING" \
	--storage "$TMP/fifo" --from -10m --to now --connect 127.0.0.1:7788 --plain \
	--control-dir "$TMP/ctl"
sleep 0.5
echo "rawcap-forward sent $(cat "$TMP/sink.bytes" 2>/dev/null || echo ?) bytes of pcapng"
vg forward-usage 2 -- "$BUILD/readers/rawcap-forward" --ring "$RING" --bogus
vg forward-notls 1 2 -- "$BUILD/readers/rawcap-forward" --ring "$RING" --listen 127.0.0.1:7789
vg forward-badcert 1 2 -- "$BUILD/readers/rawcap-forward" --ring "$RING" --listen 127.0.0.1:7789 \
	--tls-cert /nonexistent.pem --tls-key /nonexistent.key
# rawcap-pcap and rawcap-snapshot: an export, an empty window, a snapshot and its verify.
vg pcap-export 0 -- "$BUILD/readers/rawcap-pcap" --ring "$RING" --storage "$TMP/fifo" --from -10m \
	-q -o "$TMP/x.pcapng"
vg pcap-empty 0 -- "$BUILD/readers/rawcap-pcap" --ring "$RING" --from -2h --to -1h -q -o "$TMP/e.pcapng"
vg snap-create 0 -- "$BUILD/readers/rawcap-snapshot" create --ring "$RING" --storage "$TMP/fifo" \
	--dest "$TMP/snaps" --name vg --last 10m
vg snap-verify 0 -- "$BUILD/readers/rawcap-snapshot" verify vg --dest "$TMP/snaps"
# rawcap-server under memcheck: start, serve node/pcap/snapshot requests (and
# a 404, a client that leaves mid-download), stop cleanly on SIGTERM.
cmake --build "$BUILD" -j"$(nproc)" --target rawcap-server >/dev/null
mkdir -p "$TMP/srv-snaps"
n=$((n + 1))
ip netns exec "$NS" "${VG[@]}" --log-file="$TMP/server.vg" "$BUILD/server/rawcap-server" \
	--listen 127.0.0.1:9470 --ring "$RING" --storage "$TMP/fifo" --snapshots "$TMP/srv-snaps" \
	--node vg --control-dir "$TMP/ctl" 2>"$TMP/server.err" &
SRV=$!
PIDS+=("$SRV")
srv() { ip netns exec "$NS" curl -s --max-time 60 "$@"; }
for _ in $(seq 300); do [ "$(srv http://127.0.0.1:9470/healthz 2>/dev/null)" = ok ] && break; sleep 0.1; done
srv_ok=1
srv_get() { # URL-PATH WANT-STATUS [CURL-ARGS...]
	local code
	code=$(srv -o "$TMP/srv.body" -w '%{http_code}' "${@:3}" "http://127.0.0.1:9470$1") || true
	[ "$code" = "$2" ] || { echo "rawcap-server: $1: $code, expected $2"; srv_ok=0; }
}
srv_get /v1/node 200
srv_get "/v1/pcap?from=-10m" 200
[ "$(capinfos -c -M "$TMP/srv.body" 2>/dev/null | awk '/Number of packets/ {print $NF}')" -ge 30000 ] ||
	{ echo "rawcap-server: the download lacks the 30000 datagrams"; srv_ok=0; }
srv_get "/v1/pcap?from=-10m&format=pcap&filter=udp" 200
srv_get /v1/nothing 404
srv_get "/v1/pcap?filter=((" 400
srv --limit-rate 64k --max-time 1 -o /dev/null "http://127.0.0.1:9470/v1/pcap?from=-10m" || true
srv_get /v1/snapshots 202 -X POST -d '{"name": "vgs", "last": "10m"}'
for _ in $(seq 300); do
	srv http://127.0.0.1:9470/v1/snapshots/vgs | grep -q '"in_progress"' || break
	sleep 0.2
done
srv_get /v1/snapshots/vgs 200
srv_get /v1/snapshots/vgs/pcap 200
srv_get /v1/snapshots/vgs/verify 200 -X POST
srv_get /v1/snapshots/vgs 204 -X DELETE
srv_get /metrics 200
srv_get /v1/dissection 200 # with the forwarder's status file left by forward-replay
grep -q '"forwarder":{"present":true' "$TMP/srv.body" ||
	{ echo "rawcap-server: no forwarder status: $(cat "$TMP/srv.body")"; srv_ok=0; }
srv_get /v1/dissection 200 -X PUT -d '{"enabled": false}'
kill -TERM "$SRV"
rc=0
wait "$SRV" || rc=$?
if [ "$rc" != 0 ] || [ "$srv_ok" != 1 ] ||
	grep -qE "ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]" "$TMP/server.vg"; then
	echo "valgrind: rawcap-server FAILED (exit $rc)"
	tail -40 "$TMP/server.vg" "$TMP/server.err"
	failed=1
else
	echo "valgrind: rawcap-server clean (exit $rc)"
fi

echo "valgrind: $n runs, $([ "$failed" = 0 ] && echo all clean || echo FAILURES)"
exit "$failed"
