#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# first_window.sh - a snapshot exports what it reports. A new user's first
# snapshot: capd on a namespace with several interfaces, a little traffic,
# `create --last 5m`, so the window begins before capd's first records and
# the snapshot must carry interface descriptions taken from the ring's
# table. It must export exactly the packets create reported (at least the
# 50 sent), verify, and be marked partial "before capture" with exit 0.
# verify must read the records, not only the hashes: a damaged block whose
# hash is re-recorded, or a manifest that lists more packets than the data
# holds, is DAMAGED, and the export of the latter exits 1.
set -euo pipefail
. "$(dirname "$0")/../pcap/lib.sh"

DEST=$T/snaps
netns_up
ip -n "$NS" link add va type veth peer name vb
ip -n "$NS" link set va up
ip -n "$NS" link set vb up
capd_start "$NS" "$T/capd.err" --ring "$RING"
ip netns exec "$NS" python3 -c '
import socket
r = socket.socket(2, 2); r.bind(("127.0.0.1", 9))
s = socket.socket(2, 2)
for i in range(50):
    s.sendto(b"first-%03d" % i, ("127.0.0.1", 9))'
sleep 1

"$SNAP" create --ring "$RING" --last 5m --name first --dest "$DEST" >"$T/create.out" 2>"$T/create.err" ||
	fail "create: exit $?: $(cat "$T/create.err")"
reported=$(grep -oE '[0-9]+ packets' "$T/create.out" | head -1 | cut -d' ' -f1)
[ "${reported:-0}" -ge 50 ] || fail "create reported ${reported:-?} packets: $(cat "$T/create.out")"
grep -q "precedes the oldest record held" "$T/create.err" || fail "create does not say the window precedes capture: $(cat "$T/create.err")"
grep -q "marked partial.*before capture" "$T/create.err" || fail "create does not say partial: $(cat "$T/create.err")"
"$SNAP" show first --dest "$DEST" >"$T/show.txt"
grep -q '"partial": true' "$T/show.txt" && grep -q '"missing_reason": "before capture"' "$T/show.txt" ||
	fail "manifest: $(cat "$T/show.txt")"
grep -qE '"synthesised": [1-9]' "$T/show.txt" || fail "no synthesised interface descriptions: $(cat "$T/show.txt")"
"$SNAP" list --dest "$DEST" | grep -q "^first.*partial (before capture)" || fail "list: $("$SNAP" list --dest "$DEST")"
"$SNAP" verify first --dest "$DEST" | grep -q "first: OK" || fail "verify: $("$SNAP" verify first --dest "$DEST")"
# a path works where a name does, as the other readers' --snapshot takes one
"$SNAP" verify "$DEST/first/" | grep -q "^first: OK" || fail "verify PATH: $("$SNAP" verify "$DEST/first/" 2>&1)"
"$SNAP" show "$DEST/first" | cmp -s - "$T/show.txt" || fail "show PATH differs from show NAME"

for fmt in pcapng pcap; do
	"$PCAP" -S "$DEST/first" --format "$fmt" -q -o "$T/first.$fmt" 2>"$T/export.err" ||
		fail "export $fmt: exit $?: $(cat "$T/export.err")"
	n=$(count_pkts "$T/first.$fmt")
	td=$(tcpdump -r "$T/first.$fmt" -nn 2>/dev/null | wc -l)
	[ "$n" = "$reported" ] && [ "$td" = "$reported" ] ||
		fail "$fmt: capinfos $n, tcpdump $td packets; create reported $reported"
	[ "$(tcpdump -r "$T/first.$fmt" -nn udp port 9 2>/dev/null | wc -l)" = 50 ] || fail "$fmt: the 50 datagrams"
done
echo "first snapshot: reported $reported, exported $reported, verify OK, partial before capture"

# verify reads the records: damage whose hash is re-recorded is still found.
tamper() { # NAME PYTHON: copy the snapshot to NAME and let PYTHON change it (cwd: the copy)
	rm -rf "${DEST:?}/$1"
	cp -a "$DEST/first" "$DEST/$1"
	chmod -R u+w "$DEST/$1"
	(cd "$DEST/$1" && python3 -c "$2")
	sed -i "s/\"name\": \"first\"/\"name\": \"$1\"/" "$DEST/$1/manifest.json"
}
tamper rehashed '
import glob, hashlib, json, re
seg = sorted(glob.glob("data/seg-*"))[0]
with open(seg, "r+b") as f:
    f.seek(4096 + 64 + 200); b = f.read(1); f.seek(4096 + 64 + 200); f.write(bytes([b[0] ^ 0xFF]))
h = hashlib.sha256(open(seg, "rb").read()).hexdigest()
m = open("manifest.json").read()
m = re.sub(r"(\"path\": \"" + seg + r"\", \"size\": \d+, \"sha256\": \")[0-9a-f]+", r"\g<1>" + h, m)
open("manifest.json", "w").write(m)'
set +e
"$SNAP" verify rehashed --dest "$DEST" >"$T/v.out" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "DAMAGED: data: 1 damaged blocks" "$T/v.out" || fail "verify after re-hashed damage: exit $rc: $(cat "$T/v.out")"

# A manifest that lists more packets than the data holds: verify and export both say so.
tamper overcount '
import re
m = open("manifest.json").read()
m = re.sub(r"\"packets\": (\d+)", lambda x: "\"packets\": %d" % (int(x.group(1)) + 1), m, count=1)
open("manifest.json", "w").write(m)'
set +e
"$SNAP" verify overcount --dest "$DEST" >"$T/v.out" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "data holds $reported packets, manifest says $((reported + 1))" "$T/v.out" ||
	fail "verify of an overcounting manifest: exit $rc: $(cat "$T/v.out")"
set +e
"$PCAP" -S "$DEST/overcount" -q -o "$T/over.pcapng" 2>"$T/export.err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "lists $((reported + 1)) packets but 1 could not be read" "$T/export.err" ||
	fail "export of fewer packets than listed: exit $rc: $(cat "$T/export.err")"
echo "PASS: the first snapshot exports what it reports; verify and export check the records"
