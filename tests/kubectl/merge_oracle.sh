#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# merge_oracle.sh - kubectl-rawcap's k-way merge against mergecap, on real
# captures: three "nodes" (network namespaces joined by veths on a bridge,
# 198.18.0.0/24) send each other UDP and TCP while an independent tcpdump
# records each node (n1, n2 on their veth: Ethernet; n3 on "any": Linux
# cooked, as a node whose interfaces differ exports). Each node's capture goes
# through the project's own pipeline (pktwriter into a ring, rawcap-pcap out
# as pcapng), then `kubectl-rawcap merge` must equal `mergecap` of the same
# files packet for packet (bytes, order, nanosecond timestamps), with each
# packet on an interface named after its node: byte for byte where the nodes
# share a link type and with --linktype native (mergecap keeps every
# interface's own); by default mixed link types become LINUX_SLL, which
# tcpdump -r reads, equal to mergecap's at the IP layer. Also: classic pcap,
# loss kept, an empty node, a node cut mid-block (partial, named), ties in
# node order, a file that is not pcapng, and peak RSS that does not grow with
# the input.
set -euo pipefail

B=${RAWCAP_BUILD:?RAWCAP_BUILD must point at the build tree}
: "${RAWCAP_SRC:?RAWCAP_SRC must point at the source tree}"
KR=$B/cli/kubectl-rawcap
PCAP=$B/readers/rawcap-pcap
PKTW=$B/tests/pktwriter
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for namespaces"; exit 77; }
for t in tcpdump tshark mergecap editcap capinfos python3 ip; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

NS=rc-km$$
RING=kmrg$$
T=$(mktemp -d /tmp/rc-kmerge.XXXXXX)
export RAWCAP_SHM_DIR=$T/shm
PIDS=()
cleanup() {
	[ -z "${KEEP:-}" ] || { echo "kept $T" >&2; T=/nonexistent; }
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in hub n1 n2 n3; do ip netns del "$NS-$n" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.err; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
	exit 1
}
mkdir -p "$RAWCAP_SHM_DIR"

# ---- three nodes on a bridge ----
. "$RAWCAP_SRC/tests/kubectl/bridge.sh"
bridge_new "$NS-hub"
for i in 1 2 3; do bridge_join "$NS-hub" "$NS-n$i" "km$$a$i" "198.18.0.$i"; done

capture() { # node iface [tcpdump options] -> $T/nI.pcap
	local n=$1 i=$2
	shift 2
	ip netns exec "$NS-$n" tcpdump -i "$i" "$@" -s 0 -U -n -w "$T/$n.pcap" 2>"$T/$n.tcpdump.err" &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q listening "$T/$n.tcpdump.err" && return; sleep 0.05; done
	fail "tcpdump on $n did not start"
}
capture n1 eth0
capture n2 eth0
capture n3 any -y LINUX_SLL

# Each node runs a TCP echo server and sends UDP and TCP to the others at once.
traffic() { # i
	ip netns exec "$NS-n$1" python3 "$RAWCAP_SRC/tests/kubectl/traffic.py" 198.18.0 "$1" 1,2,3
}
traffic 1 & t1=$!
traffic 2 & t2=$!
traffic 3 & t3=$!
wait $t1 $t2 $t3 || fail "traffic failed"
sleep 0.5
for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
wait "${PIDS[@]}" 2>/dev/null || true
PIDS=()

# ---- each node's capture through the project's own pipeline ----
count() { { tshark -r "$1" -T fields -e frame.number 2>/dev/null || true; } | wc -l; }
for n in n1 n2 n3; do
	ifn=eth0
	[ $n = n3 ] && ifn=any
	"$PKTW" --ifname "$ifn" "$RING-$n" "$T/$n.pcap" >/dev/null
	"$PCAP" --ring "$RING-$n" -q -o "$T/$n.pcapng" 2>"$T/$n.pcap.err" || fail "rawcap-pcap $n"
	want=$(count "$T/$n.pcap")
	[ "$want" -ge 300 ] || fail "$n captured only $want packets"
	[ "$(count "$T/$n.pcapng")" = "$want" ] || fail "$n: rawcap-pcap exported a different count"
