#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capd_ebpf.sh - the eBPF paths inside the real capd (the other ebpf tests use
# standalone drivers):
#  1. capd --backend ebpf sees exactly what an independent tcpdump sees on the
#     same veth, both directions (counts, original and captured bytes);
#  2. when the tc programs cannot load, capd says why and captures with AF_PACKET;
#  3. capd --process-context names the TCP client and server (pid, comm, 5-tuple)
#     while capturing with AF_PACKET.
set -euo pipefail
. "$RAWCAP_SRC/tests/ebpf/lib.sh"
ebpf_test_init ebcapd 47
command -v tcpdump >/dev/null && command -v tshark >/dev/null || { echo "SKIP: needs tcpdump and tshark"; exit 77; }
ebpf_netns_pair
SNAP=200
MAC_A=$(ip netns exec "$NSA" cat "/sys/class/net/$IFA/address")
py() { exec ip netns exec "$1" python3 "$SRC/traffic.py" "${@:2}"; }

start_capd() { # ring log args...
	local ring=$1 log=$2
	shift 2
	capd_start "$NSA" "$log" --ring "$ring" --ring-size 16Mi --interfaces "$IFA" "$@"
}
stop_capd() { capd_stop "$1"; } # log
traffic() { # port base
	py "$NSB" tcp-server --port "$1" --count 100 --size 1400 --pidfile "$TMP/srv$1.pid" >/dev/null &
	PIDS+=($!)
	wait_file "$TMP/srv$1.pid"
	ip netns exec "$NSA" python3 "$SRC/traffic.py" tcp-client --host "$ADDR_B" --port "$1" --count 100 --size 1400
	ip netns exec "$NSA" python3 "$SRC/traffic.py" udp-send --host "$ADDR_B" --port $(($1 + 1)) --count 30 --size 300
	ip netns exec "$NSB" python3 "$SRC/traffic.py" udp-send --host "$ADDR_A" --port $(($1 + 2)) --count 20 --size 50
	sleep 0.5
}

# --- 1. parity with tcpdump -------------------------------------------------------
ip netns exec "$NSA" tcpdump -i "$IFA" -n -U --immediate-mode -s $SNAP -w "$TMP/td.pcap" 2>"$TMP/td.err" &
TD=$!
PIDS+=($TD)
wait_for "$TMP/td.err" "listening on"
start_capd "$RING" "$TMP/capd1.log" --backend ebpf --snaplen $SNAP
grep -q "with tc eBPF" "$TMP/capd1.log" || fail "capd did not attach the tc programs: $(cat "$TMP/capd1.log")"
traffic 7100
stop_capd "$TMP/capd1.log"
kill -INT $TD
wait $TD || true
read -r td_out td_out_b td_out_c td_in td_in_b td_in_c < <(pcap_tally "$TMP/td.pcap" "$MAC_A")
"$BIN/ebpf_ring_dump" "$RING" >"$TMP/ring1.txt"
read -r rg_out rg_out_b rg_out_c rg_in rg_in_b rg_in_c < <(ring_tally "$TMP/ring1.txt")
echo "tcpdump:    out $td_out pkts $td_out_b B (cap $td_out_c)  in $td_in pkts $td_in_b B (cap $td_in_c)"
echo "capd eBPF:  out $rg_out pkts $rg_out_b B (cap $rg_out_c)  in $rg_in pkts $rg_in_b B (cap $rg_in_c)"
[ "$td_out" -ge 50 ] && [ "$td_in" -ge 20 ] || fail "too little traffic seen by tcpdump"
[ "$rg_out $rg_out_b $rg_out_c" = "$td_out $td_out_b $td_out_c" ] || fail "outgoing differs from tcpdump"
[ "$rg_in $rg_in_b $rg_in_c" = "$td_in $td_in_b $td_in_c" ] || fail "incoming differs from tcpdump"
echo "ok: capd --backend ebpf matches tcpdump in both directions"

# --- 2. fallback to AF_PACKET -----------------------------------------------------
RAWCAP_EBPF_FORCE_FAIL=1 start_capd "$RING-fb" "$TMP/capd2.log" --backend ebpf
grep -q "eBPF backend unavailable: .*capturing with AF_PACKET instead" "$TMP/capd2.log" ||
	fail "no fallback message: $(cat "$TMP/capd2.log")"
traffic 7200
stop_capd "$TMP/capd2.log"
pk=$(sed -n 's/.*capd: final: .* packets=\([0-9]*\) .*/\1/p' "$TMP/capd2.log")
[ "${pk:-0}" -ge 50 ] || fail "fallback captured too little ($pk packets)"
echo "ok: forced eBPF failure fell back to AF_PACKET and captured $pk packets"

# --- 3. process context with the AF_PACKET backend --------------------------------
start_capd "$RING-pc" "$TMP/capd3.log" --process-context
py "$NSB" tcp-server --port 7301 --count 5 --size 100 --pidfile "$TMP/psrv.pid" --linger 1 >/dev/null &
PIDS+=($!)
wait_file "$TMP/psrv.pid"
py "$NSA" tcp-client --host "$ADDR_B" --port 7301 --count 5 --size 100 --pidfile "$TMP/pcli.pid" \
	--linger 1 >/dev/null &
PIDS+=($!)
wait_file "$TMP/pcli.pid"
PID_cli=$(cat "$TMP/pcli.pid")
PID_srv=$(cat "$TMP/psrv.pid")
COMM_cli=$(cat "/proc/$PID_cli/comm" 2>/dev/null || echo python3)
sleep 2
stop_capd "$TMP/capd3.log"
"$BIN/ebpf_ring_dump" "$RING-pc" >"$TMP/ring3.txt"
grep -q "^META .*event=connect .*daddr=$ADDR_B dport=7301 .*pid=$PID_cli .*comm=$COMM_cli" "$TMP/ring3.txt" ||
	fail "no connect record naming the client (pid $PID_cli): $(grep ^META "$TMP/ring3.txt" | head -5)"
grep -q "^META .*event=accept .*sport=7301 .*pid=$PID_srv " "$TMP/ring3.txt" ||
	fail "no accept record naming the server (pid $PID_srv)"
grep -q "^PKT" "$TMP/ring3.txt" || fail "no packets captured alongside process context"
echo "PASS: capd eBPF backend, fallback and process context"
