#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# everyday.sh - the README's everyday lines work as written. They are read
# from README.md between the everyday:begin/end markers (so the doc and this
# test cannot drift) and run, one by one, in a directory whose build/ is this
# build tree, against a capd in the test's own network namespace with a disk
# FIFO. Lines that never end (--follow, forward) run for a few seconds; the
# Wireshark GUI is stood in for by tshark reading the same pipe; the
# dissector is a listener on 198.18.0.2:5555 that keeps what it receives.
set -euo pipefail
TNAME=readme
. "$RAWCAP_SRC/tests/capd/lib.sh"
RING=default
export RAWCAP_SNAPSHOT_DIR=$TMP/snapshots
mkdir -p "$RAWCAP_SNAPSHOT_DIR"
W=$TMP/work
mkdir -p "$W/bin"
ln -s "$RAWCAP_BUILD" "$W/build"
# Wireshark's place in the pipe: tshark counts what it reads (a GUI cannot run here).
cat >"$W/bin/wireshark" <<'SH'
#!/bin/sh
trap '' INT # Ctrl-C stops the exporter; the reader then sees the end of the stream
exec tshark -r - -q -z io,stat,0 >"$WIRESHARK_OUT" 2>&1
SH
chmod +x "$W/bin/wireshark"
export WIRESHARK_OUT=$TMP/wireshark.out

mapfile -t LINES < <(sed -n '/<!-- everyday:begin -->/,/<!-- everyday:end -->/p' "$RAWCAP_SRC/README.md" |
	grep -v '^<!--\|^```\|^#\|^$')
[ "${#LINES[@]}" = 5 ] || fail "README.md has ${#LINES[@]} everyday lines between the markers, want 5"

nsx ip addr add 198.18.0.2/32 dev lo
start_capd "$TMP/capd.log" --interfaces lo --ring-size 4Mi --storage "$TMP/fifo" --storage-size 64Mi
# More than the 4 MiB ring holds, so --last 5m needs the disk FIFO; in bursts
# that each fit the ring, so the persister keeps up on a loaded machine (a
# burst that laps it is real loss, which the export would rightly report).
for i in $(seq 0 9); do
	nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 $((i * 2000)) >/dev/null
	sleep 0.2
done
sleep 1
# The dissector: keep every byte forwarded to it.
ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", 5555)); s.listen(1); c, _ = s.accept()
with open(sys.argv[1], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b: break
        f.write(b); f.flush()
' "$TMP/dissector.bin" &
PIDS+=($!)
sleep 0.5

run() { # run SECONDS LINE: the README line in the work dir, in capd's namespace
	local rc=0
	(cd "$W" && PATH=$W/bin:$PATH timeout -s INT "$1" ip netns exec "$NS" bash -c "$2") \
		>"$TMP/out" 2>"$TMP/err" || rc=$?
	echo "$rc"
}
count() { tcpdump -r "$1" -nn 2>/dev/null | wc -l; }

rc=$(run 60 "${LINES[0]}")
[ "$rc" = 0 ] || fail "'${LINES[0]}' exited $rc: $(cat "$TMP/err")"
n=$(count "$W/last5m.pcapng")
[ "$n" -ge 20000 ] || fail "'${LINES[0]}' exported $n packets, want the 20000 sent"
echo "ok: ${LINES[0]} -> $n packets"

(sleep 2; traffic 100) &
rc=$(run 5 "${LINES[1]}")
grep -q "Frames" "$WIRESHARK_OUT" || fail "'${LINES[1]}': the pipe's reader saw no capture: $(cat "$WIRESHARK_OUT" "$TMP/err")"
echo "ok: ${LINES[1]} -> $(grep -A3 Frames "$WIRESHARK_OUT" | tail -1)"

rc=$(run 60 "${LINES[2]}")
[ "$rc" = 0 ] || fail "'${LINES[2]}' exited $rc: $(cat "$TMP/err")"
n=$(count "$W/incident.pcapng")
[ "$n" -ge 20000 ] || fail "'${LINES[2]}' exported $n packets from the snapshot, want >= 20000"
echo "ok: ${LINES[2]} -> $n packets"

(sleep 2; traffic 100) &
rc=$(run 5 "${LINES[3]}")
[ -s "$TMP/dissector.bin" ] || fail "'${LINES[3]}': the dissector received nothing: $(cat "$TMP/err")"
echo "ok: ${LINES[3]} -> $(stat -c %s "$TMP/dissector.bin") bytes at the dissector"

rc=$(run 30 "${LINES[4]}")
[ "$rc" = 0 ] || fail "'${LINES[4]}' exited $rc: $(cat "$TMP/err")"
echo "ok: ${LINES[4]} -> $(wc -l <"$TMP/out") metadata lines (no --kubernetes here)"
stop_capd "$TMP/capd.log"
echo "PASS"
