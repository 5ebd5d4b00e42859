#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sandbox.sh - after setup capd cannot open /etc/shadow, cannot execve, cannot
# create a raw socket. The hidden --selftest-after-drop=MODE makes capd try
# each right after its privilege drop:
#   socket, exec        seccomp kills capd (SIGSYS, exit 159), with or without --storage
#   open, no --storage  seccomp kills it too (openat is not on the allow-list)
#   open, --storage     openat is allowed for the disk FIFO, so Landlock must
#                       refuse with EACCES: /etc/shadow and the world-readable
#                       /etc/passwd (which file modes alone would allow)
# and in every case the log says how far capd got. A capd with Landlock still
# writes its storage (the disk FIFO tests cover that in depth).
set -euo pipefail
TNAME=sbox
. "$(dirname "$0")/../capd/lib.sh"
mkdir -p "$TMP/fifo"
STORE=(--storage "$TMP/fifo" --storage-size 64Mi)

# selftest MODE WITH_STORAGE -> sets RC, LOG
selftest() {
	local args=()
	[ "$2" = yes ] && args=("${STORE[@]}")
	LOG=$TMP/selftest-$1-$2.log
	RC=0
	nsx "$CAPD" --ring "${RING}s" --ring-size 1Mi --interfaces lo "${args[@]}" \
		--selftest-after-drop="$1" 2>"$LOG" || RC=$?
	grep -q "dropped to uid" "$LOG" || fail "$1: capd did not reach the drop: $(cat "$LOG")"
	grep -q "selftest FAILED" "$LOG" && fail "$1 (storage=$2): the sandbox allowed it: $(cat "$LOG")"
	return 0
}

for st in no yes; do
	selftest socket $st
	[ "$RC" = 159 ] || fail "socket (storage=$st): want SIGSYS (159), got $RC"
	echo "raw socket, storage=$st: killed by seccomp (SIGSYS)"
	selftest exec $st
	[ "$RC" = 159 ] || fail "execve (storage=$st): want SIGSYS (159), got $RC"
	echo "execve /bin/true, storage=$st: killed by seccomp (SIGSYS)"
done

selftest open no
if [ "$RC" = 159 ]; then
	echo "open /etc/shadow, no storage: killed by seccomp (SIGSYS)"
elif [ "$RC" = 3 ] && grep -q "open(/etc/shadow) refused: Permission denied" "$LOG"; then
	echo "open /etc/shadow, no storage: refused by Landlock (sanitizer build: seccomp deny-list)"
else
	fail "open without storage: want SIGSYS or EACCES, got exit $RC: $(cat "$LOG")"
fi
selftest open yes
[ "$RC" = 3 ] || fail "open with storage: want exit 3 (refused), got $RC: $(cat "$LOG")"
grep -q "landlock (ABI" "$LOG" || fail "Landlock was not applied: $(cat "$LOG")"
grep -q "open(/etc/shadow) refused: Permission denied" "$LOG" || fail "/etc/shadow not refused with EACCES"
grep -q "open(/etc/passwd) refused: Permission denied" "$LOG" ||
	fail "/etc/passwd (world-readable) not refused: Landlock is not what stopped /etc/shadow"
echo "open /etc/shadow and /etc/passwd, storage: refused by Landlock (EACCES)"

# The same capd, running with Landlock, still creates and fills its segments.
start_capd "$TMP/capd.log" --interfaces lo "${STORE[@]}" --sync-interval 0s
grep -q "landlock (ABI" "$TMP/capd.log" || fail "no Landlock in a normal run"
nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 >/dev/null
sleep 1
stop_capd "$TMP/capd.log"
rd=$("$RAWCAP_BUILD/tests/diskread" --storage "$TMP/fifo" --no-ring)
[ "$(kv records "$rd")" -ge 2000 ] || fail "capd under Landlock did not persist: $rd"
echo "PASS: seccomp kills socket/execve/openat, Landlock confines files to ring and storage"
