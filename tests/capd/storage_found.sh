#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# storage_found.sh - readers find the disk FIFO on their own: capd records its
# --storage directory in the ring header, so an export of a window older than
# the ring without --storage is the same file as the one with it, and holds
# every packet sent (more than the ring alone can).
set -euo pipefail
TNAME=stfound
. "$(dirname "$0")/lib.sh"
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
FIFO=$TMP/fifo
N=30000 # UDP packets of ~660 bytes: more than twice what an 8 MiB ring holds

start_capd "$TMP/capd.log" --interfaces lo --storage "$FIFO" --storage-size 64Mi \
	--ring-size 8Mi --sync-interval 0s --duplicates ingress
T0=$(date +%s)
for i in 0 1 2 3 4; do # in bursts the persister keeps up with on a busy machine
	nsx "$TRAFFIC" udp 127.0.0.1 9999 $((N / 5)) $((i * N / 5)) >/dev/null
	sleep 0.3
done
sleep 1
stop_capd "$TMP/capd.log"
T1=$(($(date +%s) + 1))
W=(--ring "$RING" --from "$((T0 - 1))" --to "$T1" --filter "udp port 9999")
"$PCAP" "${W[@]}" -q -o "$TMP/found.pcapng" || fail "export without --storage: exit $?"
"$PCAP" "${W[@]}" --storage "$FIFO" -q -o "$TMP/given.pcapng" || fail "export with --storage: exit $?"
n=$(tcpdump -r "$TMP/found.pcapng" -nn 2>/dev/null | wc -l)
echo "without --storage: $n packets; with it: $(tcpdump -r "$TMP/given.pcapng" -nn 2>/dev/null | wc -l)"
[ "$n" -eq "$N" ] || fail "without --storage the export holds $n of $N packets"
cmp "$TMP/found.pcapng" "$TMP/given.pcapng" || fail "the exports with and without --storage differ"
# --last, as the README says it: the window reaches back past the ring into the disk FIFO.
"$PCAP" --ring "$RING" --last 5m --filter "udp port 9999" -q -o "$TMP/last.pcapng" ||
	fail "--last 5m without --storage: exit $?"
n=$(tcpdump -r "$TMP/last.pcapng" -nn 2>/dev/null | wc -l)
[ "$n" -eq "$N" ] || fail "--last 5m holds $n of $N packets"
echo "PASS"
