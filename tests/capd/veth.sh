#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# veth.sh - capd with --interfaces 'vrc*' captures a veth created after it
# started (announced by rtnetlink, selected per packet), writes an interface
# record for it, and captures nothing from lo, which the pattern excludes.
set -euo pipefail
TNAME=veth
. "$(dirname "$0")/lib.sh"
NS2=rc-veth2-$$
RC_NETNS+=("$NS2")
A=vrc$$a
B=vrc$$b

start_capd "$TMP/capd.log" --interfaces 'vrc*'
start_verify "$TMP/verify.out" --port 9999 --count 200
ip netns add "$NS2"
nsx ip link add "$A" type veth peer name "$B"
nsx ip link set "$B" netns "$NS2"
nsx ip addr add 198.18.0.1/30 dev "$A"
nsx ip link set "$A" up
ip netns exec "$NS2" ip addr add 198.18.0.2/30 dev "$B"
ip netns exec "$NS2" ip link set "$B" up
ip netns exec "$NS2" ip link set lo up
sleep 0.3
nsx "$TRAFFIC" udp 198.18.0.2 9999 200 >/dev/null
nsx "$TRAFFIC" udp 127.0.0.1 9999 100 200 >/dev/null # on lo: must not be captured
sleep 0.5
stop_capd "$TMP/capd.log"
finish_verify "$TMP/verify.out"
v=$(cat "$TMP/verify.out")
echo "reader: $v"
[ "$(kv udp_ok "$v")" = 200 ] || fail "want all 200 datagrams on the new veth"
[ "$(kv udp_out_of_range "$v")" = 0 ] || fail "lo traffic was captured"
grep -q "capturing $A" "$TMP/capd.log" || fail "capd did not log the new interface"
grep -q "$A" <<<"$(kv ifaces "$v")" || fail "no interface record for $A"
grep -q "sock0.unselected=[1-9]" "$TMP/capd.log" || fail "lo packets were not counted as unselected"
echo "PASS"
