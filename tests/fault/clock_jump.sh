#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# clock_jump.sh - the clock jumps back: records 0..4999 carry timestamps
# T0+100 s.., records 5000..9999 (a restarted writer) T0+5 s.., older than
# their predecessors. A time seek must still land on a record at or after
# the asked time whose predecessor is older (a correct boundary), never
# miss records that exist at that time, and end cleanly past the newest;
# through ring+disk (the live cursor) and disk alone.
set -euo pipefail
DW=${RAWCAP_BUILD:?}/tests/diskwriter
DR=$RAWCAP_BUILD/tests/diskread
T=$(mktemp -d /tmp/rc-fclock-XXXXXX)
export RAWCAP_SHM_DIR=$T
RING=fclock$$
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
B=1790000000000000000
MS=1000000
# ts(seq) as diskwriter writes it: base + seq * step.
ts_of() { if [ "$1" -lt 5000 ]; then echo $((B + 100000 * MS + $1 * MS)); else echo $((B + $1 * MS)); fi; }

"$DW" --ring "$RING" --storage "$T/fifo" --storage-size 64Mi --ring-size 4Mi --records 5000 \
	--ts-base $((B + 100000 * MS)) --ts-step $MS >/dev/null 2>&1
"$DW" --ring "$RING" --storage "$T/fifo" --storage-size 64Mi --ring-size 4Mi --records 5000 \
	--ts-base $B --ts-step $MS >/dev/null 2>&1

# check MODE OFFSET_MS WANT: WANT is "end", "any" (a correct boundary) or a sequence number.
check() {
	local mode=$1 off=$2 want=$3 t=$((B + $2 * MS)) out seq ts prev args=()
	[ "$mode" = disk ] && args=(--no-ring)
	"$DR" --ring "$RING" --storage "$T/fifo" "${args[@]}" --from-time "$t" --list \
		>"$T/list" 2>"$T/err" || [ $? = 1 ] || fail "diskread failed: $(cat "$T/err")"
	out=$(head -1 "$T/list")
	seq=${out%% *}
	if [[ ! "$seq" =~ ^[0-9]+$ ]]; then
		[ "$want" = end ] || fail "$mode seek to +${off} ms found nothing, want $want"
		echo "$mode +${off} ms: end"
		return
	fi
	[ "$want" != end ] || fail "$mode seek to +${off} ms: seq $seq, want the end"
	ts=$(awk '{print $2}' <<<"$out")
	[ "$ts" = "$(ts_of "$seq")" ] || fail "$mode: seq $seq has ts $ts, not $(ts_of "$seq")"
	[ "$ts" -ge "$t" ] || fail "$mode seek to +${off} ms landed on an older record (seq $seq)"
	if [ "$seq" -gt 0 ]; then
		prev=$(ts_of $((seq - 1)))
		[ "$prev" -lt "$t" ] || fail "$mode seek to +${off} ms skipped seq $((seq - 1)) ($prev)"
	fi
	[ "$want" = any ] || [ "$seq" = "$want" ] || fail "$mode seek to +${off} ms: seq $seq, want $want"
	echo "$mode +${off} ms: seq $seq"
}
for mode in live disk; do
	check $mode 0 any          # before everything: the oldest
	check $mode 7500 any       # only the post-jump records are at this time (or seq 0, later)
	check $mode 100000 0       # the pre-jump records' first timestamp
	check $mode 102000 2000    # inside the pre-jump run: the ring holds nothing this late
	check $mode 104999 4999
	check $mode 105000 end     # later than every record
done
echo "PASS: time seeks across a clock jump land on correct boundaries"
