# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# lib.sh - helpers the fault tests add to tests/capd/lib.sh (sourced after it):
# a steady UDP sender in the test's namespace and the fault reader.
FREADER=$RAWCAP_BUILD/tests/fault-reader
STAT=$RAWCAP_BUILD/readers/rawcap-stat

# start_sender FIRST PER_BATCH PAUSE: batches of test datagrams to 127.0.0.1:9999
# with rising indices from FIRST until $TMP/stop-sender exists; the indices
# used so far are in $TMP/sent (one "sent=N" line per batch).
start_sender() {
	local first=$1 per=$2 pause=$3
	(
		i=$first
		while [ ! -e "$TMP/stop-sender" ]; do
			ip netns exec "$NS" "$TRAFFIC" udp 127.0.0.1 9999 "$per" "$i" >>"$TMP/sent" 2>/dev/null || true
			i=$((i + per))
			sleep "$pause"
		done
	) &
	SENDER_PID=$!
	PIDS+=("$SENDER_PID")
}

stop_sender() {
	touch "$TMP/stop-sender"
	wait "$SENDER_PID" 2>/dev/null || true
}

sent_total() { awk -F'[= ]' '{s += $2} END {print s + 0}' "$TMP/sent" 2>/dev/null || echo 0; }

# start_freader OUT ARGS...: the fault reader following the ring until $TMP/done.
start_freader() {
	local out=$1
	shift
	rm -f "$TMP/fready"
	"$FREADER" --ring "$RING" --until-file "$TMP/done" --ready-file "$TMP/fready" "$@" \
		>"$out" 2>"$out.err" &
	FREADER_PID=$!
	PIDS+=("$FREADER_PID")
	for _ in $(seq 100); do [ -e "$TMP/fready" ] && return 0; sleep 0.1; done
	fail "fault reader did not attach: $(cat "$out.err")"
}

finish_freader() {
	touch "$TMP/done"
	local rc=0
	for _ in $(seq 300); do kill -0 "$FREADER_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$FREADER_PID" || rc=$?
	[ "$rc" = 0 ] || fail "fault reader failed ($rc): $(cat "$1.err")"
}

ring_next_seq() {
	"$STAT" --ring "$RING" --json --interval 0 | sed -n 's/.*"next_seq":\([0-9]*\).*/\1/p'
}
