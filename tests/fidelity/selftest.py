#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""selftest.py - the fidelity harness's comparison can fail: each kind of
difference it exists to find, made by hand in a file, is reported.

Files are written here in both formats (pcap with nanoseconds, pcapng with
if_tsresol 9) and read back with pcapdiff.read(), then compared; tcpdump -r
must agree with the reader on every file written. Run by ctest as
fidelity_selftest; needs no root and no network.
"""
import os
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapdiff  # noqa: E402

T0 = 1_790_000_000 * 10**9


def udp_frame(i, size=60, vlan=None):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + size, i, 0, 64, 17, 0, bytes([198, 18, 0, 2]),
                     bytes([198, 18, 0, 1]))
    body = ip + struct.pack("!HHHH", 40000, 7000, 8 + size, 0) + f"t-{i:04d}".encode().ljust(size, b".")
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return b"\x02" * 6 + b"\x04" * 6 + tag + b"\x08\x00" + body


def write_pcap(path, frames, snaplen=262144):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, snaplen, 1))
        for ts, data, orig in frames:
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(data), orig) + data)


def write_pcapng(path, frames, snaplen=0, name=b"vA"):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def opt(code, val):
        return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)

    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", 1, 0, snaplen) + opt(2, name) + opt(9, b"\x09") + opt(0, b"")))
        for ts, data, orig in frames:
            f.write(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), orig) + data))


def packets(tmp, frames, fmt, **kw):
    path = os.path.join(tmp, f"{len(os.listdir(tmp))}.{fmt}")
    (write_pcap if fmt == "pcap" else write_pcapng)(path, frames, **kw)
    got = pcapdiff.read(path)
    r = subprocess.run(["tcpdump", "-r", path, "-nn", "-q"], capture_output=True, text=True)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == len(got), f"tcpdump disagrees on {path}"
    return got


def main():
    base = [(T0 + i * 1000, udp_frame(i), len(udp_frame(i))) for i in range(10)]
    cases = {  # name: (the export's frames, what the one-line difference must say)
        "same": (base, None),
        "missing packet": (base[:4] + base[5:], "rawcap 9 packets, tcpdump 10 (1 missing, 0 extra)"),
        "extra packet": (base + [base[3]], "rawcap 11 packets, tcpdump 10 (0 missing, 1 extra)"),
        "flipped byte": (base[:2] + [(base[2][0], base[2][1][:50] + b"X" + base[2][1][51:], base[2][2])]
                         + base[3:], "#2 rawcap 102/102 B vs tcpdump 102/102 B, bytes differ at 50"),
        "order": (base[:3] + [base[4], base[3]] + base[5:], "order differs: rawcap #3 is tcpdump #4"),
        "timestamp": ([(ts + 2_000_000 if i == 7 else ts, d, o) for i, (ts, d, o) in enumerate(base)],
                      "timestamp off by 2000000 ns"),
        "vlan tag lost": ([(ts, udp_frame(i), o) for i, (ts, d, o) in enumerate(base)], "bytes differ at 12"),
    }
    oracle_frames = {"vlan tag lost": [(T0 + i * 1000, udp_frame(i, vlan=100), len(udp_frame(i)) + 4)
                                       for i in range(10)]}
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("pcap", "pcapng"):
            for name, (frames, want) in cases.items():
                ref = packets(tmp, oracle_frames.get(name, base), "pcap")
                got = packets(tmp, frames, fmt)
                diff, _ = pcapdiff.compare_group("vA", ref, got, 1_000_000)
                ok = (diff is None) if want is None else (diff is not None and want in diff)
                failed += not ok
                print(f"{'ok ' if ok else 'BAD'} {fmt:6} {name}: {diff}")
        # the snap length a file announces is what it keeps
        cut = [(ts, d[:64], o) for ts, d, o in base]
        for fmt, kw, want in (("pcap", {"snaplen": 64}, None), ("pcapng", {"snaplen": 64}, None),
                              ("pcapng", {"snaplen": 0}, "keeps 64 of 102 bytes")):
            msg = pcapdiff.check_snaplen(packets(tmp, cut, fmt, **kw))
            ok = (msg is None) if want is None else (msg is not None and want in msg)
            failed += not ok
            print(f"{'ok ' if ok else 'BAD'} {fmt:6} snaplen {kw['snaplen']}: {msg}")
    print(f"selftest: {'FAIL' if failed else 'PASS'} ({failed} wrong)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
