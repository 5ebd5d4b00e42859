# SPDX-License-Identifier: MIT
# lib.sh - the one shell library of the script tests. Source it after
# `set -euo pipefail` (an area's own lib.sh sources it and adds only what is
# its own):
#
#   rc_need_root                   skip (exit 77) unless root
#   rc_need TOOL...                skip (exit 77) unless every TOOL is installed
#   rc_tmp NAME                    TMP: a private directory, removed on exit, with
#                                  a private shm directory in it (RAWCAP_SHM_DIR)
#   PIDS+=(PID)                    killed on exit
#   rc_netns_add NS                a namespace with lo up, deleted on exit
#   rc_on_exit                     define it to clean up more on exit (runs first)
#   fail MSG...                    say why, show the tail of each log in TMP, exit 1
#   wait_for FILE PATTERN [SECS]   until FILE holds PATTERN (default 10 s), else fail
#   wait_until SECS CMD...         until CMD succeeds, polled every 50 ms, else fail
#   capd_start NS LOG ARGS...      capd in NS (CAPD_PID is capd), returns once it
#                                  captures (CAPD_START_SECS, default 15)
#   capd_stop LOG                  SIGTERM, bounded wait, exit status 0, final stats line
#
# Readiness is polled (every 50 ms, bounded), never slept for a fixed time.
# KEEP=DIR keeps a copy of TMP when a test fails.

B=${RAWCAP_BUILD:?run through ctest, or set RAWCAP_BUILD to the build tree}
CAPD=$B/capd/capd
PIDS=()
RC_NETNS=()
TMP=

rc_need_root() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for namespaces and AF_PACKET"; exit 77; }
}

rc_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
	done
}

rc_cleanup() {
	local p
	if declare -F rc_on_exit >/dev/null; then rc_on_exit || true; fi
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for p in "${RC_NETNS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
	if [ -n "$TMP" ]; then
		chmod -R u+w "$TMP" 2>/dev/null || true
		rm -rf "$TMP"
	fi
}
trap rc_cleanup EXIT

# rc_tmp NAME: readers of the shm directory need to reach it (0755).
rc_tmp() {
	TMP=$(mktemp -d "/tmp/rc-$1.XXXXXX")
	export RAWCAP_SHM_DIR=$TMP/shm
	mkdir -p "$RAWCAP_SHM_DIR"
	chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
}

fail() {
	local f
	echo "FAIL: $*" >&2
	if [ -n "$TMP" ]; then
		for f in "$TMP"/*.err "$TMP"/*.log; do
			[ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
		done
		[ -z "${KEEP:-}" ] || cp -a "$TMP" "$KEEP"
	fi
	exit 1
}

rc_netns_add() {
	ip netns add "$1"
	RC_NETNS+=("$1")
	ip -n "$1" link set lo up
}

wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "timed out waiting for '$2' in $1: $(tail -3 "$1" 2>/dev/null)"
}

wait_until() {
	local i n=$(($1 * 20))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	fail "timed out waiting for: $*"
}

# capd_start NS LOG ARGS...: started directly, so that $! is capd.
capd_start() {
	local ns=$1 log=$2 i
	shift 2
	ip netns exec "$ns" "$CAPD" "$@" 2>"$log" &
	CAPD_PID=$!
	PIDS+=("$CAPD_PID")
	for ((i = 0; i < ${CAPD_START_SECS:-15} * 20; i++)); do
		grep -q "capturing into ring" "$log" && return 0
		kill -0 "$CAPD_PID" 2>/dev/null || fail "capd exited during startup: $(tail -5 "$log")"
		sleep 0.05
	done
	fail "capd did not start within ${CAPD_START_SECS:-15} s"
}

capd_stop() {
	local log=$1 rc=0 i
	kill -TERM "$CAPD_PID"
	for ((i = 0; i < 200; i++)); do kill -0 "$CAPD_PID" 2>/dev/null || break; sleep 0.05; done
	wait "$CAPD_PID" || rc=$?
	[ "$rc" = 0 ] || fail "capd exited $rc after SIGTERM"
	grep -q "capd: final:" "$log" || fail "capd printed no final stats"
}
. "$(dirname "${BASH_SOURCE[0]}")/tcpdump.sh" # rc_tcpdump_stop
