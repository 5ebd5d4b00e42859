#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# mkpcap.py OUT BYTES [SEED] - write a pcap of UDP/IPv4 packets (198.18.0.1 ->
# 198.18.0.2, never sent anywhere) of varied sizes with pseudo-random payloads,
# about BYTES of packet data, one packet per microsecond ending now: the input
# the S3 tests and benchmark turn into a snapshot (pktwriter, rawcap-snapshot).
import os
import random
import struct
import sys
import time


def main():
    out, total = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    block = rnd.randbytes(1 << 20)
    n = 0
    size = 0
    sizes = []
    while size < total:
        plen = 64 + rnd.randrange(1400)
        sizes.append(plen)
        size += plen
    t0 = time.time() - len(sizes) * 1e-6 - 1
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, plen in enumerate(sizes):
            ts = t0 + i * 1e-6
            sec, usec = int(ts), int((ts - int(ts)) * 1e6)
            off = (i * 7919) % (len(block) - plen)
            payload = block[off:off + plen]
            udp = struct.pack("!HHHH", 40000 + i % 1000, 9999, 8 + plen, 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                             bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
            frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
            n += 1
    print(n)


if __name__ == "__main__":
    main()
