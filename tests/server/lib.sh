# SPDX-License-Identifier: MIT
# lib.sh - shared by the rawcap-server script tests, over tests/lib.sh: a private namespace,
# capd capturing its loopback into a small ring and disk FIFO, rawcap-server
# on 127.0.0.1 inside it, and a window of known traffic that an independent
# tcpdump records too. Sourced after `set -euo pipefail`.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
PCAP=$B/readers/rawcap-pcap
SERVER=$B/server/rawcap-server
TRAFFIC=$B/tests/capd-traffic
rc_need_root
rc_need tcpdump capinfos curl jq ip

NS=rc-srv-$$
RING=srv$$
rc_tmp server
T=$TMP
FIFO=$T/fifo
PORT=9470
URL=http://127.0.0.1:$PORT
F='port 9999 or port 9998' # the test traffic, apart from capd's and curl's
SERVER_AS=(env)

nsx() { ip netns exec "$NS" "$@"; }
now() { date +%s.%N; }
count() { capinfos -c -M "$1" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'; }

# start_capd [ARGS...]: the namespace and capd (started directly, so that $! is capd).
start_capd() {
	mkdir -p "$T/snaps"
	rc_netns_add "$NS"
	capd_start "$NS" "$T/capd.err" --ring "$RING" --ring-size 16Mi --interfaces lo \
		--storage "$FIFO" --storage-size 64Mi --sync-interval 200ms "$@"
}

# start_server [ARGS...]: rawcap-server on $URL, answering /healthz. SERVER_AS
# (an array, e.g. setpriv ...) runs it as another identity; it must exec.
start_server() {
	ip netns exec "$NS" "${SERVER_AS[@]}" "$SERVER" --listen 127.0.0.1:$PORT --ring "$RING" --storage "$FIFO" \
		--snapshots "$T/snaps" --node n1 "$@" 2>>"$T/server.err" &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	for _ in $(seq 100); do
		[ "$(nsx curl -s "$URL/healthz" 2>/dev/null)" = ok ] && return 0
		sleep 0.1
	done
	fail "rawcap-server did not answer /healthz"
}

# The window [T0, T1): 2000 UDP datagrams and a TCP transfer, recorded by
# tcpdump into $T/ref.pcap ($nref packets); returns once rawcap-pcap holds
# all of it in ring + FIFO, its streamed export in $T/ref-pcap.pcapng.
make_window() {
	local td nudp drops attempt=${1:-1}
	ip netns exec "$NS" tcpdump -i lo -s 0 -B 65536 -U -w "$T/ref.pcap" "$F" 2>"$T/tcpdump.err" &
	td=$!
	PIDS+=("$td")
	for _ in $(seq 100); do grep -q listening "$T/tcpdump.err" && break; sleep 0.05; done
	sleep 0.3
	T0=$(now)
	sleep 0.2
	nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 0 >/dev/null 2>"$T/udp.err" || fail "udp traffic failed"
	nsx "$TRAFFIC" tcp 127.0.0.1 9998 200000 >/dev/null 2>"$T/tcp.err" || fail "tcp traffic failed"
	sleep 0.5
	T1=$(now)
	sleep 0.3
	# The reference is only as good as tcpdump's own capture: if it fell
	# behind or its socket lost packets (a loaded machine), make the window
	# again rather than compare against a short reference.
	rc_tcpdump_stop "$td" "$T/ref.pcap" "$T/tcpdump.err" any # loopback: counts do not compare
	drops=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$T/tcpdump.err")
	if [ "${drops:-0}" != 0 ]; then
		[ "$attempt" -lt 3 ] || fail "tcpdump dropped $drops packets in 3 attempts (reference unusable)"
		echo "tcpdump dropped $drops packets; making the window again"
		make_window $((attempt + 1))
		return
	fi
	nref=$(count "$T/ref.pcap")
	nudp=$(tcpdump -r "$T/ref.pcap" -nn 'udp port 9999' 2>/dev/null | wc -l)
	[ "$nudp" = 2000 ] || fail "tcpdump saw $nudp of the 2000 datagrams (reference unusable)"
	for _ in $(seq 50); do
		"$PCAP" --ring "$RING" --storage "$FIFO" --from "$T0" --to "$T1" --filter "$F" -q \
			-o - 2>/dev/null | cat >"$T/ref-pcap.pcapng" || true # the loop judges
		[ "$(count "$T/ref-pcap.pcapng")" = "$nref" ] && return 0
		sleep 0.1
	done
	fail "rawcap-pcap holds $(count "$T/ref-pcap.pcapng") of tcpdump's $nref packets" \
		"(tcpdump: $(tr '\n' ' ' <"$T/tcpdump.err"))" \
		"(capd's loss: $("$B/readers/rawcap-stat" --ring "$RING" 2>&1 | grep -i loss))"
}

# same_packets FILE: FILE holds tcpdump's packets, byte for byte, in order.
same_packets() {
	tcpdump -r "$1" -nn >/dev/null 2>"$T/tdr.err" || fail "tcpdump -r $1: $(cat "$T/tdr.err")"
	tcpdump -r "$1" -nn -t -xx 2>/dev/null >"$T/got.txt"
	tcpdump -r "$T/ref.pcap" -nn -t -xx 2>/dev/null >"$T/exp.txt"
	cmp -s "$T/got.txt" "$T/exp.txt" || fail "$1: packets differ from tcpdump's"
}

# expect CODE ERROR CURL-ARGS...: the status and the JSON body's "error".
expect() {
	local want=$1 err=$2 code
	shift 2
	code=$(nsx curl -s -o "$T/err.json" -w '%{http_code}' "$@")
	[ "$code" = "$want" ] || fail "$*: $code, expected $want: $(cat "$T/err.json")"
	jq -e --arg e "$err" '.error == $e and (.detail | length) > 0' "$T/err.json" >/dev/null ||
		fail "$*: body $(cat "$T/err.json")"
}
