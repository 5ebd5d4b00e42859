#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# export.sh - rawcap-pcap over real packets: a tcpdump capture of known
# traffic in a private namespace is fed into a ring, exported as pcapng and
# as pcap, and compared packet by packet with the capture (tcpdump -r,
# tshark, capinfos). Also: filters, relative times, loss inside the window,
# a partly recycled window, usage errors, a full output disk (said once, as the
# output's error).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

netns_up
capture_ref "$T/ref.pcap" send_traffic 300
nref=$(count_pkts "$T/ref.pcap")
[ "$nref" -ge 300 ] || fail "reference capture has only $nref packets"
"$PKTW" "$RING" "$T/ref.pcap" >/dev/null

# The whole window, both formats: same packets, same bytes.
"$PCAP" --ring "$RING" -o "$T/all.pcapng" || fail "export pcapng: exit $?"
tshark_clean "$T/all.pcapng"
[ "$(count_pkts "$T/all.pcapng")" = "$nref" ] || fail "pcapng count != $nref"
same_packets "$T/all.pcapng" "$T/ref.pcap"
"$PCAP" --ring "$RING" --format pcap -o - >"$T/all.pcap" || fail "export pcap: exit $?"
tshark_clean "$T/all.pcap"
capinfos -t "$T/all.pcap" | grep -q "nanosecond" || fail "classic pcap is not nanosecond"
same_packets "$T/all.pcap" "$T/ref.pcap"
# A full output disk: said once, as the output's error, not the ring's; exit 1.
rc=0
"$PCAP" --ring "$RING" -o - >/dev/full 2>"$T/full.err" || rc=$?
[ $rc = 1 ] || fail "export to a full disk: exit $rc, want 1"
[ "$(grep -c "No space left" "$T/full.err")" = 1 ] && grep -q "^rawcap-pcap: write -: No space left" \
	"$T/full.err" || fail "export to a full disk said: $(cat "$T/full.err")"
# Interface block: name, nanosecond resolution, capture filter.
capinfos -I "$T/all.pcapng" >"$T/if.txt" 2>&1 || true
tshark -r "$T/all.pcapng" -T fields -e frame.interface_name -c 1 | grep -qx lo ||
	fail "interface name not in the pcapng"

# Filters: the same packets tcpdump's filter selects.
"$PCAP" --ring "$RING" --filter "udp port 9999" -o "$T/udp.pcapng"
same_packets "$T/udp.pcapng" "$T/ref.pcap" "udp port 9999"
[ "$(count_pkts "$T/udp.pcapng")" = 300 ] || fail "filter kept $(count_pkts "$T/udp.pcapng"), want 300"
set +e
"$PCAP" --ring "$RING" --filter "udp portt 1" -o "$T/bad.pcapng" 2>"$T/err"; rc=$?
set -e
[ $rc = 2 ] || fail "bad filter: exit $rc, want 2"
grep -q "bad filter" "$T/err" || fail "bad filter message: $(cat "$T/err")"

# Absolute window: the first 100 packets by time.
t100=$(tshark -r "$T/ref.pcap" -T fields -e frame.time_epoch | sed -n 101p)
t0=$(tshark -r "$T/ref.pcap" -T fields -e frame.time_epoch | sed -n 1p)
"$PCAP" --ring "$RING" --from "$t0" --to "$t100" -o "$T/first.pcapng"
[ "$(count_pkts "$T/first.pcapng")" = 100 ] || fail "window [first, 101st) has $(count_pkts "$T/first.pcapng") packets"

# Relative times, on packets stamped now.
RING2=${RING}r
"$PKTW" --now "$RING2" "$T/ref.pcap" >/dev/null
"$PCAP" --ring "$RING2" --from -5m --to now -o "$T/rel.pcapng"
[ "$(count_pkts "$T/rel.pcapng")" = "$nref" ] || fail "--from -5m missed packets"
"$PCAP" --ring "$RING2" --from -2h --to -1h -o "$T/rel0.pcapng"
[ "$(count_pkts "$T/rel0.pcapng")" = 0 ] || fail "--from -2h --to -1h is not empty"

# Loss inside the window: exit 1, said on stderr, drop count in the file.
RING3=${RING}l
"$PKTW" --loss-after 50:7 "$RING3" "$T/ref.pcap" >/dev/null
set +e
"$PCAP" --ring "$RING3" -o "$T/loss.pcapng" 2>"$T/err"; rc=$?
set -e
[ $rc = 1 ] || fail "loss in window: exit $rc, want 1"
grep -q "7 packets lost upstream" "$T/err" || fail "loss not reported: $(cat "$T/err")"
tshark -r "$T/loss.pcapng" -T fields -e frame.drop_count | grep -qx 7 ||
	fail "drop count 7 not in the pcapng"
tshark -r "$T/loss.pcapng" -T fields -e frame.comment | grep -q "7 packets lost" ||
	fail "loss comment not in the pcapng"

# A partly recycled window: a 64 KiB ring keeps only the newest packets.
RING4=${RING}s
"$PKTW" --size 65536 "$RING4" "$T/ref.pcap" >/dev/null
set +e
"$PCAP" --ring "$RING4" --from "$t0" -o "$T/part.pcapng" 2>"$T/err"; rc=$?
set -e
[ $rc = 1 ] || fail "recycled window: exit $rc, want 1"
grep -q "is missing: recycled" "$T/err" || fail "no missing-part message: $(cat "$T/err")"
npart=$(count_pkts "$T/part.pcapng")
[ "$npart" -gt 0 ] && [ "$npart" -lt "$nref" ] || fail "partial export has $npart packets"
tshark_clean "$T/part.pcapng"
# What exists is exported exactly: the newest $npart packets of the reference.
editcap -r "$T/ref.pcap" "$T/tail.pcap" "$((nref - npart + 1))-$nref"
same_packets "$T/part.pcapng" "$T/tail.pcap"

# Usage errors exit 2.
for args in "--format xml" "--from yesterday" "--follow --to now" "--bogus"; do
	set +e; "$PCAP" $args -o "$T/x" 2>/dev/null; rc=$?; set -e
	[ $rc = 2 ] || fail "rawcap-pcap $args: exit $rc, want 2"
done
# A ring that does not exist is a runtime failure.
set +e; "$PCAP" --ring "nosuch$$" -o "$T/x" 2>/dev/null; rc=$?; set -e
[ $rc = 1 ] || fail "missing ring: exit $rc, want 1"
rm -f "$RAWCAP_SHM_DIR"/rawcap-"$RING2" "$RAWCAP_SHM_DIR"/rawcap-"$RING3" "$RAWCAP_SHM_DIR"/rawcap-"$RING4"
echo "PASS: $nref packets exported byte for byte (pcapng, pcap), filters, times, loss, recycling"
