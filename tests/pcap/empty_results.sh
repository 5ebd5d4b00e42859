#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# empty_results.sh - bounds and empty results say the truth. capd on a
# quiet namespace (loopback, disk FIFO) records 20 datagrams, then nothing.
#   - `rawcap-snapshot bounds` reports the oldest record's time as oldest
#     (not the first block's newest), from the ring and from the FIFO alone;
#   - a quiet window, a window before capture began, one after now, and a
#     filter that matches nothing exit 0 with a readable empty file and say
#     on stderr what was held and what matched;
#   - a window reaching before capture began exports everything, exit 0,
#     and says which part preceded capture;
#   - a pod selection without Kubernetes metadata exits 1 and says why;
#   - a snapshot of a window longer than what is held is marked partial
#     ("before capture") in its manifest and in list, exit 0;
#   - both tools document their exit statuses in --help.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FIFO=$T/fifo
DEST=$T/snaps
netns_up
S0=$(date +%s.%N)
capd_start "$NS" "$T/capd.err" --ring "$RING" --interfaces lo --storage "$FIFO" --storage-size 64Mi \
	--sync-interval 100ms
sleep 1
T0=$(date +%s.%N)
ip netns exec "$NS" "$B/tests/capd-traffic" udp 127.0.0.1 9999 20 >/dev/null
sleep 0.5
T1=$(date +%s.%N)
sleep 1
Q0=$(date +%s.%N)
sleep 1
Q1=$(date +%s.%N)
sleep 0.5
epoch() { python3 -c "import datetime,sys; print(datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')).timestamp())" "$1"; }
lt() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$1" "$2"; }

# Bounds: the oldest record is capd's first interface description, before the datagrams.
"$PCAP" --ring "$RING" -q -o "$T/all.pcapng" --from "$T0" --to "$T1" || fail "export all"
first=$(tshark -r "$T/all.pcapng" -T fields -e frame.time_epoch 2>/dev/null | head -1)
for src in "--ring $RING" "--ring nosuch$$ --storage $FIFO"; do
	# shellcheck disable=SC2086
	"$SNAP" bounds $src >"$T/bounds.txt" || fail "bounds $src: exit $?"
	oldest=$(epoch "$(awk '/^oldest/ {print $2}' "$T/bounds.txt")")
	newest=$(epoch "$(awk '/^newest/ {print $2}' "$T/bounds.txt")")
	lt "$S0" "$oldest" && lt "$oldest" "$first" && lt "$oldest" "$newest" ||
		fail "bounds $src: oldest $oldest newest $newest; capd started at $S0, first datagram $first"
	echo "bounds $src: oldest $oldest < first datagram $first, newest $newest"
done

# expect RC PATTERN OUT ARGS...: rawcap-pcap exits RC, says PATTERN, OUT readable (tcpdump -r).
expect() {
	local want=$1 pat=$2 out=$3 rc=0 n
	shift 3
	"$PCAP" ${QUIET--q} -o "$out" "$@" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "rawcap-pcap $*: exit $rc, want $want: $(cat "$T/err")"
	grep -q -- "$pat" "$T/err" || fail "rawcap-pcap $*: stderr lacks '$pat': $(cat "$T/err")"
	n=$(tcpdump -r "$out" -nn 2>/dev/null | wc -l)
	tcpdump -r "$out" -nn >/dev/null 2>&1 || fail "$out does not open in tcpdump"
	echo "$n"
}
for fmt in pcapng pcap; do
	n=$(expect 0 "no packets in the output: the window .* holds none; held: " "$T/quiet.$fmt" \
		--ring "$RING" --format "$fmt" --from "$Q0" --to "$Q1")
	[ "$n" = 0 ] || fail "quiet window holds $n packets"
	n=$(expect 0 "(the window ends before the oldest record)" "$T/before.$fmt" --ring "$RING" \
		--format "$fmt" --from "$(python3 -c "print($S0 - 3600)")" --to "$(python3 -c "print($S0 - 3500)")")
	[ "$n" = 0 ] || fail "window before capture holds $n packets"
	n=$(expect 0 "20 packets in the window, 20 rejected by the filter" "$T/nomatch.$fmt" \
		--ring "$RING" --format "$fmt" --from "$T0" --to "$T1" --filter "udp port 7")
	[ "$n" = 0 ] || fail "a filter matching nothing gave $n packets"
done
# a note: -q (one meaning in every tool) silences it
n=$(QUIET="" expect 0 "the window ends in the future" "$T/future.pcapng" --ring "$RING" --from +1s --to +2s)
grep -q "no packets in the output" "$T/err" || fail "future window: $(cat "$T/err")"
[ "$n" = 0 ] || fail "future window holds $n packets"
# A window reaching before capture began: everything held, exit 0, the early part named.
n=$(expect 0 "precedes the oldest record held: nothing was captured then" "$T/long.pcapng" \
	--ring "$RING" --storage "$FIFO" --from -1h --filter "udp port 9999")
