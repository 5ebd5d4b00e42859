#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# storage_lock.sh - one capd per storage directory. A second capd given the
# same --storage (another ring, or another --user) exits at once with a
# message naming the first one's pid and ring, and the FIFO holds only the
# first one's records; once the first stops, the second starts. A reader in
# the ring's group cannot take the lock and keep capd from starting.
set -euo pipefail
TNAME=slock
. "$(dirname "$0")/../capd/lib.sh"
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }
command -v flock >/dev/null || { echo "SKIP: flock (util-linux) missing"; exit 77; }
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
S=$TMP/fifo

start_capd "$TMP/capd.log" --interfaces lo --storage "$S" --storage-size 64Mi --sync-interval 0s
first=$CAPD_PID

# second RING [ARGS]: a second capd on the same storage must fail at once, naming the first.
second() {
	local ring=$1 rc=0
	shift
	timeout 30 ip netns exec "$NS" "$CAPD" --ring "$ring" --ring-size 1Mi --interfaces lo \
		--storage "$S" --storage-size 64Mi "$@" 2>"$TMP/second.log" || rc=$?
	[ "$rc" != 124 ] || fail "the second capd ($ring) hung"
	[ "$rc" = 1 ] || fail "the second capd ($ring) exit $rc: $(cat "$TMP/second.log")"
	grep -q "$S is in use by another capd (pid $first, ring $RING)" "$TMP/second.log" ||
		fail "the second capd ($ring) did not name the first: $(cat "$TMP/second.log")"
	grep "in use" "$TMP/second.log"
	[ "$ring" = "$RING" ] || [ ! -e "$RAWCAP_SHM_DIR/rawcap-$ring" ] ||
		fail "the refused capd left a ring behind"
}
second other$$
second other$$ --user 64730 --group 64730
second "$RING" # the same ring name too: the lock is what refuses it

# A reader in the ring's group cannot open the lock file, so cannot hold it.
lock=$S/capd.lock
[ "$(stat -c '%a %u' "$lock")" = "600 64720" ] || fail "lock file $(stat -c '%a %u' "$lock"), want 600 64720"
setpriv --reuid=64721 --regid=64720 --clear-groups flock -n "$lock" true 2>/dev/null &&
	fail "a reader in the ring group could take the lock"

nsx "$TRAFFIC" udp 127.0.0.1 9999 200 >/dev/null
sleep 1
stop_capd "$TMP/capd.log"
n=$(timeout 30 "$PCAP" --storage "$S" --ring gone-$$ -o - 2>/dev/null | tcpdump -r - -nn 2>/dev/null | wc -l)
[ "$n" = 200 ] || fail "the FIFO holds $n packets, the first capd captured 200"

# The first is gone (also after SIGKILL, the kernel drops the lock): the next one starts.
start_capd "$TMP/capd2.log" --interfaces lo --storage "$S" --storage-size 64Mi --sync-interval 0s
kill -KILL "$CAPD_PID"
wait "$CAPD_PID" 2>/dev/null || true
start_capd "$TMP/capd3.log" --interfaces lo --storage "$S" --storage-size 64Mi --sync-interval 0s
grep -q "pid $CAPD_PID, ring $RING" "$lock" || fail "the lock file does not name the holder: $(cat "$lock")"
stop_capd "$TMP/capd3.log"
echo "PASS: a second capd on one storage directory is refused, naming the first"