done
# n2 again with 7 packets lost upstream after its 50th
"$PKTW" --ifname eth0 --loss-after 50:7 "$RING-n2l" "$T/n2.pcap" >/dev/null
"$PCAP" --ring "$RING-n2l" -q -o "$T/n2loss.pcapng" 2>/dev/null && fail "loss export exit 0"
# an empty node: a window before anything was captured
"$PCAP" --ring "$RING-n1" --from -2h --to -1h -q -o "$T/n4.pcapng" || fail "empty export"
[ "$(count "$T/n4.pcapng")" = 0 ] || fail "n4 is not empty"

# mergecap hands a tie to the last file that has it (wiretap's is_earlier() is
# true for equal times), kubectl-rawcap to the first node name: the oracle
# gets the files in reverse node order.
fields() { # file -> one line per packet: time, wire length, captured length
	tshark -r "$1" -T fields -e frame.time_epoch -e frame.len -e frame.cap_len 2>/dev/null
}
hexdump_of() { tshark -r "$1" -x 2>/dev/null | grep -E '^[0-9a-f]{4}  '; }
# $1 (ours) equals $2 (mergecap's) packet for packet: order, times, lengths, bytes
same() {
	fields "$1" >"$T/a.f"
	fields "$2" >"$T/b.f"
	[ -s "$T/b.f" ] || fail "oracle $2 is empty"
	cmp -s "$T/a.f" "$T/b.f" || { diff "$T/a.f" "$T/b.f" | head >&2 || true; fail "$1: times/lengths differ from mergecap"; }
	hexdump_of "$1" >"$T/a.x"
	hexdump_of "$2" >"$T/b.x"
	cmp -s "$T/a.x" "$T/b.x" || { diff "$T/a.x" "$T/b.x" | head >&2 || true; fail "$1: bytes differ from mergecap"; }
}
run_merge() { # expected-exit out args...
	local want=$1 out=$2 rc=0
	shift 2
	"$KR" merge -q -o "$out" "$@" 2>"$T/merge.err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$T/merge.err" >&2; fail "merge $*: exit $rc, want $want"; }
}

# ---- A: three nodes, pcapng, --linktype native: equal to mergecap; attributed to the right node ----
run_merge 0 "$T/m.pcapng" --linktype native n3="$T/n3.pcapng" n1="$T/n1.pcapng" n2="$T/n2.pcapng"
mergecap -w "$T/oracle.pcapng" "$T/n3.pcapng" "$T/n2.pcapng" "$T/n1.pcapng"
same "$T/m.pcapng" "$T/oracle.pcapng"
total=$(( $(count "$T/n1.pcapng") + $(count "$T/n2.pcapng") + $(count "$T/n3.pcapng") ))
[ "$(count "$T/m.pcapng")" = "$total" ] || fail "merged count is not the union"
grep -q "n1: complete" "$T/merge.err" || fail "no per-node report: $(cat "$T/merge.err")"
tshark -r "$T/m.pcapng" -T fields -e frame.time_epoch -e frame.len -e frame.interface_name \
	2>/dev/null >"$T/m.names"
awk -F'\t' 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { exit bad }' "$T/m.names" ||
	fail "merged times go backwards"
for n in n1 n2 n3; do
	fields "$T/$n.pcapng" | cut -f1,2 | sort >"$T/$n.own"
	awk -F'\t' -v n="$n" '$3 ~ "^" n "/" { print $1 "\t" $2 }' "$T/m.names" | sort >"$T/$n.got"
	cmp -s "$T/$n.own" "$T/$n.got" || fail "packets on interfaces $n/* are not $n's"
done
cut -f3 "$T/m.names" | sort -u | tr '\n' ' ' | grep -qx "n1/eth0 n2/eth0 n3/any " ||
	fail "interface names: $(cut -f3 "$T/m.names" | sort -u | tr '\n' ' ')"
tshark -r "$T/m.pcapng" -T fields -e frame.interface_description -c 1 2>/dev/null |
	grep -q "^node n[123]: rawcap" || fail "interface description does not name the node"
capinfos "$T/m.pcapng" 2>/dev/null | grep -q "kubectl rawcap merge: 3 nodes" ||
	fail "no section comment"

# ---- A2: nodes sharing a link type: the default keeps it, byte for byte as mergecap ----
run_merge 0 "$T/m12.pcapng" n1="$T/n1.pcapng" n2="$T/n2.pcapng"
mergecap -w "$T/oracle12.pcapng" "$T/n2.pcapng" "$T/n1.pcapng"
same "$T/m12.pcapng" "$T/oracle12.pcapng"
# -o naming one of the inputs: written beside, read as it was, replaced at the end
cp "$T/n1.pcapng" "$T/self.pcapng"
run_merge 0 "$T/self.pcapng" n1="$T/self.pcapng" n2="$T/n2.pcapng"
same "$T/self.pcapng" "$T/oracle12.pcapng"