[ "$n" = 20 ] || fail "a window reaching before capture gave $n of 20 packets"
# A pod selection with no Kubernetes metadata to resolve it: a failure, said.
# A failure before the first packet leaves no file rawcap created; one that
# was there before is left as it was (it was emptied at the start, so a
# failed run destroyed the user's previous export), and no temporary file
# beside it; a run that succeeds replaces it (the export goes to a
# temporary file beside it, renamed over it at the end).
rc=0
"$PCAP" -q -o "$T/pod.pcapng" --ring "$RING" --from -1h --pod web 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "no Kubernetes pod metadata" "$T/err" ||
	fail "--pod without metadata: exit $rc: $(cat "$T/err")"
[ ! -e "$T/pod.pcapng" ] || fail "a failed export left $T/pod.pcapng behind"
echo old >"$T/old.pcapng"
"$PCAP" -q -o "$T/old.pcapng" --ring "$RING" --from -1h --pod web 2>"$T/err" && fail "--pod: exit 0"
grep -q "old.pcapng left as it was: no packet was exported" "$T/err" || fail "old file: $(cat "$T/err")"
[ "$(cat "$T/old.pcapng")" = old ] || fail "a failed export destroyed the file that was there"
! ls -a "$T" | grep -q '^\.old\.pcapng-' || fail "a temporary file stayed: $(ls -a "$T")"
chmod 0600 "$T/old.pcapng"
"$PCAP" -q -o "$T/old.pcapng" --ring "$RING" --from -1h --filter "udp port 9999" 2>"$T/err" ||
	fail "export over an old file: $(cat "$T/err")"
[ "$(tshark -r "$T/old.pcapng" 2>/dev/null | wc -l)" = 20 ] ||
	fail "an export over an old file did not replace it"
[ "$(stat -c %a "$T/old.pcapng")" = 600 ] || fail "the replaced file's mode: $(stat -c %a "$T/old.pcapng")"
! ls -a "$T" | grep -q '^\.old\.pcapng-' || fail "a temporary file stayed: $(ls -a "$T")"
# The replacement keeps the old file's group (its group bits on another group
# could widen who reads the packets); a file bind-mounted over the name (a
# container's volume: rename gives EBUSY) is written in place; "-o dir/" is
# refused, not made into a file "dir"; an export interrupted before its
# first packet leaves the file that was there as it was.
echo old >"$T/grp.pcapng"
chgrp nogroup "$T/grp.pcapng" && chmod 0640 "$T/grp.pcapng"
"$PCAP" -q -o "$T/grp.pcapng" --ring "$RING" --from -1h --filter "udp port 9999" 2>"$T/err" ||
	fail "export over a file of group nogroup: $(cat "$T/err")"
[ "$(stat -c %G "$T/grp.pcapng")" = nogroup ] ||
	fail "the replaced file's group: $(stat -c %G "$T/grp.pcapng"), want nogroup"
