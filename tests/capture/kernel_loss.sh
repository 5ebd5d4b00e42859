#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kernel_loss.sh - packets the kernel drops because capd's capture blocks are
# full are said in the window they belong to: a burst into two 64 KiB blocks,
# exported at once as [T0, T1) (capd filters, so that the kernel counts
# only the datagrams as dropped). rawcap-pcap exits 1 naming the loss, the
# pcapng's drop counts say it, and exported plus lost equals what tcpdump
# (with a large buffer) captured; rawcap-forward's classic pcap stream, which
# cannot carry a drop count, exits 1 and says it on stderr.
set -euo pipefail
TNAME=kl
. "$(dirname "$0")/lib.sh"

NS2=rc-kl2-$$
mkns "$NS2"
X=kl$$a Y=kl$$b
veth_to "$NS2" "$X" "$Y" 141
sleep 0.3

start_capd "$TMP/capd.log" --ring-size 16Mi --interfaces "$X" --block-size 64Ki --block-count 2 \
	--filter "udp port 7143"
# tcpdump's own oracle with room for the burst: 1500-byte snap length, 64 MiB of TPACKET_V3.
ip netns exec "$NS" tcpdump -i "$X" -s 1500 -U -Z root -B 65536 --time-stamp-precision nano \
	-w "$TMP/x.pcap" udp port 7143 2>"$TMP/x.pcap.log" &
TD_PID=$!
PIDS+=("$TD_PID")
td_wait "$TMP/x.pcap"
T0=$(now)
ip netns exec "$NS2" python3 "$TRAFFIC" udp 198.18.141.1 7143 3000 1200 burst
# capd reads the kernel's drop counter on its one-second tick and stamps the
# loss record then: the window reaches past two ticks after the burst, so all
# the burst's drops are recorded inside it even on a slow, loaded machine.
sleep 2.3
T1=$(now)
sleep 1.2 # tcpdump's last block (TPACKET_V3, 1 s timeout) is handed over before it stops
td_stop "$TMP/x.pcap"
rc=0
"$PCAP" --ring "$RING" --from "$T0" --to "$T1" --filter 'udp port 7143' -o "$TMP/w.pcapng" \
	2>"$TMP/w.err" || rc=$?
want=$(count "$TMP/x.pcap")
got=$(count "$TMP/w.pcapng")
[ "$want" -gt 1000 ] || fail "tcpdump captured $want of 3000 datagrams"
if [ "$got" = "$want" ]; then
	stop_capd "$TMP/capd.log"
	echo "SKIP: capd kept up with the burst (no kernel drops to report)"
	exit 77
fi
[ "$rc" = 1 ] || fail "the export misses $((want - got)) packets but exited $rc: $(cat "$TMP/w.err")"
lost=$(sed -n 's/.* \([0-9]*\) packets lost upstream inside the window.*/\1/p' "$TMP/w.err")
[ -n "$lost" ] || fail "the loss is not said: $(cat "$TMP/w.err")"
drops=$(tshark -r "$TMP/w.pcapng" -T fields -e frame.drop_count 2>/dev/null |
	awk '{ s += $1 } END { print s + 0 }')
[ "$((got + lost))" = "$want" ] || fail "exported $got + lost $lost != tcpdump's $want"
# Drops noted after the window's last packet have no packet to ride on: they
# are in the interface statistics block's isb_ifdrop, which holds them all.
ifdrop=$(python3 - "$TMP/w.pcapng" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
o = total = 0
while o + 12 <= len(d):
    t, n = struct.unpack_from("<II", d, o)
    if t == 5:  # interface statistics block: options after id and timestamp
        q = o + 20
        while q + 4 <= o + n - 4:
            code, ln = struct.unpack_from("<HH", d, q)
            if code == 0:
                break
            if code == 5:  # isb_ifdrop
                total += struct.unpack_from("<Q", d, q + 4)[0]
            q += 4 + ((ln + 3) & ~3)
    o += n
print(total)
PY
)
[ "$drops" -le "$lost" ] || fail "drop counts in the pcapng say $drops, more than stderr's $lost"
[ "$ifdrop" = "$lost" ] || fail "the statistics blocks' isb_ifdrop says $ifdrop, stderr $lost"
echo "window: $got exported + $lost lost (drop counts $drops, isb_ifdrop $ifdrop) = tcpdump's $want"

port=$((20000 + RANDOM % 20000))
ip netns exec "$NS" "$FWD" --ring "$RING" --from "$T0" --to "$T1" --filter 'udp port 7143' \
	--format pcap --listen "127.0.0.1:$port" --plain 2>"$TMP/fwd.log" &
fwd=$!
PIDS+=($fwd)
sleep 0.5
fwd_fetch "$port" "$TMP/f.pcap"
kill -TERM "$fwd"
rc=0
wait "$fwd" || rc=$?
[ "$(count "$TMP/f.pcap")" = "$got" ] || fail "forward sent $(count "$TMP/f.pcap"), the export $got"
[ "$rc" = 1 ] || fail "rawcap-forward lost $lost packets upstream but exited $rc"
grep -q "$lost packets lost upstream" "$TMP/fwd.log" || fail "forward: $(cat "$TMP/fwd.log")"
echo "forward: classic pcap stream of $got packets, exit 1, $lost packets lost upstream said"
stop_capd "$TMP/capd.log"
echo PASS
