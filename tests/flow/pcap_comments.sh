#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pcap_comments.sh - process context reaches exported packets: capd
# --process-context captures a veth while known processes talk across it (a
# TCP client in a Docker-style cgroup and its server, a UDP sender and its
# receiver, each started under its own command name); rawcap-pcap exports the
# window, and tshark must find on every packet of each flow a comment naming
# both processes: "src pid=<sender> comm=<name> [container=<id>]; dst pid=...".
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init flowpc 49
command -v tshark >/dev/null || { echo "SKIP: needs tshark"; exit 77; }
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$CGROOT" ] || { echo "SKIP: no cgroup2 mount"; exit 77; }
ebpf_netns_pair
CAPD=$RAWCAP_BUILD/capd/capd
PCAP=$RAWCAP_BUILD/readers/rawcap-pcap
CID=$(printf 'f10e%08x%052x' $$ $$) # a distinct short id: the first 12 digits
CG=$CGROOT/rawcap-flow-$$/docker-$CID.scope
mkdir -p "$CG"
EXTRA_CLEANUP='rmdir "$CG" "$CGROOT/rawcap-flow-$$" 2>/dev/null || true'
# Each role runs python3 under its own name, so that comm tells them apart.
PY3=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))') # not a shim
for role in cli srv usend urecv; do
	ln -s "$PY3" "$TMP/rcf-$role"
done
# run NS ROLE ARGS...: traffic.py as ROLE in NS (in the background: exec keeps $! the process).
run() { exec ip netns exec "$1" "$TMP/rcf-$2" "$SRC/traffic.py" "${@:3}" --pidfile "$TMP/$2.pid"; }

START=$(date +%s.%N)
# nsenter, not ip netns exec: capd needs the host's cgroup2 mount, which
# ip netns exec hides behind a fresh /sys, to name containers.
nsenter --net="/run/netns/$NSA" "$CAPD" --ring "$RING" --ring-size 16Mi --interfaces "$IFA" \
	--process-context 2>"$TMP/capd.log" &
CAPD_PID=$!
PIDS+=($CAPD_PID)
wait_for "$TMP/capd.log" "capturing into ring" 15
! grep -q "no process context\|partial process context" "$TMP/capd.log" ||
	fail "capd lacks process context: $(cat "$TMP/capd.log")"

run "$NSB" srv tcp-server --port 7401 --count 20 --size 1000 --linger 1 >/dev/null &
PIDS+=($!)
run "$NSB" urecv udp-recv --port 7402 --count 10 --linger 1 &
PIDS+=($!)
run "$NSA" cli tcp-client --host "$ADDR_B" --port 7401 --count 20 --size 1000 --go "$TMP/go" &
CLI=$!
PIDS+=($CLI)
run "$NSA" usend udp-send --host "$ADDR_B" --port 7402 --count 10 --size 100 --go "$TMP/go" &
USEND=$!
PIDS+=($USEND)
for role in srv urecv cli usend; do
	wait_file "$TMP/$role.pid"
	eval "PID_$role=$(cat "$TMP/$role.pid")"
	[ "$(cat "/proc/$(cat "$TMP/$role.pid")/comm")" = "rcf-$role" ] || fail "$role runs as $(cat "/proc/$(cat "$TMP/$role.pid")/comm")"
done
echo "$PID_cli" >"$CG/cgroup.procs"
# The UDP receiver binds after writing its pid file: wait until it has.
udp_bound() { [ -n "$(ip netns exec "$NSB" ss -Hlun 'sport = :7402')" ]; }
wait_until 10 udp_bound
touch "$TMP/go"
wait "$CLI" || fail "TCP client failed"
wait "$USEND" || fail "UDP sender failed"
sleep 1.5 # the servers linger; their last packets and records reach the ring
kill -TERM "$CAPD_PID"
wait "$CAPD_PID" || fail "capd exited $?: $(tail -5 "$TMP/capd.log")"

"$PCAP" --ring "$RING" --from "$START" --to now -q -o "$TMP/out.pcapng" 2>"$TMP/pcap.err" ||
	fail "rawcap-pcap failed: $(cat "$TMP/pcap.err")"
tshark -r "$TMP/out.pcapng" -T fields -E separator=/t -e frame.comment -e ip.src -e tcp.srcport \
	-e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null >"$TMP/fields.txt"

# check WHAT PROTO SRC SPORT DPORT MIN EXPECTED: every packet of the flow from
# SRC:SPORT to DPORT (at least MIN of them) carries exactly the comment EXPECTED.
# Only the first may have none: the export joins in stream order, and a packet
# that reached the ring before its process record cannot be named (AF_PACKET
# hands packets over in blocks, so records usually come first). Any later
# packet without it fails: connect/accept records are stamped after the SYN
# and the ACK, which only the reader's skew allowance names. A wrong name fails.
check() {
	local what=$1 proto=$2 src=$3 sport=$4 dport=$5 min=$6 want=$7 n bad early
	read -r n bad early < <(awk -F'\t' -v p="$proto" -v src="$src" -v sp="$sport" -v dp="$dport" -v want="$want" '
		{ s = p == "tcp" ? $3 : $5; d = p == "tcp" ? $4 : $6 }
		$2 == src && s == sp && d == dp {
			n++
			if ($1 == "" && n == 1) { early++; next }
			if ($1 != want) { bad++; if (!shown++) print "packet " n ": " $1 > "/dev/stderr" }
		}
		END { print n + 0, bad + 0, early + 0 }' "$TMP/fields.txt")
	[ "$n" -ge "$min" ] || fail "$what: only $n packets exported (want >= $min)"
	[ "$bad" -eq 0 ] || fail "$what: $bad of $n packets lack the comment '$want'"
	echo "ok: $what: $((n - early)) of $n packets say '$want'"
}
CPORT=$(awk -F'\t' -v a="$ADDR_A" '$2 == a && $4 == 7401 { print $3; exit }' "$TMP/fields.txt")
UPORT=$(awk -F'\t' -v a="$ADDR_A" '$2 == a && $6 == 7402 { print $5; exit }' "$TMP/fields.txt")
[ -n "$CPORT" ] && [ -n "$UPORT" ] || fail "no TCP or UDP packets from $ADDR_A exported: $(head -5 "$TMP/fields.txt")"
CLI_TXT="pid=$PID_cli comm=rcf-cli container=${CID:0:12}"
SRV_TXT="pid=$PID_srv comm=rcf-srv"
check "TCP client to server" tcp "$ADDR_A" "$CPORT" 7401 15 "src $CLI_TXT; dst $SRV_TXT"
check "TCP server to client" tcp "$ADDR_B" 7401 "$CPORT" 3 "src $SRV_TXT; dst $CLI_TXT"
check "UDP sender to receiver" udp "$ADDR_A" "$UPORT" 7402 10 \
	"src pid=$PID_usend comm=rcf-usend; dst pid=$PID_urecv comm=rcf-urecv"
echo "PASS: exported packets name their processes"
