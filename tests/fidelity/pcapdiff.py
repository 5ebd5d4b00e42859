# SPDX-License-Identifier: MIT
"""pcapdiff.py - read pcap/pcapng files and compare a rawcap export with tcpdump's capture.

The reader is deliberately independent of rawcap's writer (lib/pcap_writer.c,
lib/pcap_ng.c): it follows the formats as published (pcap: the
tcpdump.org/libpcap savefile format; pcapng: draft-ietf-opsawg-pcapng,
sections 4.1-4.3 and 4.6). The comparison rule, per group of packets (one
interface, or the whole file when the export cannot tell interfaces apart):

  - the same packets: equal count, and for each packet equal original length,
    captured length and captured bytes;
  - per-flow order: within one flow (see flow_key), the export's packets come
    in the order tcpdump recorded them;
  - timestamps: |rawcap - tcpdump| <= the bound given, for every packet.

The first difference is described in one line.
"""
import collections
import struct

LT_NULL, LT_ETHERNET, LT_RAW12, LT_RAW, LT_SLL, LT_IPV4, LT_IPV6, LT_SLL2 = 0, 1, 12, 101, 113, 228, 229, 276
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)


class Packet:
    __slots__ = ("ts", "caplen", "origlen", "data", "linktype", "iface", "ifindex", "snap", "drops")

    def __init__(self, ts, caplen, origlen, data, linktype, iface, snap=0):
        self.ts, self.caplen, self.origlen, self.data = ts, caplen, origlen, data
        self.linktype, self.iface = linktype, iface
        self.snap = snap or 1 << 32  # the snap length the file announces; 0: none
        self.drops = 0  # pcapng epb_dropcount: packets lost since the previous one
        self.ifindex = struct.unpack_from("!I", data, 4)[0] if linktype == LT_SLL2 and len(data) >= 8 else None


class FormatError(Exception):
    pass


