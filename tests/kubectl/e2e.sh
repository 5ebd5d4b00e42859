#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# e2e.sh - kubectl rawcap end to end against real nodes: three simulated
# nodes (node-a, node-b, node-c: network namespaces on a bridge, veths in
# 198.18.1.0/24), each running capd on its eth0 and rawcap-server on its
# 127.0.0.1:18474, as in a pod. relay.py in each node joins its veth address
# to that loopback port, as the kubelet joins a port-forward to a pod's
# loopback. The nodes send each other UDP and TCP while an independent
# tcpdump records each one. kubectl-rawcap runs in a client namespace.
#
# With --endpoints: the merged export equals mergecap of the nodes' own
# rawcap-pcap exports of the same window, byte for byte and in the same
# order; each node's packets in it are its tcpdump's, in order; tcpdump -r
# reads it. bounds names every node. A node whose server is killed before
# it streams is named, exit 1, the others' merge unchanged. Cluster snapshot
# create, list, show, verify, export (the same packets as the export) and
# delete. Dissection off/on on every node with a receiver connected to each
# node's rawcap-forward. A node killed in the middle of its chunked body:
# cut and named, exit 1, its first packets and the others' whole windows
# merged in mergecap's order.
# The default path: Debian's kubectl lists the pods from the fake API server,
# port-forward is stood in for by pf_standin.py relaying to the nodes (a real
# port-forward needs a real cluster), and the merge again equals mergecap's.
#
# Runs when the build has rawcap-server (server/rawcap-server, or
# $RAWCAP_SERVER); skipped (77) otherwise.
set -euo pipefail

S=${RAWCAP_SRC:?}
HERE=$S/tests/kubectl
. "$S/tests/lib.sh" # fail, PIDS, rc_tmp, capd_start, rc_tcpdump_stop, cleanup
KR=$B/cli/kubectl-rawcap
PCAP=$B/readers/rawcap-pcap
SERVER=${RAWCAP_SERVER:-$B/server/rawcap-server}
REAL=${RAWCAP_TEST_KUBECTL:-$S/.deps/kubectl/usr/bin/kubectl}
rc_need_root
[ -x "$SERVER" ] || { echo "SKIP: no rawcap-server in this build ($SERVER)"; exit 77; }
rc_need tcpdump tshark mergecap capinfos editcap curl jq python3 openssl ip ss