echo old >"$T/mnt-src" && : >"$T/mnt.pcapng"
unshare -m bash -c "mount --bind '$T/mnt-src' '$T/mnt.pcapng' &&
	'$PCAP' -q -o '$T/mnt.pcapng' --ring '$RING' --from -1h --filter 'udp port 9999' &&
	[ \"\$(tshark -r '$T/mnt.pcapng' 2>/dev/null | wc -l)\" = 20 ]" 2>"$T/err" ||
	fail "export over a bind-mounted file: $(cat "$T/err")"
! ls -a "$T" | grep -q '^\.mnt\.pcapng-' || fail "a temporary file stayed beside a bind-mounted file"
rc=0
"$PCAP" -q -o "$T/newdir/" --ring "$RING" --from -1h 2>"$T/err" || rc=$?
[ "$rc" != 0 ] && [ ! -e "$T/newdir" ] && grep -q "names a directory" "$T/err" ||
	fail "-o DIR/: exit $rc, $(ls -d "$T/newdir" 2>&1): $(cat "$T/err")"
echo old >"$T/int.pcapng"
"$PCAP" -q -o "$T/int.pcapng" --ring "$RING" --filter "udp port 1" --from -1s --to +30s 2>"$T/err" &
ipid=$!
sleep 1.5
kill -INT "$ipid"
wait "$ipid" || true
[ "$(cat "$T/int.pcapng")" = old ] || fail "an export interrupted before its first packet replaced the file"
grep -q "int.pcapng left as it was" "$T/err" || fail "interrupted before a packet: $(cat "$T/err")"
# A closed terminal (SIGHUP) stops it as cleanly; an export killed outright
# (SIGKILL, OOM) leaves its temporary, which the next export to the name reaps.
"$PCAP" -q -o "$T/int.pcapng" --ring "$RING" --filter "udp port 1" --from -1s --to +30s 2>"$T/err" &
ipid=$!
sleep 1.5
kill -HUP "$ipid"
wait "$ipid" || true
[ "$(cat "$T/int.pcapng")" = old ] && grep -q "int.pcapng left as it was" "$T/err" ||
	fail "SIGHUP before a packet: $(cat "$T/int.pcapng") $(cat "$T/err")"
"$PCAP" -q -o "$T/int.pcapng" --ring "$RING" --filter "udp port 1" --from -1s --to +30s 2>"$T/err" &
ipid=$!
sleep 1.5
kill -KILL "$ipid"
wait "$ipid" || true
[ "$(ls -a "$T" | grep -c '^\.int\.pcapng-')" = 1 ] || fail "no temporary left by SIGKILL: $(ls -a "$T")"
"$PCAP" -q -o "$T/int.pcapng" --ring "$RING" --from -1h --filter "udp port 9999" 2>"$T/err" ||
	fail "export after a killed one: $(cat "$T/err")"
! ls -a "$T" | grep -q '^\.int\.pcapng-' || fail "a killed export's temporary was not reaped: $(ls -a "$T")"
[ "$(tshark -r "$T/int.pcapng" 2>/dev/null | wc -l)" = 20 ] || fail "export after a killed one"
# -o /dev/stdout is standard output (a link rawcap would not follow otherwise), as tcpdump -w
"$PCAP" -q -o /dev/stdout --ring "$RING" --from -1h --filter "udp port 9999" >"$T/stdout.pcapng" 2>"$T/err" ||
	fail "-o /dev/stdout: $(cat "$T/err")"
[ "$(tshark -r "$T/stdout.pcapng" 2>/dev/null | wc -l)" = 20 ] || fail "-o /dev/stdout: $(cat "$T/err")"
# To standard output, a source that cannot be read writes nothing (as tcpdump
# does when it cannot open its interface): no header for a pipe to take as
# an empty capture. A quiet window still writes a valid empty file.
rc=0
"$PCAP" -q -o - --ring "nosuch$$" >"$T/stdout.bin" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && [ ! -s "$T/stdout.bin" ] ||
	fail "-o - with no ring: exit $rc, $(wc -c <"$T/stdout.bin") bytes written: $(cat "$T/err")"
"$PCAP" -q -o - --ring "$RING" --from "$Q0" --to "$Q1" >"$T/stdout.bin" 2>"$T/err" ||
	fail "-o - of a quiet window: $(cat "$T/err")"
capinfos -c "$T/stdout.bin" 2>/dev/null | grep -q "Number of packets: *0" ||
	fail "-o - of a quiet window is not a valid empty capture: $(capinfos "$T/stdout.bin" 2>&1 | head -3)"
# -o /dev/null is taken (the null device, as tcpdump -w /dev/null); other devices are not
"$PCAP" -q -o /dev/null --ring "$RING" --from -1h 2>"$T/err" || fail "-o /dev/null: $(cat "$T/err")"
[ -c /dev/null ] || fail "/dev/null is no longer the null device"
"$PCAP" -q -o /dev/zero --ring "$RING" --from -1h 2>"$T/err" && fail "-o /dev/zero: exit 0"
grep -q "character device.*only /dev/null is taken" "$T/err" || fail "-o /dev/zero: $(cat "$T/err")"

# Snapshots of a window longer than what is held: partial before capture, exit 0.
"$SNAP" create --ring "$RING" --storage "$FIFO" --dest "$DEST" --name long --last 1h \
	>"$T/c.out" 2>"$T/c.err" || fail "create --last 1h: exit $?: $(cat "$T/c.err")"
grep -q "long is marked partial in its manifest (before capture" "$T/c.err" || fail "create: $(cat "$T/c.err")"
"$SNAP" show long --dest "$DEST" | grep -q '"missing_reason": "before capture"' || fail "manifest lacks the reason"
"$SNAP" list --dest "$DEST" | grep -q "^long.*partial (before capture)" || fail "list: $("$SNAP" list --dest "$DEST")"
set +e
"$SNAP" create --ring "$RING" --dest "$DEST" --name pods --last 1h --pod web >"$T/c.out" 2>"$T/c.err"
rc=$?
"$SNAP" create --ring "$RING" --dest "$DEST" --name quiet --from "$Q0" --to "$Q1" >"$T/q.out" 2>"$T/q.err"
rcq=$?
set -e
[ "$rc" = 1 ] && grep -q "no Kubernetes pod metadata" "$T/c.err" || fail "create --pod: exit $rc: $(cat "$T/c.err")"
[ "$rcq" = 0 ] && grep -q "no packets in the output" "$T/q.err" || fail "quiet snapshot: exit $rcq: $(cat "$T/q.err")"

"$PCAP" --help | grep -q "^Exit status: 0 complete" || fail "rawcap-pcap --help: no exit statuses"
"$SNAP" --help | grep -q "^Exit status: 0 success" || fail "rawcap-snapshot --help: no exit statuses"
echo "PASS: bounds, empty and partial results say what was held and what matched"
