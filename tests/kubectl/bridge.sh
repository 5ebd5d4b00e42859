# SPDX-License-Identifier: MIT
# bridge.sh - sourced by the kubectl-rawcap script tests: simulated nodes as
# network namespaces on one bridge (a hub namespace holding br0), addresses
# from 198.18.0.0/15 only.
#
# bridge_new HUB             the hub namespace with br0 up
# bridge_join HUB NS TAG ADDR  namespace NS with eth0 (ADDR/24, from a veth
#                            pair named TAG / TAGh) on HUB's bridge, lo up

bridge_new() {
	ip netns add "$1"
	ip -n "$1" link add br0 type bridge
	ip -n "$1" link set br0 up
}

bridge_join() {
	ip netns add "$2"
	ip link add "$3" type veth peer name "$3h"
	ip link set "$3" netns "$2"
	ip link set "$3h" netns "$1"
	ip -n "$2" link set "$3" name eth0
	ip -n "$2" addr add "$4/24" dev eth0
	ip -n "$2" link set eth0 up
	ip -n "$2" link set lo up
	ip -n "$1" link set "$3h" master br0 up
}
