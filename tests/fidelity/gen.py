#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen.py - the fidelity harness's one traffic generator.

Every payload is unique (tag and index), so a packet is found again by its
bytes. Addresses are the test's own: loopback, 198.18.0.0/15 and the IPv6
benchmarking prefix 2001:2::/48, inside namespaces the harness created.

  gen.py serve --ready FILE [--seconds S]      UDP sinks on 7000-7009 and a TCP
                                               sink on 7100 (v4 and v6); prints
                                               what it received when it ends
  gen.py udp DST... [--count N] [--port P]     datagrams of mixed sizes
          [--new-flows]                        (each from a new socket: one flow each)
  gen.py frag DST... [--count N] [--size B]    datagrams larger than the MTU
  gen.py ip6ext DST6 [--count N]               IPv6 with hop-by-hop, destination
                                               options and fragment headers
  gen.py tcp DST [--bytes N] [--port P]        one transfer (GSO super-packets)
  gen.py vlan IFACE DMAC [--count N]           802.1Q and 802.1ad+802.1Q frames
                                               sent raw out of IFACE
  gen.py tun IFACE [--count N]                 raw IPv4/IPv6 packets written into
                                               a tun device (UDP, fragments,
                                               extension headers)
  gen.py mktun IFACE [--arphrd N]              a persistent tun of ARPHRD type N
  gen.py fetch HOST --port P --out FILE        a TCP stream read to its end
Options shared by all senders: --tag T, --gap SECONDS, --del-link IFACE (delete
that link right after the last packet, as when a pod ends).
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

SIZES = (64, 200, 512, 1000, 1400)
IPV6_HOPOPTS, IPV6_DSTOPTS = 54, 59
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0
TUNSETIFF, TUNSETPERSIST, TUNSETLINK = 0x400454CA, 0x400454CB, 0x400454CD
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def payload(tag, i, size):
    return f"{tag}-{i:06d}-".encode().ljust(size, b".")


def pace(a):
    if a.gap:
        time.sleep(a.gap)


def udp_socket(fam):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    return s


def send(s, data, dst):
    for _ in range(200):
        try:
            return s.sendto(data, dst)
        except (BlockingIOError, ConnectionRefusedError):
            time.sleep(0.001)
    raise SystemExit(f"gen.py: cannot send to {dst}")


def mode_udp(a):
    for n, d in enumerate(a.dst):
        s = udp_socket(family(d))
        for i in range(a.count):
            if a.new_flows:  # a new socket, so a new source port: one flow per datagram
                s.close()
                s = udp_socket(family(d))
            send(s, payload(f"{a.tag}{n}", i, SIZES[i % len(SIZES)]), (d, a.port))
            pace(a)


def mode_frag(a):
    for k, d in enumerate(a.dst):
        s = udp_socket(family(d))
        for i in range(a.count):
            send(s, payload(f"{a.tag}{k}", i, a.size + (i % 3) * 500), (d, a.port))
            pace(a)


def mode_ip6ext(a):
    # Options header: next header and length are filled in by the kernel;
    # one PadN option fills the 8 bytes.
    opt = bytes([0, 0, 1, 4, 0, 0, 0, 0])
    for i, (level, name, size) in enumerate(
        [(socket.IPPROTO_IPV6, IPV6_DSTOPTS, 300), (socket.IPPROTO_IPV6, IPV6_HOPOPTS, 300),
         (None, None, 3000), (socket.IPPROTO_IPV6, IPV6_DSTOPTS, 3000)]):
        s = udp_socket(socket.AF_INET6)
        if level is not None:
            s.setsockopt(level, name, opt)
        for j in range(a.count):
            send(s, payload(f"{a.tag}{i}", j, size), (a.dst[0], a.port))
            pace(a)