NS=rc-ke2e$$
RING=ke2e$$
rc_tmp ke2e
T=$TMP
PORT=18474 # the API port the fake API server's pod list names (rawcap-api)
F='udp port 9999 or tcp port 9998'
NODES="a b c"
rc_on_exit() { # the port-forward stand-ins, and the namespaces bridge.sh made
	local f n
	for f in "$T"/pf/pids/*; do
		[ -f "$f" ] && kill "$(cut -d' ' -f1 "$f")" 2>/dev/null || true
	done
	for n in hub cl $NODES; do ip netns del "$NS-$n" 2>/dev/null || true; done
}
octet() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac; }
shm() { echo "$T/shm-$1"; } # one shm directory per node, as on separate hosts
count() { { tshark -r "$1" -T fields -e frame.number 2>/dev/null || true; } | wc -l; }

# ---- the nodes and the client on one bridge ----
. "$HERE/bridge.sh"
bridge_new "$NS-hub"
for n in $NODES; do bridge_join "$NS-hub" "$NS-$n" "ke$$$n" "198.18.1.$(octet "$n")"; done
bridge_join "$NS-hub" "$NS-cl" "ke$$cl" 198.18.1.100

# Object storage for the snapshot upload/download: the S3 test server in the
# client namespace, relayed onto the bridge; every node's rawcap-server gets
# the (random) credentials and the endpoint in its environment only.
S3DIR=$(cd "$HERE/../s3" && pwd)
HAVE_S3=
if command -v node >/dev/null && bash "$S3DIR/setup.sh" >"$T/s3setup.log" 2>&1; then
	HAVE_S3=1
	export HOME=$T AWS_ENDPOINT_URL_S3=http://198.18.1.100:9000
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ENDPOINT_URL \
		AWS_SHARED_CREDENTIALS_FILE AWS_REGION AWS_DEFAULT_REGION AWS_CONFIG_FILE
	AWS_ACCESS_KEY_ID=AKIA$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	AWS_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr '+/' 'xy')
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	ip netns exec "$NS-cl" env S3_TEST_ACCESS_KEY="$AWS_ACCESS_KEY_ID" \
		S3_TEST_SECRET_KEY="$AWS_SECRET_ACCESS_KEY" node "$S3DIR/server.js" --dir "$T/store" \
		--port 9000 --bucket bkt --log "$T/s3.log" >"$T/s3.out" 2>&1 &
	PIDS+=($!)
	ip netns exec "$NS-cl" python3 "$HERE/relay.py" 198.18.1.100:9000 127.0.0.1:9000 \
		>/dev/null 2>"$T/s3relay.err" &
	PIDS+=($!)
fi

start_capd() { # node
	mkdir -p "$(shm "$1")"
	RAWCAP_SHM_DIR=$(shm "$1") CAPD_START_SECS=30 capd_start "$NS-$1" "$T/capd-$1.err" \
		--ring "$RING" --ring-size 4Mi --interfaces eth0 --storage "$T/fifo-$1" \
		--storage-size 64Mi --sync-interval 200ms
	eval "CAPD_$1=$CAPD_PID"
}
start_server() { # node: rawcap-server on the node's loopback, as in its pod
	mkdir -p "$T/snaps-$1" "$T/ctl-$1"
	RAWCAP_SHM_DIR=$(shm "$1") ip netns exec "$NS-$1" "$SERVER" --listen "127.0.0.1:$PORT" \
		--ring "$RING" --storage "$T/fifo-$1" --snapshots "$T/snaps-$1" --node "node-$1" \
		--control-dir "$T/ctl-$1" 2>>"$T/server-$1.err" &
	eval "SERVER_$1=$!"
	PIDS+=($!)
	for _ in $(seq 300); do
		[ "$(ip netns exec "$NS-$1" curl -s "http://127.0.0.1:$PORT/healthz" 2>/dev/null)" = ok ] &&
			return 0
		sleep 0.1
	done
	fail "rawcap-server on node-$1 did not answer /healthz"
}
for n in $NODES; do
	start_capd "$n"
	start_server "$n"
	ip netns exec "$NS-$n" python3 "$HERE/relay.py" "198.18.1.$(octet "$n"):$PORT" \
		"127.0.0.1:$PORT" >/dev/null 2>"$T/relay-$n.err" &
	PIDS+=($!)
done
for n in $NODES; do
	for _ in $(seq 100); do
		[ -n "$(ip netns exec "$NS-$n" ss -Hltn "sport = :$PORT" src "198.18.1.$(octet "$n")")" ] && break
		sleep 0.1
	done
done
EP="node-a=http://198.18.1.1:$PORT,node-b=http://198.18.1.2:$PORT,node-c=http://198.18.1.3:$PORT"

# ---- the window: cross-node traffic, an independent tcpdump per node ----
for n in $NODES; do
	ip netns exec "$NS-$n" tcpdump -i eth0 -s 0 -U -n -w "$T/ref-$n.pcap" "$F" 2>"$T/tcpdump-$n.err" &
	PIDS+=($!)
	eval "TD_$n=$!"
	for _ in $(seq 100); do grep -q listening "$T/tcpdump-$n.err" && break; sleep 0.05; done
done
T0=$(date +%s.%N)
sleep 0.2
tp=()
for n in $NODES; do
	ip netns exec "$NS-$n" python3 "$HERE/traffic.py" 198.18.1 "$(octet "$n")" 1,2,3 2>"$T/traffic-$n.err" &
	tp+=($!)
done
wait "${tp[@]}" || fail "traffic failed"
sleep 0.5
T1=$(date +%s.%N)
sleep 0.3
for n in $NODES; do
	eval "td=\$TD_$n"
	rc_tcpdump_stop "$td" "$T/ref-$n.pcap" "$T/tcpdump-$n.err" ||
		fail "node-$n's tcpdump reference is short: $(tr '\n' ' ' <"$T/tcpdump-$n.err")"
done

# Each node's own export of the window (rawcap-pcap on the node), once the
# node holds all that its tcpdump saw.
for n in $NODES; do
	want=$(count "$T/ref-$n.pcap")
	[ "$want" -ge 300 ] || fail "tcpdump on node-$n saw only $want packets"
	for _ in $(seq 100); do
		RAWCAP_SHM_DIR=$(shm "$n") "$PCAP" --ring "$RING" --storage "$T/fifo-$n" --from "$T0" \
			--to "$T1" --filter "$F" -q -o "$T/own-$n.pcapng" 2>"$T/own-$n.err" || true
		[ "$(count "$T/own-$n.pcapng")" = "$want" ] && break
		sleep 0.1
	done
	[ "$(count "$T/own-$n.pcapng")" = "$want" ] || fail "node-$n holds $(count "$T/own-$n.pcapng") of $want"
done

kr() { # EXPECTED-EXIT NAME args...: kubectl-rawcap in the client namespace
	local want=$1 name=$2 rc=0
	shift 2
	ip netns exec "$NS-cl" timeout 120 "$KR" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	[ "$rc" = "$want" ] || fail "$name: exit $rc, want $want"
}
fields() { tshark -r "$1" -T fields -e frame.time_epoch -e frame.len -e frame.cap_len 2>/dev/null; }
hex() { tshark -r "$1" -x 2>/dev/null | grep -E '^[0-9a-f]{4}  '; }
same() { # ours oracle: packet for packet, order, times, lengths, bytes
	fields "$1" >"$T/a.f"
	fields "$2" >"$T/b.f"
	[ -s "$T/b.f" ] || fail "oracle $2 is empty"
	cmp -s "$T/a.f" "$T/b.f" || { diff "$T/a.f" "$T/b.f" | head >&2 || true; fail "$1: times/lengths differ from $2"; }
	hex "$1" >"$T/a.x"
	hex "$2" >"$T/b.x"
	cmp -s "$T/a.x" "$T/b.x" || fail "$1: bytes differ from $2"
}
# mergecap gives a tie to the last file holding it, kubectl rawcap to the
# first node name: the oracle takes the files in reverse node order.
oracle() { # out nodes...
	local out=$1 files=()
	shift
	for n in "$@"; do files=("$T/own-$n.pcapng" "${files[@]}"); done
	mergecap -w "$out" "${files[@]}"
}
# One line per packet: tcpdump's summary and every byte, no time.
packets() {
	tcpdump -r "$1" -nn -t -xx 2>/dev/null |
		awk '/^[^ \t]/ { if (p != "") print p; p = $0; next } { p = p $0 } END { if (p != "") print p }'
}
# Each node's packets in FILE are exactly its tcpdump's (as a multiset: two
# sockets may see a node's in and out packets in another order; the order
# in the file is checked against mergecap), and tcpdump -r reads FILE.
per_node() {
	local n
	tcpdump -r "$1" -nn >/dev/null 2>"$T/tdr.err" || fail "tcpdump -r $1: $(cat "$T/tdr.err")"
	for n in "${@:2}"; do
		tshark -r "$1" -Y "frame.interface_name == \"node-$n/eth0\"" -w "$T/sub-$n.pcapng" 2>/dev/null
		packets "$T/sub-$n.pcapng" | sort >"$T/sub.txt"
		packets "$T/ref-$n.pcap" | sort >"$T/ref.txt"
		[ -s "$T/ref.txt" ] && cmp -s "$T/sub.txt" "$T/ref.txt" ||
			fail "$1: node-$n's packets are not its tcpdump's"
	done
}

# ---- export over --endpoints ----
kr 0 export export --endpoints "$EP" --from "$T0" --to "$T1" --filter "$F" -o "$T/all.pcapng"
oracle "$T/oracle.pcapng" a b c
same "$T/all.pcapng" "$T/oracle.pcapng"
per_node "$T/all.pcapng" a b c
for n in $NODES; do grep -q "node-$n: complete" "$T/export.err" || fail "node-$n: $(cat "$T/export.err")"; done
echo "export: $(count "$T/all.pcapng") packets from 3 nodes, equal to mergecap's; each node's are its tcpdump's"

# ---- bounds ----
kr 0 bounds bounds --endpoints "$EP"
for n in $NODES; do grep -q "^node-$n .* ok" "$T/bounds.out" || fail "bounds node-$n: $(cat "$T/bounds.out")"; done
grep -q "common window: .* on 3 of 3 nodes" "$T/bounds.out" || fail "common window: $(cat "$T/bounds.out")"

# ---- a node killed before its stream starts: named, the others merged ----
kill -STOP "$SERVER_c"
ip netns exec "$NS-cl" "$KR" export --endpoints "$EP" --from "$T0" --to "$T1" --filter "$F" \
	--request-timeout 60 -q -o "$T/killed.pcapng" 2>"$T/killed.err" &
kpid=$!
for _ in $(seq 200); do # node-c's relay has joined the export to the stopped server
	[ -n "$(ip netns exec "$NS-c" ss -Htn state established dst "127.0.0.1:$PORT")" ] && break
	sleep 0.05
done
kill -KILL "$SERVER_c"
rc=0
wait "$kpid" || rc=$?
[ "$rc" = 1 ] || fail "export with node-c killed: exit $rc, want 1: $(cat "$T/killed.err")"
grep -q "node-c: failed" "$T/killed.err" || fail "killed node not named: $(cat "$T/killed.err")"
grep -q "node-a: complete" "$T/killed.err" || fail "node-a hidden: $(cat "$T/killed.err")"
oracle "$T/oracle-ab.pcapng" a b
same "$T/killed.pcapng" "$T/oracle-ab.pcapng"
start_server c

# ---- cluster snapshots ----
kr 0 screate snapshot create e2e --endpoints "$EP" --from "$T0" --to "$T1" --filter "$F" --wait 60
kr 0 slist snapshot list --endpoints "$EP"
grep -qE "^e2e +3 +0 +0 " "$T/slist.out" || fail "snapshot list: $(cat "$T/slist.out")"
kr 0 sshow snapshot show e2e --endpoints "$EP"
kr 0 sverify snapshot verify e2e --endpoints "$EP"
kr 0 sexport snapshot export e2e --endpoints "$EP" -o "$T/snap.pcapng"
same "$T/snap.pcapng" "$T/oracle.pcapng"
if [ -n "$HAVE_S3" ]; then
	grep -q '^ready' "$T/s3.out" || fail "S3 test server did not start: $(cat "$T/s3.out")"
	kr 0 supload snapshot upload e2e --to s3://bkt/cluster --endpoints "$EP" --wait 120
	[ "$(grep -c "^node-[abc] .*completed" "$T/supload.out")" = 3 ] || fail "upload: $(cat "$T/supload.out")"
	for n in $NODES; do
		[ -n "$(find "$T/store/bkt" -path "*/cluster/node-$n/e2e/*" -name '*._S3rver_object')" ] ||
			fail "no objects under cluster/node-$n/e2e"
		ip netns exec "$NS-$n" curl -s -X POST "http://127.0.0.1:$PORT/v1/snapshots/e2e/verify" >/dev/null
	done
	kr 0 sdelete0 snapshot delete e2e --endpoints "$EP"
	kr 0 sdownload snapshot download e2e --from s3://bkt/cluster --endpoints "$EP" --wait 120
	[ "$(grep -c "^node-[abc] .*completed" "$T/sdownload.out")" = 3 ] || fail "download: $(cat "$T/sdownload.out")"
	kr 0 sverify2 snapshot verify e2e --endpoints "$EP"
	kr 0 sexport2 snapshot export e2e --endpoints "$EP" -o "$T/snap2.pcapng"
	same "$T/snap2.pcapng" "$T/oracle.pcapng"
	kr 1 sdownload2 snapshot download e2e --from s3://bkt/cluster --endpoints "$EP" --wait 60
	grep -q "exists" "$T/sdownload2.err" "$T/sdownload2.out" || fail "download over e2e: $(cat "$T/sdownload2.err")"
	kr 2 sup-bad snapshot upload e2e --to bkt/x --endpoints "$EP"
	! grep -rqF -- "$AWS_SECRET_ACCESS_KEY" "$T"/*.out "$T"/*.err || fail "the secret key appears in output"
	echo "snapshots: upload to S3 under PREFIX/NODE, delete, download back: verified, export unchanged"
else
	echo "note: no S3 test server (node/npm): snapshot upload/download not run"
fi
kr 2 sbad snapshot create bad/name --endpoints "$EP" --last 1m
kr 1 sdup snapshot create e2e --endpoints "$EP" --from "$T0" --to "$T1"
kr 0 sdelete snapshot delete e2e --endpoints "$EP"
kr 0 slist2 snapshot list --endpoints "$EP"
grep -q "^e2e " "$T/slist2.out" && fail "deleted snapshot still listed: $(cat "$T/slist2.out")"
echo "snapshots: create/list/show/verify/export/delete on 3 nodes"

# ---- dissection on/off on every node, receivers connected ----
# Each node runs rawcap-forward following its switch directory, with a
# receiver connected; the nodes send each other UDP on port 9996. Off: no
# receiver gets a packet sent after the forwarders' 1 s check (waited 2 s),
# yet every receiver stays connected; on: packets flow to every receiver
# again; capd is the same process throughout.
npk() { grep -c '^P ' "$1" 2>/dev/null || true; }
wait_for() { # SECONDS CMD...: CMD succeeds within SECONDS
	local i
	for ((i = 0; i < $1 * 10; i++)); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}
at_least() { [ "$(npk "$1")" -ge "$2" ]; }
round() { # COUNT datagrams from every node to the next: 2*COUNT packets seen by each
	local n to
	for n in $NODES; do
		to=$(($(octet "$n") % 3 + 1))
		ip netns exec "$NS-$n" "$B/tests/capd-traffic" udp "198.18.1.$to" 9996 "$1" \
			>/dev/null 2>>"$T/round.err" || fail "udp traffic from node-$n failed"
	done
}
for n in $NODES; do
	RAWCAP_SHM_DIR=$(shm "$n") ip netns exec "$NS-$n" "$B/readers/rawcap-forward" --ring "$RING" \
		--listen 127.0.0.1:5555 --plain --format msgpack --filter 'udp port 9996' \
		--control-dir "$T/ctl-$n" 2>"$T/forward-$n.err" &
	PIDS+=($!)
done
for n in $NODES; do # a receiver per node, connected (HELLO seen)
	for _ in $(seq 50); do
		ip netns exec "$NS-$n" "$B/tests/msgpack_sink" 127.0.0.1:5555 --stream "e2e$n" \
			--idle-exit 120000 >"$T/sink-$n.out" 2>>"$T/sink-$n.err" &
		eval "SINK_$n=$!"
		PIDS+=($!)
		wait_for 2 grep -q '^H ' "$T/sink-$n.out" && break
		eval "kill \$SINK_$n" 2>/dev/null || true
	done
	grep -q '^H ' "$T/sink-$n.out" || fail "no receiver connected to node-$n's rawcap-forward"
done
round 50
for n in $NODES; do
	wait_for 15 at_least "$T/sink-$n.out" 100 || fail "on: node-$n's receiver got $(npk "$T/sink-$n.out") of 100"
done
kr 0 doff dissection off --endpoints "$EP"
kr 0 dst1 dissection status --endpoints "$EP"
[ "$(grep -c "^node-[abc] .*off" "$T/dst1.out")" = 3 ] || fail "dissection off: $(cat "$T/dst1.out")"
for n in a b c; do
	grep -qx "enabled=false" "$T/ctl-$n/dissection" || fail "node-$n's switch file: $(cat "$T/ctl-$n/dissection")"
done
sleep 2 # the forwarders look at the switch once a second
declare -A held
for n in $NODES; do
	wait_for 5 grep -q '^Z 1' "$T/sink-$n.out" || fail "off: no pause notice to node-$n's receiver"
	held[$n]=$(npk "$T/sink-$n.out")
done
round 50
sleep 1.5
for n in $NODES; do
	[ "$(npk "$T/sink-$n.out")" = "${held[$n]}" ] ||
		fail "off: node-$n still sent $(($(npk "$T/sink-$n.out") - held[$n])) packets"
	eval "kill -0 \$SINK_$n" 2>/dev/null || fail "off: node-$n's receiver was disconnected"
done
kr 0 don dissection on --endpoints "$EP"
kr 0 dst2 dissection status --endpoints "$EP"
[ "$(grep -c "^node-[abc] .*on" "$T/dst2.out")" = 3 ] || fail "dissection on: $(cat "$T/dst2.out")"
for n in $NODES; do
	wait_for 10 grep -q '^Z 0' "$T/sink-$n.out" || fail "on: no resume notice to node-$n's receiver"
done
round 50
for n in $NODES; do
	wait_for 15 at_least "$T/sink-$n.out" $((held[$n] + 100)) ||
		fail "on again: node-$n's receiver got $(($(npk "$T/sink-$n.out") - held[$n])) of 100 new packets"
	eval "pid=\$CAPD_$n"
	kill -0 "$pid" 2>/dev/null || fail "capd on node-$n is gone"
	[ "$(grep -c 'capturing into ring' "$T/capd-$n.err")" = 1 ] || fail "capd on node-$n restarted"
	[ "$(ip netns exec "$NS-$n" curl -s "http://127.0.0.1:$PORT/v1/node" | jq -r .capd.pid)" = "$pid" ] ||
		fail "node-$n's server sees another capd than pid $pid"
done
echo "dissection: off stops every node's receiver (still connected), on resumes; capd unchanged"

# ---- a node killed mid-stream: its part is cut, the rest merged ----
# A second, larger window (UDP on port 9997), several times what the
# sockets and buffers between node-c's server and the merge hold (small
# TCP buffers in node-c and the client). The export writes into a pipe
# nobody reads yet, so the merge stops taking bytes and node-c's server
# blocks in the middle of its chunked body; it is killed there. The
# merged file then holds node-a's and node-b's windows whole and the first
# K packets of node-c's (0 < K < all), in mergecap's order; exit 1, node-c
# named as cut.
FB='udp port 9997'
for ns in "$NS-c" "$NS-cl"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 16384 65536" \
		net.ipv4.tcp_wmem="4096 16384 65536"
done
T2=$(date +%s.%N)
sleep 0.2
bp=()
for n in $NODES; do # 1000 datagrams of 1200 bytes to each other node
	ip netns exec "$NS-$n" python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1000):
    for p in sys.argv[1:]:
        s.sendto(b"%05d" % i + b"b" * 1195, (p, 9997))
    if i % 25 == 0:
        time.sleep(0.005)' $(for m in $NODES; do [ "$m" = "$n" ] || echo "198.18.1.$(octet "$m")"; done) &
	bp+=($!)
done
wait "${bp[@]}" || fail "bulk traffic failed"
sleep 0.5
T3=$(date +%s.%N)
sleep 0.3
for n in $NODES; do # each node's own export of the window, once it stops growing
	prev=-1
	for _ in $(seq 60); do
		RAWCAP_SHM_DIR=$(shm "$n") "$PCAP" --ring "$RING" --storage "$T/fifo-$n" --from "$T2" \
			--to "$T3" --filter "$FB" -q -o "$T/bulk-$n.pcapng" 2>"$T/bulk-$n.err" || true
		now=$(tcpdump -r "$T/bulk-$n.pcapng" -nn 2>/dev/null | wc -l)
		[ "$now" = "$prev" ] && [ "$now" -ge 3500 ] && break
		prev=$now
		sleep 0.5
	done
	[ "$now" -ge 3500 ] || fail "node-$n holds only $now of the 4000 bulk packets"
done
mkfifo "$T/mid.fifo"
exec 7<>"$T/mid.fifo" # a reader that reads nothing yet
ip netns exec "$NS-cl" "$KR" export --endpoints "$EP" --from "$T2" --to "$T3" --filter "$FB" \
	--request-timeout 120 -q -o - >"$T/mid.fifo" 2>"$T/mid.err" &
kpid=$!
for _ in $(seq 300); do # node-c's server has bytes in flight and none acknowledged for 1 s
	q1=$(ip netns exec "$NS-c" ss -Htn state established "sport = :$PORT" | awk '{ s += $2 } END { print s + 0 }')
	sleep 1
	q2=$(ip netns exec "$NS-c" ss -Htn state established "sport = :$PORT" | awk '{ s += $2 } END { print s + 0 }')
	[ "$q1" -gt 0 ] && [ "$q1" = "$q2" ] && break
done
[ "${q2:-0}" -gt 0 ] || fail "node-c's server never blocked mid-stream: $(cat "$T/mid.err")"
kill -KILL "$SERVER_c"
cat "$T/mid.fifo" 7<&- >"$T/mid.pcapng" &
cpid=$!
exec 7<&-
rc=0
wait "$kpid" || rc=$?
wait "$cpid" || fail "reading the merged stream failed"
[ "$rc" = 1 ] || fail "export with node-c killed mid-stream: exit $rc, want 1: $(cat "$T/mid.err")"
grep -q "node-c: partial, .*stream cut after [1-9][0-9]* bytes" "$T/mid.err" ||
	fail "node-c not named as cut: $(cat "$T/mid.err")"
for n in a b; do grep -q "node-$n: complete" "$T/mid.err" || fail "node-$n: $(cat "$T/mid.err")"; done
k=$(tshark -r "$T/mid.pcapng" -T fields -e frame.interface_name 2>/dev/null | grep -c '^node-c/eth0$' || true)
all_c=$(tcpdump -r "$T/bulk-c.pcapng" -nn 2>/dev/null | wc -l)
[ "$k" -gt 0 ] && [ "$k" -lt "$all_c" ] || fail "node-c gave $k of $all_c packets: not cut mid-stream"
editcap -r "$T/bulk-c.pcapng" "$T/bulk-cp.pcapng" "1-$k" 2>/dev/null
mergecap -w "$T/oracle-mid.pcapng" "$T/bulk-cp.pcapng" "$T/bulk-b.pcapng" "$T/bulk-a.pcapng"
# Order, times (ns), lengths and bytes, by tcpdump (faster than tshark on this many).
for f in mid oracle-mid; do
	tcpdump -r "$T/$f.pcapng" -nn -tt --time-stamp-precision=nano -xx >"$T/$f.txt" 2>/dev/null
done
[ -s "$T/oracle-mid.txt" ] && cmp -s "$T/mid.txt" "$T/oracle-mid.txt" ||
	fail "the merge with node-c cut differs from mergecap's"
for ns in "$NS-c" "$NS-cl"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456" \
		net.ipv4.tcp_wmem="4096 16384 4194304"
done
echo "mid-stream kill: node-c cut after $k of $all_c packets, named; node-a and node-b whole, in mergecap's order"

# ---- the default path: Debian's kubectl, port-forward stood in for ----
if [ -x "$REAL" ]; then
	. "$HERE/fake_cluster.sh"
	start_fake_cluster "$NS-cl"
	mkdir -p "$T/pf/relay"
	echo 198.18.1.1 >"$T/pf/relay/rawcap-7xk2p" # node-a's pod in the recorded list
	echo 198.18.1.2 >"$T/pf/relay/rawcap-b4mn8" # node-b's (node-c's pod is Pending)
	export RC_REAL_KUBECTL=$REAL RC_PF_DIR=$T/pf RC_PF_MODE=relay
	kr 0 kexport export --kubectl "$HERE/kubectl_standin.sh" --kubeconfig "$T/kubeconfig" \
		--nodes node-a,node-b --from "$T0" --to "$T1" --filter "$F" -o "$T/kube.pcapng"
	same "$T/kube.pcapng" "$T/oracle-ab.pcapng"
	kr 1 kall export --kubectl "$HERE/kubectl_standin.sh" --kubeconfig "$T/kubeconfig" \
		--from "$T0" --to "$T1" --filter "$F" -o "$T/kube-all.pcapng"
	grep -q "node-c: failed, 0 packets .*pod rawcap-c2d4f is not running" "$T/kall.err" || fail "node-c: $(cat "$T/kall.err")"
	same "$T/kube-all.pcapng" "$T/oracle-ab.pcapng"
	echo "kubectl path: pods from the API server, streams through port-forwards, equal to mergecap's"
else
	echo "note: Debian's kubectl not unpacked ($REAL): the kubectl path not run"
fi
echo PASS
