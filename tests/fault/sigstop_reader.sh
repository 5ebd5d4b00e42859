#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sigstop_reader.sh - a reader stopped with SIGSTOP for a minute
# (FAULT_STOP_SECS) under steady traffic, then continued. capd does not
# notice: during the stop it captures every datagram sent (next_seq advances
# as fast as the sender, no kernel drops) and laps the reader many times.
# The continued reader reports its gap (lapped, and the skipped sequence
# numbers exactly equal the loss the library reports) and resumes: every
# datagram sent after it continued is delivered, byte-exact.
set -euo pipefail
TNAME=fstop
. "$(dirname "$0")/../capd/lib.sh"
. "$(dirname "$0")/lib.sh"
STOP=${FAULT_STOP_SECS:-60}
MARK=100000000

start_capd "$TMP/capd.log" --interfaces lo --duplicates ingress --ring-size 16Mi
start_freader "$TMP/reader.out" --mark $MARK
start_sender 0 200 0.02
sleep 2
# capd's rate before and during the stop, against what the sender sent.
window() { # SECS -> "captured sent"
	local s0 n0 s1 n1
	s0=$(sent_total); n0=$(ring_next_seq)
	sleep "$1"
	s1=$(sent_total); n1=$(ring_next_seq)
	echo "$((n1 - n0)) $((s1 - s0))"
}
read -r cap_a sent_a <<<"$(window 5)"
kill -STOP "$FREADER_PID"
read -r cap_b sent_b <<<"$(window "$STOP")"
kill -CONT "$FREADER_PID"
stop_sender
sleep 1
# After the continue: a marked batch the reader must get completely.
nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 $MARK >/dev/null
sleep 2
st=$("$STAT" --ring "$RING" --json --interval 0)
stop_capd "$TMP/capd.log"
finish_freader "$TMP/reader.out"
r=$(cat "$TMP/reader.out")
drops=$(sed -n 's/.*"kernel_drop":\([0-9]*\).*/\1/p' <<<"$st")
echo "before stop: captured $cap_a of $sent_a sent in 5 s"
echo "during stop: captured $cap_b of $sent_b sent in ${STOP} s (kernel_drop=$drops)"
echo "reader: $r"
[ "$sent_a" -gt 1000 ] && [ "$sent_b" -gt 10000 ] || fail "the sender hardly sent ($sent_a, $sent_b)"
# Every datagram is captured once. sent and next_seq are read at two
# instants, and capd hands a block over up to its retire timeout after the
# sender's batch: allow one batch (200) at each edge, not a share of the
# count (3% of a 5 s window is less than one batch late under load).
edge=400
awk -v c="$cap_a" -v s="$sent_a" -v e=$edge 'BEGIN { exit !(c >= s - e && c <= s + 2000) }' ||
	fail "capd captured $cap_a of $sent_a before the stop"
awk -v c="$cap_b" -v s="$sent_b" -v e=$edge 'BEGIN { exit !(c >= s - e && c <= s + 2000) }' ||
	fail "capd's rate changed while the reader was stopped: $cap_b of $sent_b"
[ "${drops:-1}" -eq 0 ] || fail "kernel drops while the reader was stopped ($drops)"
[ "$(kv lapped "$r")" -ge 1 ] || fail "the ring did not lap the stopped reader (ring too big?)"
[ "$(kv lost "$r")" -gt 0 ] || fail "the reader did not report its gap"
[ "$(kv gaps "$r")" -eq "$(kv lost "$r")" ] || fail "skipped $(kv gaps "$r") but reported $(kv lost "$r")"
[ "$(kv seq_back "$r")" -eq 0 ] && [ "$(kv udp_bad "$r")" -eq 0 ] || fail "torn or repeated records"
[ "$(kv udp_marked "$r")" -eq 2000 ] || fail "after SIGCONT got $(kv udp_marked "$r") of 2000"
echo "PASS: capd kept its rate during a ${STOP} s reader stop; the reader reported" \
	"$(kv lost "$r") lost ($(kv lapped "$r") laps) and resumed"
