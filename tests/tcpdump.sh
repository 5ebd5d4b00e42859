# SPDX-License-Identifier: MIT
# tcpdump.sh - stopping an independent tcpdump reference (sourced by tests/lib.sh
# and by scripts with a library of their own).

# rc_tcpdump_stop PID PCAP ERR [any]: stop a `tcpdump -U -w PCAP` (stderr in ERR)
# once it has caught up with the traffic (its file unchanged for a second, at most
# 20 s), then check that it wrote every packet its filter accepted. On a loaded
# machine a tcpdump interrupted while behind leaves packets unwritten ("N
# captured" below "M received by filter"): such a reference would blame rawcap
# for tcpdump's lag. Returns 1 (ERR says why) when the reference is short. With
# "any" as the fourth argument only the wait is done: on loopback the kernel
# counts both copies of each packet as received and libpcap keeps one.
rc_tcpdump_stop() {
	local pid=$1 pcap=$2 err=$3 mode=${4:-} last=-1 size cap recv
	for _ in $(seq 20); do
		size=$(stat -c %s "$pcap" 2>/dev/null || echo 0)
		[ "$size" = "$last" ] && break
		last=$size
		sleep 1
	done
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ "$mode" != any ] || return 0
	cap=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$err")
	recv=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$err")
	[ -n "$cap" ] && [ "$cap" = "$recv" ]
}
