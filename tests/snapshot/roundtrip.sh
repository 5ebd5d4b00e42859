#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# roundtrip.sh - a snapshot outlives the FIFO: known traffic in a private
# namespace, recorded by tcpdump, goes into a ring and a disk FIFO; the
# window is snapshotted; then more than twice the FIFO's size is pushed
# through so the window is recycled; the snapshot still exports, as pcapng
# and as pcap, exactly the packets tcpdump recorded (tshark, capinfos,
# tcpdump -r). Also: a filtered snapshot, a partly recycled window.
#
# The ring and FIFO are fed by tests/pcap/pktwriter (a capd stand-in). To use
# capd: start it on the namespace's lo with --ring "$RING" --storage "$FIFO"
# --storage-size 4Mi before send_traffic, and replace the fill step with
# sending 8 MiB of traffic.
set -euo pipefail
. "$(dirname "$0")/../pcap/lib.sh"

FIFO=$T/fifo
DEST=$T/snaps
FIFO_SIZE=$((4 << 20))

netns_up
capture_ref "$T/ref.pcap" send_traffic 300
nref=$(count_pkts "$T/ref.pcap")
t0=$(tshark -r "$T/ref.pcap" -T fields -e frame.time_epoch 2>/dev/null | sed -n 1p)
tl=$(tshark -r "$T/ref.pcap" -T fields -e frame.time_epoch 2>/dev/null | sed -n '$p')
tend=$(python3 -c "print('%.6f' % ($tl + 0.000001))")

# A 64 KiB ring: the window is read back from the disk FIFO.
coproc PW { "$PKTW" --size 65536 --storage "$FIFO" --storage-size $FIFO_SIZE \
	--fill $((FIFO_SIZE * 5 / 2)) "$RING" "$T/ref.pcap"; }
PIDS+=($PW_PID)
read -r -t 30 line <&"${PW[0]}" || fail "pktwriter did not start"
read -r -t 30 line <&"${PW[0]}" && [ "$line" = ready ] || fail "pktwriter: $line"

"$SNAP" bounds --ring "$RING" --storage "$FIFO" >"$T/bounds.txt" || fail "bounds failed"
grep -q '^oldest ' "$T/bounds.txt" || fail "bounds: $(cat "$T/bounds.txt")"

"$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" --name win \
	--from "$t0" --to "$tend" >"$T/create.out" 2>"$T/create.err" ||
	fail "create: exit $?: $(cat "$T/create.err")"
"$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" --name udp-only \
	--from "$t0" --to "$tend" --filter "udp port 9999" 2>"$T/create.err" >/dev/null ||
	fail "create filtered: $(cat "$T/create.err")"
# The digests taken in the copying thread (the fallback when no hashing thread starts).
RAWCAP_SNAPSHOT_HASH_INLINE=1 "$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" \
	--name win-inline --from "$t0" --to "$tend" >/dev/null 2>"$T/create.err" ||
	fail "create with the hash inline: $(cat "$T/create.err")"

# Recycle the window: 2.5x the FIFO's size of newer packets.
echo go >&"${PW[1]}"
read -r -t 60 line <&"${PW[0]}" && [ "$line" = filled ] || fail "fill: $line"
set +e
"$PCAP" --ring "$RING" --storage "$FIFO" --from "$t0" --to "$tend" -o "$T/gone.pcapng" 2>"$T/err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "is missing" "$T/err" || fail "window not recycled (exit $rc): $(cat "$T/err")"

"$SNAP" verify --dest "$DEST" win | grep -q "win: OK" || fail "verify win"
"$SNAP" verify --dest "$DEST" win-inline | grep -q "win-inline: OK" || fail "verify win-inline"
"$SNAP" list --dest "$DEST" | grep -q "^win" || fail "list lacks win"
"$SNAP" show --dest "$DEST" win | grep -q "\"packets\": $nref," || fail "manifest packet count"

# The snapshot exports exactly what tcpdump recorded, in both formats.
"$PCAP" --snapshot "$DEST/win" -o "$T/snap.pcapng" || fail "export snapshot pcapng: exit $?"
"$PCAP" --snapshot "$DEST/win" --format pcap -o "$T/snap.pcap" || fail "export snapshot pcap: exit $?"
for f in "$T/snap.pcapng" "$T/snap.pcap"; do
	tshark_clean "$f"
	[ "$(count_pkts "$f")" = "$nref" ] || fail "$f: $(count_pkts "$f") packets, want $nref"
	same_packets "$f" "$T/ref.pcap"
done
"$PCAP" --snapshot "$DEST/win-inline" --format pcap -o "$T/inline.pcap" || fail "export win-inline"
cmp -s "$T/snap.pcap" "$T/inline.pcap" || fail "win-inline exports other bytes than win"
# The filtered one: the packets tcpdump's own filter selects, no loss reported.
"$PCAP" --snapshot "$DEST/udp-only" -o "$T/udp.pcapng" 2>"$T/err" || fail "filtered: $(cat "$T/err")"
same_packets "$T/udp.pcapng" "$T/ref.pcap" "udp port 9999"

# A window that is now only partly held: recorded as partial, exit 1.
now=$(date +%s.%N)
set +e
"$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" --name partial \
	--from "$t0" --to "$now" >/dev/null 2>"$T/err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "partial" "$T/err" || fail "partial window: exit $rc: $(cat "$T/err")"
"$SNAP" show --dest "$DEST" partial | grep -q '"partial": true' || fail "manifest not partial"
set +e
"$PCAP" --snapshot "$DEST/partial" -o "$T/p.pcapng" 2>"$T/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "is missing" "$T/err" || fail "export of partial: exit $rc: $(cat "$T/err")"
echo "PASS: snapshot of $nref packets survived recycling; pcapng and pcap match tcpdump byte for byte"
