#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# super.sh - BIG TCP on loopback (gso_max_size 400000) makes TCP packets far
# above 64 KiB, some above 256 KiB. With either backend each one is exported
# with its true length and kept up to the announced snap length, 262144
# bytes (not 64 bytes short of it), in pcapng and pcap alike, byte for byte
# as tcpdump keeps it; and the files open in tcpdump, tshark and capinfos.
set -euo pipefail
TNAME=big
. "$(dirname "$0")/lib.sh"
command -v capinfos >/dev/null || { echo "SKIP: capinfos missing"; exit 77; }

nsx ip link set lo gso_max_size 400000 gro_max_size 400000 2>/dev/null ||
	{ echo "SKIP: this kernel cannot raise lo's gso_max_size (no BIG TCP)"; exit 77; }

transfer() { # MiB to send
	nsx python3 - "$1" <<'PY'
import sys
import socket, threading
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
srv.bind(("::1", 7150)); srv.listen(1)
got = [0]
def rx():
    c, _ = srv.accept()
    while True:
        b = c.recv(1 << 20)
        if not b: break
        got[0] += len(b)
t = threading.Thread(target=rx); t.start()
c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
c.connect(("::1", 7150))
blob = bytes(range(256)) * 4096
for _ in range(int(sys.argv[1])):
    c.sendall(blob)
c.close(); t.join()
assert got[0] == int(sys.argv[1]) << 20, got[0]
PY
}

# pass BACKEND SNAPLEN MIB [CAPD ARGS...]: the transfer, exports checked against tcpdump's.
pass() {
	local backend=$1 snap=$2 mib=$3 fmt
	shift 3
	rm -f "$RAWCAP_SHM_DIR"/*
	start_capd "$TMP/capd.$backend.log" --ring-size 64Mi --backend "$backend" --interfaces lo "$@"
	TD_BUFFER=262144 td_start "$TMP/ref.pcap" lo ip6
	T0=$(now)
	transfer "$mib"
	sleep 0.6
	T1=$(now)
	td_stop "$TMP/ref.pcap"
	for fmt in pcapng pcap; do
		"$PCAP" --ring "$RING" -q --format "$fmt" --from "$T0" --to "$T1" --filter ip6 \
			-o "$TMP/x.$fmt" ||
			fail "$backend: $fmt export failed"
		$PKTS snap "$TMP/x.$fmt" "$TMP/ref.pcap" "$snap" >"$TMP/snap.out" ||
			fail "$backend, $fmt: $(cat "$TMP/snap.out")"
		tcpdump -r "$TMP/x.$fmt" -nn >/dev/null 2>"$TMP/td.err" ||
			fail "tcpdump cannot read $fmt: $(cat "$TMP/td.err")"
		tshark -r "$TMP/x.$fmt" >/dev/null 2>&1 || fail "tshark cannot read $fmt"
		capinfos "$TMP/x.$fmt" >/dev/null 2>&1 || fail "capinfos cannot read $fmt"
	done
	grep -q "packets ([1-9][0-9]* > 64 KiB" "$TMP/snap.out" ||
		fail "no packet above 64 KiB: $(cat "$TMP/snap.out")"
	echo "$backend $*: $(cat "$TMP/snap.out"), each kept up to $snap bytes"
	stop_capd "$TMP/capd.$backend.log"
}

pass afpacket 262144 8
pass ebpf 262144 8
# Capture blocks too small for the snap length: capd says what it keeps, and
# keeps exactly that (a ring under 2 MiB cuts it the same way).
pass afpacket 65280 8 --block-size 64Ki --block-count 1024
grep -q "snap length 262144 does not fit a capture block (--block-size): keeping 65280 bytes" \
	"$TMP/capd.afpacket.log" || fail "capd did not say it cuts the snap length: $(head -3 "$TMP/capd.afpacket.log")"
echo PASS
