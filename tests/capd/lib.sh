# SPDX-License-Identifier: MIT
# lib.sh - shared setup for capd's script tests: a private network namespace,
# a private shm directory, capd started and stopped, figures parsed.
# Sourced by tests/capd/*.sh; every test cleans up what it made on exit.

: "${RAWCAP_BUILD:?run through ctest, or set RAWCAP_BUILD to the build tree}"
CAPD=$RAWCAP_BUILD/capd/capd
VERIFY=$RAWCAP_BUILD/tests/capd-verify
TRAFFIC=$RAWCAP_BUILD/tests/capd-traffic

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for network namespaces and AF_PACKET"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: iproute2 missing"; exit 77; }

TNAME=${TNAME:-capd}
NS=rc-$TNAME-$$
TMP=$(mktemp -d /tmp/rc-$TNAME-XXXXXX)
export RAWCAP_SHM_DIR=$TMP/shm
mkdir -p "$RAWCAP_SHM_DIR"
chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
RING=t$$
PIDS=()
EXTRA_NS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	for p in "${EXTRA_NS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
	exit 1
}

nsx() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
nsx ip link set lo up

# start_capd LOG ARGS...: start capd in the namespace, wait until it captures.
start_capd() {
	local log=$1
	shift
	ip netns exec "$NS" "$CAPD" --ring "$RING" --ring-size 256Mi "$@" 2>"$log" &
	CAPD_PID=$!
	PIDS+=("$CAPD_PID")
	for _ in $(seq 100); do
		grep -q "capturing into ring" "$log" && return 0
		kill -0 "$CAPD_PID" 2>/dev/null || fail "capd exited during startup: $(cat "$log")"
		sleep 0.1
	done
	fail "capd did not start within 10 s"
}

# stop_capd LOG: SIGTERM, wait (bounded), check the exit status is 0.
stop_capd() {
	local log=$1 rc=0
	kill -TERM "$CAPD_PID"
	for _ in $(seq 100); do kill -0 "$CAPD_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$CAPD_PID" || rc=$?
	[ "$rc" = 0 ] || fail "capd exited $rc after SIGTERM"
	grep -q "capd: final:" "$log" || fail "capd printed no final stats"
}

# kv KEY TEXT: the value of KEY=... in a line of key=value figures.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -1; }

# start_verify OUT ARGS...: a librawcap reader following the ring until $TMP/done exists.
start_verify() {
	local out=$1
	shift
	"$VERIFY" --ring "$RING" --until-file "$TMP/done" --ready-file "$TMP/vready" "$@" \
		>"$out" 2>"$out.err" &
	VERIFY_PID=$!
	PIDS+=("$VERIFY_PID")
	for _ in $(seq 100); do [ -e "$TMP/vready" ] && return 0; sleep 0.1; done
	fail "reader did not attach: $(cat "$out.err")"
}

finish_verify() {
	touch "$TMP/done"
	wait "$VERIFY_PID" || fail "reader failed: $(cat "$1.err")"
}