# ---- A3: the default with mixed link types: one file libpcap reads (LINUX_SLL) ----
# tcpdump -r reads every packet, in mergecap's order, and the IP layer is mergecap's.
ipf() { tshark -r "$1" -T fields -e frame.time_epoch -e ip.src -e ip.dst -e ip.id -e ip.len \
	-e udp.payload -e tcp.payload 2>/dev/null; }
tcpdump_reads() { # file packets
	local got
	got=$(tcpdump -r "$1" -nn 2>"$T/tcpdump-r.err" | wc -l) || fail "tcpdump -r $1: $(cat "$T/tcpdump-r.err")"
	[ "$got" = "$2" ] || fail "tcpdump -r $1 read $got packets, want $2: $(cat "$T/tcpdump-r.err")"
}
run_merge 0 "$T/ma.pcapng" n3="$T/n3.pcapng" n1="$T/n1.pcapng" n2="$T/n2.pcapng"
# (frame.encap_type 25 is Wireshark's WTAP_ENCAP_SLL)
[ "$(tshark -r "$T/ma.pcapng" -T fields -e frame.encap_type 2>/dev/null | sort -u)" = 25 ] ||
	fail "default pcapng is not LINUX_SLL throughout"
tcpdump_reads "$T/ma.pcapng" "$total"
ipf "$T/ma.pcapng" >"$T/a.ip"
ipf "$T/oracle.pcapng" >"$T/b.ip"
cmp -s "$T/a.ip" "$T/b.ip" || { diff "$T/a.ip" "$T/b.ip" | head >&2 || true; fail "default merge's IP layer differs from mergecap's"; }

# ---- B: classic pcap: Ethernet and Linux cooked together become LINUX_SLL ----
run_merge 0 "$T/m.pcap" --format pcap n1="$T/n1.pcapng" n2="$T/n2.pcapng" n3="$T/n3.pcapng"
capinfos -E "$T/m.pcap" | grep -q "Linux cooked-mode capture v1" || fail "classic pcap is not SLL"
capinfos -t "$T/m.pcap" | grep -q "nanosecond" || fail "classic pcap is not nanosecond"
tcpdump_reads "$T/m.pcap" "$total"
ipf "$T/m.pcap" >"$T/a.ip"
cmp -s "$T/a.ip" "$T/b.ip" || { diff "$T/a.ip" "$T/b.ip" | head >&2 || true; fail "classic pcap's IP layer differs"; }
run_merge 2 "$T/x.pcap" --format pcap --linktype native n1="$T/n1.pcapng"

# ---- C: loss on a node stays in the file and makes the result partial ----
run_merge 1 "$T/ml.pcapng" --linktype native n1="$T/n1.pcapng" n2="$T/n2loss.pcapng" n3="$T/n3.pcapng"
grep -q "n2: partial.*7 packets dropped" "$T/merge.err" || fail "loss not reported: $(cat "$T/merge.err")"
mergecap -w "$T/oracle-l.pcapng" "$T/n3.pcapng" "$T/n2loss.pcapng" "$T/n1.pcapng"
same "$T/ml.pcapng" "$T/oracle-l.pcapng"
tshark -r "$T/ml.pcapng" -T fields -e frame.interface_name -e frame.drop_count -e frame.comment \
	2>/dev/null | grep -P "^n2/eth0\t7\t.*7 packets lost" >/dev/null || fail "drop count or comment lost"

# ---- D: an empty node is complete and changes nothing ----
run_merge 0 "$T/me.pcapng" --linktype native n1="$T/n1.pcapng" n2="$T/n2.pcapng" n3="$T/n3.pcapng" n4="$T/n4.pcapng"
grep -q "n4: complete, 0 packets" "$T/merge.err" || fail "empty node: $(cat "$T/merge.err")"
same "$T/me.pcapng" "$T/oracle.pcapng"