def read(path):
    """Packets of a pcap or pcapng file, in file order; FormatError if it is neither."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 4:
        raise FormatError(f"{len(buf)} bytes: not a capture file")
    magic = buf[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return _read_pcapng(buf)
    for endian in "<>":
        m = struct.unpack(endian + "I", magic)[0]
        if m in (0xA1B2C3D4, 0xA1B23C4D):
            return _read_pcap(buf, endian, 1000 if m == 0xA1B2C3D4 else 1)
    raise FormatError(f"unknown magic {magic.hex()}")


def _read_pcap(buf, e, scale):
    if len(buf) < 24:
        raise FormatError("truncated pcap header")
    _, _, _, _, _, snaplen, linktype = struct.unpack_from(e + "IHHiIII", buf, 0)
    linktype &= 0xFFFF
    out, off = [], 24
    while off + 16 <= len(buf):
        sec, frac, caplen, origlen = struct.unpack_from(e + "IIII", buf, off)
        off += 16
        if off + caplen > len(buf):
            raise FormatError(f"truncated record at byte {off - 16}")
        out.append(Packet(sec * 10**9 + frac * scale, caplen, origlen, buf[off:off + caplen], linktype, None,
                          snaplen))
        off += caplen
    if off != len(buf):
        raise FormatError(f"{len(buf) - off} trailing bytes")
    return out


def _options(body, e):
    opts, off = {}, 0
    while off + 4 <= len(body):
        code, ln = struct.unpack_from(e + "HH", body, off)
        if code == 0:
            break
        opts.setdefault(code, body[off + 4:off + 4 + ln])
        off += 4 + (ln + 3) // 4 * 4
    return opts


def _tsresol(v):
    if not v:
        return 10**3  # microseconds, in ns
    b = v[0]
    if b & 0x80:
        raise FormatError("binary if_tsresol not supported by this reader")
    return 10 ** (9 - b) if b <= 9 else None


def _read_pcapng(buf):
    out, off, e, ifaces = [], 0, "<", []
    while off + 12 <= len(buf):
        btype = struct.unpack_from("<I", buf, off)[0]
        if btype == 0x0A0D0D0A:
            bom = buf[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">" if bom == b"\x1a\x2b\x3c\x4d" else None
            if e is None:
                raise FormatError(f"bad byte-order magic at {off}")
            ifaces = []
        btype, blen = struct.unpack_from(e + "II", buf, off)
        if blen < 12 or blen % 4 or off + blen > len(buf):
            raise FormatError(f"bad block length {blen} at byte {off}")
        if struct.unpack_from(e + "I", buf, off + blen - 4)[0] != blen:
            raise FormatError(f"trailing length mismatch at byte {off}")
        body = buf[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            linktype, _, snaplen = struct.unpack_from(e + "HHI", body, 0)
            opts = _options(body[8:], e)
            name = opts.get(2, b"").rstrip(b"\0").decode(errors="replace") or None
            ifaces.append((linktype, name, _tsresol(opts.get(9)), snaplen))
        elif btype == 6:  # enhanced packet
            ifid, hi, lo, caplen, origlen = struct.unpack_from(e + "IIIII", body, 0)
            if ifid >= len(ifaces):
                raise FormatError(f"packet of undescribed interface {ifid} at byte {off}")
            linktype, name, res, snaplen = ifaces[ifid]
            out.append(Packet(((hi << 32) | lo) * res, caplen, origlen, body[20:20 + caplen], linktype, name,
                              snaplen))
            drops = _options(body[20 + (caplen + 3) // 4 * 4:], e).get(4)
            if drops and len(drops) == 8:
                out[-1].drops = struct.unpack(e + "Q", drops)[0]
        elif btype == 3:  # simple packet
            if not ifaces:
                raise FormatError("simple packet before any interface")
            origlen = struct.unpack_from(e + "I", body, 0)[0]
            data = body[4:4 + origlen]
            out.append(Packet(None, len(data), origlen, data, ifaces[0][0], ifaces[0][1], ifaces[0][3]))
        off += blen
    if off != len(buf):
        raise FormatError(f"{len(buf) - off} trailing bytes")
    return out


def l3(p):
    """(ethertype, offset of the network header, VLAN ids) of a packet."""
    d, lt = p.data, p.linktype
    if lt == LT_ETHERNET:
        off, vids = 12, []
        while off + 2 <= len(d):
            et = struct.unpack_from("!H", d, off)[0]
            if et in VLAN_TPIDS and off + 4 <= len(d):
                vids.append(struct.unpack_from("!H", d, off + 2)[0] & 0xFFF)
                off += 4
                continue
            return et, off + 2, vids
        return None, len(d), vids
    if lt in (LT_RAW, LT_RAW12, LT_IPV4, LT_IPV6):
        v = d[0] >> 4 if d else 0
        return {4: 0x0800, 6: 0x86DD}.get(v), 0, []
    if lt == LT_SLL2 and len(d) >= 20:
        et, off, vids = struct.unpack_from("!H", d, 0)[0], 20, []
        while et in VLAN_TPIDS and off + 4 <= len(d):
            vids.append(struct.unpack_from("!H", d, off)[0] & 0xFFF)
            et = struct.unpack_from("!H", d, off + 2)[0]
            off += 4
        return et, off, vids
    if lt == LT_SLL and len(d) >= 16:
        return struct.unpack_from("!H", d, 14)[0], 16, []
    if lt == -1:  # already a network-layer packet (as_l3)
        v = d[0] >> 4 if d else 0
        return {4: 0x0800, 6: 0x86DD}.get(v), 0, []
    if lt == LT_NULL and len(d) >= 4:
        fam = struct.unpack_from("=I", d, 0)[0]
        return {2: 0x0800, 10: 0x86DD, 24: 0x86DD, 28: 0x86DD, 30: 0x86DD}.get(fam), 4, []
    return None, 0, []


def _ip6_text(b):
    import ipaddress
    return str(ipaddress.IPv6Address(b))


def flow_key(p):
    """A direction-specific flow: protocol, addresses and ports; fragments have no ports."""
    et, off, _ = l3(p)
    d = p.data
    if et == 0x0800 and off + 20 <= len(d):
        ihl = (d[off] & 15) * 4
        proto, frag = d[off + 9], struct.unpack_from("!H", d, off + 6)[0]
        src, dst = ".".join(map(str, d[off + 12:off + 16])), ".".join(map(str, d[off + 16:off + 20]))
        if frag & 0x3FFF:
            return f"ip4 {src} > {dst} proto {proto} fragments"
        return _l4(src, dst, proto, d, off + ihl)
    if et == 0x86DD and off + 40 <= len(d):
        nxt, pos = d[off + 6], off + 40
        src, dst = _ip6_text(d[off + 8:off + 24]), _ip6_text(d[off + 24:off + 40])
        while nxt in (0, 43, 60, 44, 51) and pos + 8 <= len(d):
            if nxt == 44:
                return f"ip6 {src} > {dst} fragments"
            ln = (d[pos + 1] + 2) * 4 if nxt == 51 else (d[pos + 1] + 1) * 8
            nxt, pos = d[pos], pos + ln
        return _l4(src, dst, nxt, d, pos)
    if p.linktype == LT_ETHERNET and len(d) >= 12:
        return f"ethertype 0x{et or 0:04x} {d[6:12].hex(':')} > {d[0:6].hex(':')}"
    return f"ethertype 0x{et:04x}" if et is not None else f"linktype {p.linktype} unparsed"


def _l4(src, dst, proto, d, pos):
    name = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}.get(proto, f"proto {proto}")
    if proto in (6, 17) and pos + 4 <= len(d):
        sp, dp = struct.unpack_from("!HH", d, pos)
        return f"{name} {src}.{sp} > {dst}.{dp}"
    return f"{name} {src} > {dst}"


def _first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def short(p):
    """True if the capturer kept less than its own snap length and the packet allowed."""
    return p.caplen < min(p.origlen, p.snap)


def same(po, px):
    """rawcap's packet px equals tcpdump's po; where tcpdump itself kept less than
    it announced (libpcap fits a frame into its ring's block), po is a prefix."""
    if po.origlen != px.origlen:
        return False
    if po.caplen == px.caplen:
        return po.data == px.data
    return short(po) and px.caplen > po.caplen and px.data[:po.caplen] == po.data


def as_l3(p):
    """The packet from its network header on: for comparing framings that differ on purpose."""
    _, off, _ = l3(p)
    q = Packet(p.ts, max(p.caplen - off, 0), max(p.origlen - off, 0), p.data[off:], -1, p.iface, 0)
    q.snap = p.snap - off if p.snap < 1 << 32 else p.snap
    return q


def _describe(p):
    return f"{p.origlen}/{p.caplen} B"


def compare_group(name, oracle, export, tbound_ns, merged=False):
    """(None or a one-line difference, stats) for one group of packets.

    merged: the group is several interfaces' packets in one file that does not
    say which interface a packet came from, so a packet may appear once per
    interface with the same bytes, and timestamps need not rise in file order
    (a copy delivered later can carry the skb's earlier receive stamp). Equal
    packets are then paired in time order and order is not judged."""
    stats = {"packets": len(export), "max_dt": 0, "missing": 0, "other": 0}
    flows_o, flows_e = collections.OrderedDict(), collections.OrderedDict()
    for p in oracle:
        flows_o.setdefault(flow_key(p), []).append(p)
    for p in export:
        flows_e.setdefault(flow_key(p), []).append(p)
    problems = []
    for key in list(flows_o) + [k for k in flows_e if k not in flows_o]:
        o, x = flows_o.get(key, []), flows_e.get(key, [])
        if merged:
            o = sorted(o, key=lambda p: (p.data, p.ts))
            x = sorted(x, key=lambda p: (p.data, p.ts))
        p = _compare_flow(key, o, x, tbound_ns, stats)
        if p:
            problems.append(p)
    if not problems:
        return None, stats
    more = f" (+{len(problems) - 1} more flows)" if len(problems) > 1 else ""
    return f"{name}: {problems[0]}{more}", stats


def _compare_flow(key, o, x, tbound_ns, stats):
    if len(o) != len(x):
        sig = lambda p: (p.origlen, p.data[:96])  # headers and the generator's unique tag
        co, cx = collections.Counter(map(sig, o)), collections.Counter(map(sig, x))
        missing, extra = sum((co - cx).values()), sum((cx - co).values())
        stats["missing"] += missing
        stats["other"] += extra
        return f"{key}: rawcap {len(x)} packets, tcpdump {len(o)} ({missing} missing, {extra} extra)"
    stats["other"] += 1  # counted back below if the flow matches
    bad = next((i for i, (po, px) in enumerate(zip(o, x)) if not same(po, px)), None)
    if bad is None:
        for po, px in zip(o, x):
            if po.ts is not None and px.ts is not None:
                dt = abs(px.ts - po.ts)
                stats["max_dt"] = max(stats["max_dt"], dt)
                if dt > tbound_ns:
                    return f"{key}: timestamp off by {dt} ns (bound {tbound_ns} ns)"
        stats["other"] -= 1
        return None
    j = next((j for j, po in enumerate(o) if same(po, x[bad])), None)
    if j is not None and all(any(same(po, px) for po in o) for px in x):
        return f"{key}: order differs: rawcap #{bad} is tcpdump #{j} (of {len(o)})"
    po, px = o[bad], x[bad]
    k = _first_diff(po.data, px.data)
    return (f"{key}: #{bad} rawcap {_describe(px)} vs tcpdump {_describe(po)}, bytes differ at {k}"
            f" (rawcap {px.data[k:k + 4].hex() or '-'} tcpdump {po.data[k:k + 4].hex() or '-'})")


def check_snaplen(pkts):
    """The snap length a file announces is what it keeps: caplen = min(len, snaplen)."""
    for i, p in enumerate(pkts):
        if p.caplen != min(p.origlen, p.snap):
            said = f"snaplen {p.snap}" if p.snap < 1 << 32 else "no snap length"
            return f"packet #{i} keeps {p.caplen} of {p.origlen} bytes, the file announces {said}"
    return None


def clip(pkts, t0, t1):
    return [p for p in pkts if p.ts is not None and t0 <= p.ts < t1]


def truncate(pkts, snaplen):
    for p in pkts:
        if p.caplen > snaplen:
            p.caplen, p.data = snaplen, p.data[:snaplen]
        p.snap = min(p.snap, snaplen)
    return pkts