def mode_tcp(a):
    c = socket.create_connection((a.dst[0], a.port), timeout=20)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    blob = bytes(range(256)) * 4096
    left = a.bytes
    while left > 0:
        c.sendall(blob[: min(left, len(blob))])
        left -= len(blob)
    c.shutdown(socket.SHUT_WR)
    if c.recv(16) != b"ok":
        raise SystemExit("gen.py: tcp sink did not confirm")
    c.close()


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def ip4(src, dst, proto, body, ident, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + body


def udp4(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(u))
    return u[:6] + struct.pack("!H", csum(pseudo + u) or 0xFFFF) + u[8:]


def udp6(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
              + struct.pack("!IxxxB", len(u), 17))
    return u[:6] + struct.pack("!H", csum(pseudo + u) or 0xFFFF) + u[8:]


def ip6(src, dst, nxt, body):
    return (struct.pack("!IHBB", 6 << 28, len(body), nxt, 64)
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + body)


def frags4(src, dst, ident, l4, mtu=1500):
    step = (mtu - 20) // 8 * 8
    out = []
    for off in range(0, len(l4), step):
        more = 0x2000 if off + step < len(l4) else 0
        out.append(ip4(src, dst, 17, l4[off:off + step], ident, more | (off // 8)))
    return out


def frags6(src, dst, ident, l4, mtu=1500):
    step = (mtu - 40 - 8) // 8 * 8
    out = []
    for off in range(0, len(l4), step):
        more = 1 if off + step < len(l4) else 0
        fh = struct.pack("!BBHI", 17, 0, off | more, ident)
        out.append(ip6(src, dst, 44, fh + l4[off:off + step]))
    return out


def mode_tun(a):
    """Packets arrive on the tun from the kernel's point of view: src is the peer."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.iface.encode(), IFF_TUN | IFF_NO_PI))
    s4, d4, s6, d6 = "198.18.2.2", "198.18.2.1", "2001:2:0:2::2", "2001:2:0:2::1"
    pkts = []
    for i in range(a.count):
        data = payload(f"{a.tag}4", i, SIZES[i % len(SIZES)])
        pkts.append(ip4(s4, d4, 17, udp4(s4, d4, 40000, a.port, data), i))
        data = payload(f"{a.tag}6", i, SIZES[i % len(SIZES)])
        pkts.append(ip6(s6, d6, 17, udp6(s6, d6, 40001, a.port, data)))
    for i in range(max(1, a.count // 5)):
        data = payload(f"{a.tag}f", i, 3000)
        pkts += frags4(s4, d4, 0x4000 + i, udp4(s4, d4, 40002, a.port, data))
        pkts += frags6(s6, d6, 0x6000 + i, udp6(s6, d6, 40003, a.port, payload(f"{a.tag}g", i, 3000)))
        opts = struct.pack("!BB", 17, 0) + bytes([1, 4, 0, 0, 0, 0])
        pkts.append(ip6(s6, d6, 60, opts + udp6(s6, d6, 40004, a.port, payload(f"{a.tag}d", i, 300))))
    for p in pkts:
        os.write(fd, p)
        pace(a)
    time.sleep(0.2)  # the kernel handles what was written before the fd closes
    os.close(fd)


def mode_mktun(a):
    """A persistent tun device whose ARPHRD type is --arphrd (none: 0xfffe)."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.iface.encode(), IFF_TUN | IFF_NO_PI))
    if a.arphrd != 0xFFFE:
        fcntl.ioctl(fd, TUNSETLINK, a.arphrd)
    fcntl.ioctl(fd, TUNSETPERSIST, 1)
    os.close(fd)


def mode_fetch(a):
    """Read a TCP stream (rawcap-forward --listen) to its end into --out."""
    end = time.time() + 10
    while True:
        try:
            c = socket.create_connection((a.dst[0], a.port), timeout=30)
            break
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.05)
    with open(a.out, "wb") as f:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            f.write(b)


def mode_vlan(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    smac = s.getsockname()[4][:6]
    dmac = bytes.fromhex(a.dmac.replace(":", ""))
    src, dst = "198.18.0.2", "198.18.0.1"
    for i in range(a.count):
        ip = ip4(src, dst, 17, udp4(src, dst, 40000, a.port, payload(f"{a.tag}q", i, SIZES[i % 5])), i)
        s.send(dmac + smac + struct.pack("!HHH", 0x8100, 100, 0x0800) + ip)
        pace(a)
        ip = ip4(src, dst, 17, udp4(src, dst, 40001, a.port, payload(f"{a.tag}ad", i, 200)), 0x100 + i)
        s.send(dmac + smac + struct.pack("!HHHHH", 0x88A8, 200, 0x8100, 100, 0x0800) + ip)
        pace(a)


def mode_serve(a):
    socks, got = [], {"udp": 0, "tcp": 0}
    for fam, any_addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        for port in range(7000, 7010):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind((any_addr, port))
            socks.append(s)
        t = socket.socket(fam, socket.SOCK_STREAM)
        if fam == socket.AF_INET6:
            t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        t.bind((any_addr, 7100))
        t.listen(4)
        socks.append(t)
    with open(a.ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(a.ready + ".tmp", a.ready)
    conns = {}
    end = time.time() + a.seconds
    while time.time() < end:
        r, _, _ = select.select(socks + list(conns), [], [], 0.2)
        for s in r:
            if s.type == socket.SOCK_STREAM and s not in conns:
                c, _ = s.accept()
                conns[c] = 0
            elif s in conns:
                b = s.recv(1 << 20)
                if b:
                    conns[s] += len(b)
                    continue
                s.sendall(b"ok")
                s.close()
                got["tcp"] += conns.pop(s)
            else:
                s.recv(65536)
                got["udp"] += 1
    print(f"udp={got['udp']} tcp={got['tcp']}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["serve", "udp", "frag", "ip6ext", "tcp", "vlan", "tun", "mktun", "fetch"])
    p.add_argument("dst", nargs="*", help="destinations (or IFACE [DMAC] for vlan and tun)")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--port", type=int, default=7000)
    p.add_argument("--size", type=int, default=3000)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--tag", default="fid")
    p.add_argument("--gap", type=float, default=0.0)
    p.add_argument("--ready")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--new-flows", action="store_true", help="udp: each datagram from a new socket")
    p.add_argument("--del-link")
    p.add_argument("--arphrd", type=int, default=0xFFFE)
    p.add_argument("--out")
    a = p.parse_args()
    if a.mode == "serve":
        return mode_serve(a)
    if a.mode in ("vlan", "tun", "mktun"):
        a.iface = a.dst[0]
        a.dmac = a.dst[1] if len(a.dst) > 1 else None
    a.port = 7100 if a.mode == "tcp" and a.port == 7000 else a.port
    {"udp": mode_udp, "frag": mode_frag, "ip6ext": mode_ip6ext, "tcp": mode_tcp,
     "vlan": mode_vlan, "tun": mode_tun, "mktun": mode_mktun, "fetch": mode_fetch}[a.mode](a)
    if a.del_link:
        delete_while_sending(a)


def delete_while_sending(a):
    """Keep sending to the first destination while the link is deleted, so that
    the last packets before it goes are still in the capturers' buffers."""
    import threading
    s, done, sent = udp_socket(family(a.dst[0])), threading.Event(), [0]

    def tail():
        while not done.is_set() and sent[0] < 10000:
            try:
                s.sendto(payload(f"{a.tag}end", sent[0], 100), (a.dst[0], a.port))
                sent[0] += 1
            except OSError:
                return  # the link is gone
            time.sleep(0.0005)

    t = threading.Thread(target=tail)
    t.start()
    time.sleep(0.05)
    subprocess.run(["ip", "link", "del", a.del_link], check=True)
    done.set()
    t.join()


if __name__ == "__main__":
    sys.exit(main())