# ---- E: a node cut mid-block: partial and named; everything before the cut merged ----
size=$(stat -c %s "$T/n2.pcapng")
head -c $((size * 2 / 3 + 3)) "$T/n2.pcapng" >"$T/n2cut.pcapng"
run_merge 1 "$T/mc.pcapng" --linktype native n1="$T/n1.pcapng" n2="$T/n2cut.pcapng" n3="$T/n3.pcapng"
grep -q "n2: partial.*stream ended inside a block" "$T/merge.err" || fail "cut: $(cat "$T/merge.err")"
grep -q "n1: complete" "$T/merge.err" || fail "cut node hid the others"
k=$(count "$T/n2cut.pcapng")
[ "$k" -gt 0 ] || fail "the cut file holds no whole packet"
editcap -r "$T/n2.pcapng" "$T/n2ok.pcapng" "1-$k" 2>/dev/null
mergecap -w "$T/oracle-c.pcapng" "$T/n3.pcapng" "$T/n2ok.pcapng" "$T/n1.pcapng"
same "$T/mc.pcapng" "$T/oracle-c.pcapng"
tshark -r "$T/mc.pcapng" -T fields -e frame.interface_name 2>/dev/null | grep -c "^n2/" |
	grep -qx "$k" || fail "cut node: not its $k whole packets"

# ---- F: ties go in node-name order, as mergecap's file order ----
run_merge 0 "$T/mt.pcapng" b="$T/n1.pcapng" a="$T/n1.pcapng"
mergecap -w "$T/oracle-t.pcapng" "$T/n1.pcapng" "$T/n1.pcapng"
same "$T/mt.pcapng" "$T/oracle-t.pcapng"
# Within each run of equal timestamps every a packet precedes every b packet
# (a node may hold equal timestamps itself: tcpdump's are microseconds).
tshark -r "$T/mt.pcapng" -T fields -e frame.time_epoch -e frame.interface_name 2>/dev/null |
	awk -F'\t' '$1 != t { t = $1; seen_b = 0 } $2 == "b/eth0" { seen_b = 1 }
		$2 == "a/eth0" && seen_b { bad = 1 } END { exit bad }' ||
	fail "a tie did not go a first, then b"

# ---- G: a file that is not pcapng fails alone ----
run_merge 1 "$T/mg.pcapng" n1="$T/n1.pcap" n2="$T/n2.pcapng"
grep -q "n1: failed.*not a valid pcapng stream" "$T/merge.err" || fail "classic input: $(cat "$T/merge.err")"
[ "$(count "$T/mg.pcapng")" = "$(count "$T/n2.pcapng")" ] || fail "the good node was not merged"

# ---- H: usage errors exit 2 and create no output ----
rm -f "$T/x"
for bad in "merge" "merge n1" "merge N1=$T/n1.pcapng" "merge a=$T/n1.pcapng a=$T/n2.pcapng" \
	"merge --last 5m a=$T/n1.pcapng"; do
	rc=0
	# shellcheck disable=SC2086
	"$KR" $bad -o "$T/x" 2>/dev/null || rc=$?
	[ $rc = 2 ] || fail "'$bad': exit $rc, want 2"
	[ ! -e "$T/x" ] || fail "'$bad': a usage error created the output file"
done

# ---- I: peak memory does not follow the input's size ----
big() { # node bytes -> $T/big-NODE.pcapng via a disk FIFO and rawcap-pcap
	local r="$RING-big$1" out
	python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$T/empty.pcap"
	rm -rf "$T/fifo$1" "$RAWCAP_SHM_DIR/rawcap-$r"
	out=$(echo go | "$PKTW" --size $((8 << 20)) --storage "$T/fifo$1" \
		--storage-size $(($2 + $2 / 2 + (16 << 20))) --fill "$2" "$r" "$T/empty.pcap")
	echo "$out" | grep -q filled || fail "pktwriter fill"
	"$PCAP" --ring "$r" --storage "$T/fifo$1" -q -o "$T/big-$1.pcapng" || fail "big export"
	rm -rf "$T/fifo$1"
}
maxrss() { python3 -c 'import resource,subprocess,sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r.returncode == 0 else -1)' "$@"; }
rss=()
for scale in 1 4; do
	for n in a b c; do big "$n" $((scale * (12 << 20))); done
	rss[$scale]=$(maxrss "$KR" merge -q -o - a="$T/big-a.pcapng" b="$T/big-b.pcapng" \
		c="$T/big-c.pcapng")
	[ "${rss[$scale]}" -gt 0 ] || fail "big merge failed"
done
echo "peak RSS merging 3 x 12 MiB: ${rss[1]} KiB; 3 x 48 MiB: ${rss[4]} KiB"
[ "${rss[4]}" -lt $((rss[1] + 4096)) ] || fail "peak RSS grew with the input: ${rss[1]} -> ${rss[4]} KiB"
echo PASS
