#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pkts.py - packets of a pcap or pcapng file, for comparing exports with tcpdump.

  pkts.py list FILE            one line per packet: ts_ns orig_len cap_len md5 iface
  pkts.py cut ALL LO HI B_NS   exit 0 if LO holds exactly the packets of ALL stamped
                               before B_NS and HI exactly the others
  pkts.py snap X REF SNAPLEN    exit 0 if X holds REF's packets with their true lengths,
                               each kept up to SNAPLEN bytes, bytes equal to REF's
                               wherever REF kept as many
  pkts.py median FILE          the timestamp (ns) of the middle packet in time order
  pkts.py flows X REF          exit 0 if X holds REF's packets and each flow's (IPv4
                               or IPv6 protocol, addresses and ports, one direction;
                               others by link header) in REF's order; --between as same
  pkts.py count FILE [--iface NAME]
                               number of packets (of the pcapng interface NAME)
  pkts.py same A B [--sort] [--payload]
                               exit 0 if A and B hold the same packets (lengths and
                               bytes, in file order or sorted), else print the first
                               differences and exit 1; --payload compares what follows
                               the link-layer header (Ethernet, cooked SLL/SLL2, raw IP),
                               for one interface recorded with different link types;
                               --iface NAME takes only A's packets of interface NAME;
                               --between T0 T1 only packets of both stamped in
                               [T0, T1) (seconds.nanoseconds)
Reads classic pcap (us and ns) and pcapng (EPB, any if_tsresol) with its own
parser, so that it checks the files, not another tool's reading of them.
"""
import hashlib
import struct
import sys


def read(path):
    d = open(path, "rb").read()
    out = []
    if len(d) < 4:
        return out
    m = struct.unpack_from("<I", d, 0)[0]
    if m in (0xA1B2C3D4, 0xA1B23C4D):
        mul = 1000 if m == 0xA1B2C3D4 else 1
        lt = struct.unpack_from("<I", d, 20)[0]
        o = 24
        while o + 16 <= len(d):
            s, f, cl, ol = struct.unpack_from("<IIII", d, o)
            out.append((s * 10**9 + f * mul, ol, cl, d[o + 16:o + 16 + cl], "", lt))
            o += 16 + cl
        return out
    if m != 0x0A0D0D0A:
        raise SystemExit(f"{path}: not pcap or pcapng")
    o, res, lts, names = 0, [], [], []
    while o + 12 <= len(d):
        bt, bl = struct.unpack_from("<II", d, o)
        if bl < 12:
            raise SystemExit(f"{path}: bad block length at {o}")
        if bt == 0x0A0D0D0A:
            res, lts, names = [], [], []
        elif bt == 1:
            lts.append(struct.unpack_from("<H", d, o + 8)[0])
            r, p, name = 6, o + 16, ""
            while p + 4 <= o + bl - 4:
                c, ln = struct.unpack_from("<HH", d, p)
                if c == 0:
                    break
                if c == 9:
                    r = d[p + 4]
                if c == 2:
                    name = d[p + 4:p + 4 + ln].rstrip(b"\0").decode(errors="replace")
                p += 4 + ((ln + 3) & ~3)
            res.append(r)
            names.append(name)
        elif bt == 6:
            iid, hi, lo, cl, ol = struct.unpack_from("<IIIII", d, o + 8)
            t, r = (hi << 32) | lo, res[iid]
            ns = t * 10**(9 - r) if r <= 9 else t // 10**(r - 9)
            out.append((ns, ol, cl, d[o + 28:o + 28 + cl], names[iid], lts[iid]))
        o += bl
    return out


LINK_HDR = {1: 14, 101: 0, 113: 16, 276: 20}  # Ethernet, raw IP, SLL, SLL2


def line(p, payload=False):
    skip = 0
    if payload:
        skip = LINK_HDR.get(p[5], 0)
        if p[5] == 1 and p[3][12:14] in (b"\x81\x00", b"\x88\xa8"):
            skip += 4
    return f"{p[1] - skip} {p[2] - skip} {hashlib.md5(p[3][skip:]).hexdigest()}"


def flow(p):
    """The flow of an Ethernet or raw-IP packet: protocol, addresses, ports."""
    b = p[3][LINK_HDR.get(p[5], 0):]
    if p[5] == 1 and p[3][12:14] != b"\x08\x00" and p[3][12:14] != b"\x86\xdd":
        return p[3][:14].hex()
    if len(b) >= 20 and b[0] >> 4 == 4:
        hl, proto, addrs = (b[0] & 15) * 4, b[9], b[12:20]
        frag = struct.unpack_from("!H", b, 6)[0] & 0x3FFF
    elif len(b) >= 40 and b[0] >> 4 == 6:
        hl, proto, addrs, frag = 40, b[6], b[8:40], 0
    else:
        return b[:1].hex()
    ports = b[hl:hl + 4] if proto in (6, 17) and not frag else b""
    return f"{proto} {addrs.hex()} {ports.hex()}"


def flows(x, ref):
    """Same packets, and each flow in REF's order; prints what differs."""
    a = [p for p in read(x) if in_window(p)]
    b = [p for p in read(ref) if in_window(p)]
    if sorted(map(line, a)) != sorted(map(line, b)):
        print(f"not the same packets: {len(a)} vs {len(b)}")
        return 1
    fa, fb = {}, {}
    for ps, f in ((a, fa), (b, fb)):
        for p in ps:
            f.setdefault(flow(p), []).append(line(p))
    bad = [k for k in fb if fa.get(k) != fb[k]]
    inv = sum(1 for i in range(1, len(a)) if a[i][0] < a[i - 1][0])
    print(f"{len(a)} packets in {len(fb)} flows, {len(bad)} flows out of tcpdump's order; "
          f"{inv} stamps older than the packet before")
    for k in bad[:3]:
        i = next(i for i, (u, v) in enumerate(zip(fa[k], fb[k])) if u != v)
        print(f"  flow {k}: first difference at its packet #{i} of {len(fb[k])}")
    return 1 if bad else 0


