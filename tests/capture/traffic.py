#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""traffic.py - known test traffic from inside a namespace, in one process.

  traffic.py [udp DST PORT COUNT SIZE TAG]... [flows DST PORT COUNT GAP_S TAG]...
             [rr DST PORT FLOWS ROUNDS GAP_S TAG]... [tcp DST PORT KIB]...
             [tun NAME COUNT]... [vlan IFACE DSTMAC]...

udp:  COUNT datagrams "TAG-<index>-...." of SIZE bytes to DST:PORT.
flows: COUNT datagrams like udp's (64 bytes), each from a new socket (a new
      flow for fanout hashing), GAP_S seconds apart.
rr:   FLOWS UDP sockets (ports PORT..PORT+FLOWS-1) taking turns: ROUNDS
      rounds of one datagram each, GAP_S seconds between rounds.
tcp:  KIB KiB over one TCP connection to DST:PORT (a sink must listen).
tun:  COUNT UDP datagrams 198.18.134.2 -> 198.18.134.1, ports 7131/7132 in
      turn, written into the tun device NAME (received by the stack).
vlan: 802.1Q frames (VID 100 and 200) and untagged ones, UDP to ports 7102
      and 7103, sent raw out of IFACE to DSTMAC (5 of each kind).
"""
import fcntl
import os
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def ipv4_udp(src, dst, sport, dport, payload, ident):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + udp


def udp(dst, port, count, size, tag):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for i in range(int(count)):
        s.sendto(f"{tag}-{i:06d}-".encode().ljust(int(size), b"."), (dst, int(port)))


def flows(dst, port, count, gap, tag):
    for i in range(int(count)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(f"{tag}-{i:06d}-".encode().ljust(64, b"."), (dst, int(port)))
        s.close()
        time.sleep(float(gap))


def rr(dst, port, nflows, rounds, gap, tag):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(int(nflows))]
    for r in range(int(rounds)):
        for f, s in enumerate(socks):
            s.sendto(f"{tag}-{f}-{r:06d}-".encode().ljust(64 + 16 * f, b"."),
                     (dst, int(port) + f))
        time.sleep(float(gap))
    for s in socks:
        s.close()


def tcp(dst, port, kib):
    s = socket.create_connection((dst, int(port)), timeout=10)
    chunk = bytes(range(256)) * 16
    for _ in range(int(kib) // 4):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()


def tun(name, count):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))
    for i in range(int(count)):
        pl = f"tun-{i:04d}".encode().ljust(40 + i, b".")
        os.write(fd, ipv4_udp("198.18.134.2", "198.18.134.1", 40000, 7131 + i % 2, pl, i))
    os.close(fd)


def vlan(ifc, dmac):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifc, 0))
    smac, dmac = s.getsockname()[4][:6], bytes.fromhex(dmac.replace(":", ""))
    for i in range(5):
        for vid, port in ((100, 7102), (200, 7102), (0, 7102), (100, 7103)):
            pl = f"v{vid}-{port}-{i:03d}".encode().ljust(60 + 7 * i, b".")
            ip = ipv4_udp("198.18.120.1", "198.18.120.2", 40000, port, pl, i)
            tag = struct.pack("!HH", 0x8100, (3 << 13) | vid) if vid else b""
            s.send(dmac + smac + tag + struct.pack("!H", 0x0800) + ip)


COMMANDS = {"udp": (udp, 5), "flows": (flows, 5), "rr": (rr, 6), "tcp": (tcp, 3), "tun": (tun, 2), "vlan": (vlan, 2)}


def main(a):
    while a:
        if a[0] not in COMMANDS or len(a) <= COMMANDS[a[0]][1]:
            sys.exit(__doc__)
        fn, n = COMMANDS[a[0]]
        fn(*a[1:n + 1])
        a = a[n + 1:]


main(sys.argv[1:])
