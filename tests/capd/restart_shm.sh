#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# restart_shm.sh - capd restarts inside a /dev/shm sized as the Helm chart sizes
# the pod's (an emptyDir of ringSize + shmOverhead, values.yaml), as kubelet
# restarts it: after SIGTERM, after SIGKILL (an OOM kill is one), and with a
# reader attached throughout. Same --ring-size: the ring is continued in place,
# no second ring's room is needed, and the reader reads on. Another size: the
# old ring is retired and removed; the reader lets go of it once it has read
# it, so the new one fits. Across all of it the reader misses nothing, and the
# disk FIFO holds every packet exactly once (the previous ring's tail is
# persisted at restart, never twice).
set -euo pipefail
TNAME=restartshm
. "$(dirname "$0")/lib.sh"
N=2000
RING_MI=32
overhead=$(python3 -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["tap"]["capture"]["raw"]["shmOverhead"])' \
	"$RAWCAP_SRC/helm/rawcap/values.yaml")
[[ $overhead == *Mi ]] || fail "chart shmOverhead '$overhead' is not in Mi"
limit=$((RING_MI + ${overhead%Mi}))
mount -t tmpfs -o "size=${limit}m,mode=1777" "rc-$TNAME-$$" "$RAWCAP_SHM_DIR" ||
	{ echo "SKIP: cannot mount a tmpfs"; exit 77; }
stop_all_then_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	umount "$RAWCAP_SHM_DIR" 2>/dev/null || true
	cleanup
}
trap stop_all_then_cleanup EXIT
echo "/dev/shm stand-in: tmpfs of ${limit}Mi (ring ${RING_MI}Mi + chart shmOverhead $overhead)"

capd_run() { # capd_run LOG SIZE_MI
	start_capd "$1" --ring-size "${2}Mi" --interfaces lo --filter "udp port 9999" \
		--storage "$TMP/fifo" --storage-size 256Mi
}
send() { nsx "$TRAFFIC" udp 127.0.0.1 9999 $N "$1" >/dev/null; sleep 1; }

capd_run "$TMP/capd1.log" $RING_MI
start_verify "$TMP/verify.out" --port 9999 --count $((4 * N))
send 0
stop_capd "$TMP/capd1.log"

capd_run "$TMP/capd2.log" $RING_MI
grep -q "continuing after generation .* in place" "$TMP/capd2.log" ||
	fail "capd did not continue the ring in place after SIGTERM"
send $N
kill -KILL "$CAPD_PID"
wait "$CAPD_PID" 2>/dev/null || true

capd_run "$TMP/capd3.log" $RING_MI
grep -q "continuing after generation .* in place" "$TMP/capd3.log" ||
	fail "capd did not continue the ring in place after SIGKILL"
send $((2 * N))
stop_capd "$TMP/capd3.log"
df -m "$RAWCAP_SHM_DIR" | tail -1

# Another size: the old object must go, and the attached reader must let it go.
capd_run "$TMP/capd4.log" $((RING_MI / 2))
grep -q "replacing it" "$TMP/capd4.log" || fail "capd did not replace a ring of another size"
send $((3 * N))
stop_capd "$TMP/capd4.log"
[ "$(ls "$RAWCAP_SHM_DIR" | wc -l)" = 1 ] || fail "objects left in shm: $(ls "$RAWCAP_SHM_DIR")"

finish_verify "$TMP/verify.out"
v=$(cat "$TMP/verify.out")
echo "reader: $v"
[ "$(kv udp_ok "$v")" = $((4 * N)) ] || fail "the reader missed datagrams across the restarts"
[ "$(kv udp_dup "$v")" = 0 ] || fail "the reader got duplicates"
[ "$(kv records_lost "$v")" = 0 ] || fail "sequence gap across the restarts"
[ "$(kv generations "$v")" = 4 ] || fail "the reader counted $(kv generations "$v") generations, want 4"

# The disk FIFO alone (no ring): every datagram once, counted by tcpdump.
rm -f "$RAWCAP_SHM_DIR"/rawcap-*
"$RAWCAP_BUILD/readers/rawcap-pcap" --storage "$TMP/fifo" -o "$TMP/disk.pcapng" -q ||
	fail "exporting the disk FIFO failed"
on_disk=$(tcpdump -nr "$TMP/disk.pcapng" udp port 9999 2>/dev/null | wc -l)
echo "disk FIFO: $on_disk datagrams"
[ "$on_disk" = $((4 * N)) ] || fail "disk FIFO holds $on_disk datagrams, want $((4 * N)) (each once)"
echo "PASS"
