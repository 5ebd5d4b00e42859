#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# proc_ctx.sh - process context metadata names the right processes: known
# TCP client and server, UDP sender and receiver, each with pid, comm and
# 5-tuple; a client in a Docker-style cgroup gets its container id; a flow
# opened before the driver started is recovered from /proc.
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init ebproc 43
ebpf_netns_pair
CID=$(printf '%064x' $((0xfeed0000 + $$)))
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$CGROOT" ] || { echo "SKIP: no cgroup2 mount"; exit 77; }
CG=$CGROOT/rawcap-test-$$/docker-$CID.scope
mkdir -p "$CG"
EXTRA_CLEANUP='rmdir "$CG" "$CGROOT/rawcap-test-$$" 2>/dev/null || true'
# Always run in the background: exec keeps $! the python process itself.
py() { exec ip netns exec "$1" python3 "$SRC/traffic.py" "${@:2}"; }

# A long-lived flow that exists before the driver starts.
py "$NSB" tcp-server --port 7003 --count 1 --size 10 --pidfile "$TMP/old_srv.pid" >/dev/null &
PIDS+=($!); wait_file "$TMP/old_srv.pid"
py "$NSA" tcp-client --host "$ADDR_B" --port 7003 --count 0 --hold 120 --pidfile "$TMP/old_cli.pid" &
PIDS+=($!); wait_file "$TMP/old_cli.pid"
sleep 0.3

"$BIN/proc_ctx_driver" -r "$RING" -t 120 >"$TMP/drv.out" 2>"$TMP/drv.err" &
DRV=$!; PIDS+=($DRV)
wait_for "$TMP/drv.out" "^ready" 15

py "$NSB" tcp-server --port 7001 --count 20 --size 1000 --pidfile "$TMP/srv.pid" --linger 1 >/dev/null &
PIDS+=($!); wait_file "$TMP/srv.pid"
py "$NSB" udp-recv --port 7002 --count 10 --pidfile "$TMP/urecv.pid" --linger 1 &
PIDS+=($!); wait_file "$TMP/urecv.pid"
py "$NSA" tcp-client --host "$ADDR_B" --port 7001 --count 20 --size 1000 --go "$TMP/go" \
	--pidfile "$TMP/cli.pid" --linger 1 &
PIDS+=($!); wait_file "$TMP/cli.pid"
echo "$(cat "$TMP/cli.pid")" >"$CG/cgroup.procs"
py "$NSA" udp-send --host "$ADDR_B" --port 7002 --count 10 --size 100 --go "$TMP/go" \
	--pidfile "$TMP/usend.pid" --linger 1 &
PIDS+=($!); wait_file "$TMP/usend.pid"
for f in srv urecv cli usend old_cli; do
	eval "PID_$f=$(cat "$TMP/$f.pid")"
	eval "COMM_$f=$(cat "/proc/$(cat "$TMP/$f.pid")/comm")"
done
touch "$TMP/go"
sleep 2.5
kill -TERM $DRV; wait $DRV || fail "driver failed: $(cat "$TMP/drv.err")"
cat "$TMP/drv.out"
"$BIN/ebpf_ring_dump" "$RING" >"$TMP/ring.txt"

# expect "DESCRIPTION" key=value...: one META record must carry all of them.
expect() {
	local what=$1; shift
	local re=""
	awk -v n="$#" 'BEGIN { split("", want) }
		NR == FNR { want[FNR] = $0; next }
		/^META / { ok = 1; for (i = 1; i <= n; i++) if (index(" " $0 " ", " " want[i] " ") == 0) ok = 0;
			if (ok) { found = 1; exit } }
		END { exit !found }' <(printf '%s\n' "$@") "$TMP/ring.txt" ||
		{ grep "^META" "$TMP/ring.txt" | grep -E "198\.18\.43" | head -20 >&2;
		  fail "$what: no metadata record with $*"; }
	echo "ok: $what"
}
CLI_SPORT=$(sed -n "/^META .*event=connect .*daddr=$ADDR_B dport=7001 .*pid=$PID_cli /{s/.* sport=\([0-9]*\) .*/\1/p;q}" "$TMP/ring.txt")
[ -n "$CLI_SPORT" ] || fail "no connect record for the TCP client (pid $PID_cli)"
expect "TCP connect" event=connect proto=tcp saddr=$ADDR_A sport=$CLI_SPORT daddr=$ADDR_B dport=7001 \
	pid=$PID_cli comm=$COMM_cli container_id=$CID runtime=docker
expect "TCP accept" event=accept proto=tcp saddr=$ADDR_B sport=7001 daddr=$ADDR_A dport=$CLI_SPORT \
	pid=$PID_srv comm=$COMM_srv
expect "UDP send" event=udp_send proto=udp daddr=$ADDR_B dport=7002 pid=$PID_usend comm=$COMM_usend
expect "UDP receive" event=udp_recv proto=udp sport=7002 daddr=$ADDR_A pid=$PID_urecv comm=$COMM_urecv
expect "socket creation" event=create proto=tcp pid=$PID_cli comm=$COMM_cli
expect "existing flow" event=existing proto=tcp saddr=$ADDR_A daddr=$ADDR_B dport=7003 \
	pid=$PID_old_cli comm=$COMM_old_cli
grep -q "^META flags=6 v=1 kind=process" "$TMP/ring.txt" || fail "records lack flags=RAWCAP_META_PROCESS / v=1"
CONNECT=$(grep "event=connect .*pid=$PID_cli " "$TMP/ring.txt")
grep -q "cookie=[1-9]" <<<"$CONNECT" || fail "connect has no socket cookie"
grep -q "cgroup=/rawcap-test-$$/docker-$CID.scope" <<<"$CONNECT" || fail "connect record lacks the cgroup path"
echo "PASS: process context names the right processes and flows"