def opt(name, n=1):
    if name not in sys.argv:
        return None
    i = sys.argv.index(name)
    return sys.argv[i + 1] if n == 1 else sys.argv[i + 1:i + 1 + n]


def ns(t):
    s, _, f = t.partition(".")
    return int(s) * 10**9 + int((f + "000000000")[:9])


def in_window(p):
    w = opt("--between", 2)
    return w is None or ns(w[0]) <= p[0] < ns(w[1])


def main():
    ifc = opt("--iface")
    if len(sys.argv) >= 3 and sys.argv[1] == "count":
        print(sum(1 for p in read(sys.argv[2]) if ifc is None or p[4] == ifc))
        return 0
    if len(sys.argv) >= 5 and sys.argv[1] == "snap":
        # Matched by content (length, then headers and first bytes), not by position:
        # packets sent at once from two CPUs reach two packet sockets in either order,
        # and the eBPF backend stamps them at another moment than tcpdump does.
        x, ref = (sorted(read(f), key=lambda p: (p[1], p[3][:128])) for f in sys.argv[2:4])
        snap = int(sys.argv[4])
        if len(x) != len(ref):
            print(f"{len(x)} packets, tcpdump {len(ref)}")
            return 1
        bad = [f"#{i}: len {a[1]}/{b[1]} kept {a[2]}, tcpdump {b[2]}"
               for i, (a, b) in enumerate(zip(x, ref))
               if a[1] != b[1] or a[2] != min(a[1], snap)
               or (b[2] >= a[2] and a[3] != b[3][:a[2]])]
        big = sum(1 for p in ref if p[1] > 65535)
        print(f"{len(x)} packets ({big} > 64 KiB, largest {max((p[1] for p in ref), default=0)}), "
              f"{len(bad)} differ{': ' + bad[0] if bad else ''}")
        return 1 if bad else 0
    if len(sys.argv) >= 3 and sys.argv[1] == "median":
        ts = sorted(p[0] for p in read(sys.argv[2]))
        print(ts[len(ts) // 2] if ts else 0)
        return 0
    if len(sys.argv) >= 6 and sys.argv[1] == "cut":
        key = lambda p: (p[0], line(p))
        allp, lo, hi = (set(map(key, read(f))) for f in sys.argv[2:5])
        b = int(sys.argv[5])
        want_lo = {k for k in allp if k[0] < b}
        want_hi = allp - want_lo
        bad = [len(want_lo - lo), len(lo - want_lo), len(want_hi - hi), len(hi - want_hi)]
        print(f"[from, B): {len(lo)} of {len(want_lo)} ({bad[0]} missing, {bad[1]} extra); "
              f"[B, to): {len(hi)} of {len(want_hi)} ({bad[2]} missing, {bad[3]} extra)")
        return 1 if any(bad) else 0
    if len(sys.argv) >= 4 and sys.argv[1] == "flows":
        return flows(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 3 and sys.argv[1] == "list":
        for p in read(sys.argv[2]):
            print(p[0], line(p), p[4])
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "same":
        pl = "--payload" in sys.argv
        a = [line(p, pl) for p in read(sys.argv[2])
             if (ifc is None or p[4] == ifc) and in_window(p)]
        b = [line(p, pl) for p in read(sys.argv[3]) if in_window(p)]
        if "--sort" in sys.argv:
            a, b = sorted(a), sorted(b)
        if a == b:
            print(f"same: {len(a)} packets")
            return 0
        print(f"differ: {len(a)} vs {len(b)} packets")
        shown = 0
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else "-"
            y = b[i] if i < len(b) else "-"
            if x != y and shown < 5:
                print(f"  #{i}: {x}  |  {y}")
                shown += 1
        return 1
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
