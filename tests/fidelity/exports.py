# SPDX-License-Identifier: MIT
"""exports.py - the export paths the fidelity harness drives, one method each.

Every method writes one export of the run's window [T0, T1) for one cell,
notes what went wrong on the cell (c.notes: a difference; c.said: what
rawcap printed on stderr while exiting 0) and returns the file to judge.
"""
import json
import os
import signal
import time

import lab as labmod
import pcapdiff
from lab import GEN, SetupError, tail


def oneline(text, n=200):
    """The end of a tool's stderr, on one line."""
    return " / ".join(text.strip().splitlines())[-n:]


def stamp(ns):
    """A time as rawcap's readers take it: unix seconds with nine decimals."""
    return f"{ns // 10**9}.{ns % 10**9:09d}"


class Exports:
    """Mixed into runner.Run, which provides lab, ring, disk, topo, t0, t1 and bin()."""

    def export_path(self, c, part=""):
        return self.lab.path(f"x-{c.name}{part}.{c.format}")

    @staticmethod
    def filter_args(c):
        return ["--filter", c.filter] if c.filter else []

    @staticmethod
    def snap_args(c):
        return ["--snaplen", str(c.snaplen)] if c.snaplen else []

    def window(self):
        return ["--from", stamp(self.t0), "--to", stamp(self.t1)]

    def export(self, c):
        if c.source == "ring":
            return self.pcap(c, "--ring", self.ring)
        if c.source == "disk":
            return self.pcap(c, "--ring", self.ring, "--storage", self.disk)
        if c.source == "snapshot":
            return self.snapshot(c, self.window())
        if c.source == "snaplast":  # a window that starts long before capd did
            return self.snapshot(c, ["--last", "10m"])
        if c.source == "split":
            return self.split(c)
        if c.source == "forward":
            return self.forward(c)
        return self.export_path(c)  # follow: written while capturing

    def pcap(self, c, *src, window=None, out=None, filt=True):
        out = out or self.export_path(c)
        window = self.window() if window is None else window
        r = self.lab.sh(None, self.bin("readers", "rawcap-pcap"), *src, *window, "-q", "--format", c.format,
                        *(self.filter_args(c) if filt else []), *self.snap_args(c), "-o", out, check=False)
        if r.returncode:
            c.notes.append(f"rawcap-pcap exit {r.returncode}: {oneline(r.stderr)}")
            c.exit_failed = True
        elif r.stderr.strip():
            c.said.append(oneline(r.stderr))
        return out

    def start_follow(self, c):
        out = self.export_path(c)
        return self.lab.start(None, self.bin("readers", "rawcap-pcap"), "--ring", self.ring, "--follow", "-q",
                              "--format", c.format, *self.filter_args(c), *self.snap_args(c), "-o", out,
                              err=out + ".err")

    def snapshot(self, c, window):
        dest = self.lab.path("snaps")
        snap = [self.bin("readers", "rawcap-snapshot")]
        r = self.lab.sh(None, *snap, "create", "--ring", self.ring, *window, *self.filter_args(c),
                        "--dest", dest, "--name", c.name, check=False)
        if r.returncode:
            c.notes.append(f"snapshot create exit {r.returncode}: {oneline(r.stderr)}")
            c.exit_failed = True
        v = self.lab.sh(None, *snap, "verify", c.name, "--dest", dest, check=False)
        if v.returncode:
            c.notes.append(f"snapshot verify exit {v.returncode}: {oneline(v.stderr)}")
        try:
            with open(os.path.join(dest, c.name, "manifest.json")) as f:
                c.reported = json.load(f).get("packets")
        except (OSError, ValueError) as e:
            c.notes.append(f"no manifest: {e}")
        # All of it, unfiltered: the snapshot holds the window and applied the filter.
        return self.pcap(c, "--snapshot", os.path.join(dest, c.name), window=[], filt=False)

    def split(self, c):
        """The window cut in two at the timestamp of a packet in its middle: each
        half must hold exactly the whole window's packets stamped on its side."""
        whole = self.pcap(c, "--ring", self.ring)
        key = lambda p: (p.ts, p.origlen, p.data)
        try:
            want = sorted(pcapdiff.read(whole), key=key)
        except (OSError, pcapdiff.FormatError):
            return whole  # judged as unreadable
        if len(want) < 2:
            c.notes.append("split: fewer than 2 packets in the window")
            return whole
        cut = want[len(want) // 2].ts
        for i, (a, b) in enumerate(((self.t0, cut), (cut, self.t1))):
            half = self.pcap(c, "--ring", self.ring, window=["--from", stamp(a), "--to", stamp(b)],
                             out=self.export_path(c, f"-{i}"))
            try:
                mine = sorted(pcapdiff.read(half), key=key)
            except (OSError, pcapdiff.FormatError) as e:
                c.notes.append(f"split: half {i} is unreadable: {e}")
                continue
            exp = [p for p in want if (p.ts < cut) == (i == 0)]
            if list(map(key, mine)) != list(map(key, exp)):
                c.notes.append(f"split at {stamp(cut)}: [{'T0, cut' if i == 0 else 'cut, T1'}) holds "
                               f"{len(mine)} packets, the whole window {len(exp)} stamped there")
        return whole

    def forward(self, c):
        out, port = self.export_path(c), 23000 + self.cells.index(c)
        fw = self.lab.start(self.topo.cap, self.bin("readers", "rawcap-forward"), "--ring", self.ring,
                            *self.window(), *self.filter_args(c), *self.snap_args(c),
                            "--listen", f"127.0.0.1:{port}", "--plain", "--format", c.format)
        r = self.lab.sh(self.topo.cap, *GEN, "fetch", "127.0.0.1", "--port", port, "--out", out,
                        check=False, timeout=60)
        if r.returncode:
            c.notes.append(f"forward client: {oneline(r.stderr)}")
        rc = self.lab.stop(fw)
        if rc not in (0, -signal.SIGTERM):
            c.notes.append(f"rawcap-forward exit {rc}: {tail(fw.err, 200)}")
            c.exit_failed = True
        return out

    def push_out_of_ring(self):
        """Send traffic after the window until the ring no longer holds its start,
        so that window-from-disk exports read the disk FIFO."""
        stat = [self.bin("readers", "rawcap-stat"), "--ring", self.ring, "--json", "--interval", "0"]
        for _ in range(8):
            labmod.filler(self.topo, 2000)
            time.sleep(0.3)
            if json.loads(self.lab.sh(None, *stat).stdout)["oldest_ts_ns"] > self.t1:
                time.sleep(1.2)  # capd's --sync-interval
                return
        raise SetupError("the ring still holds the window after 8 rounds of filler")
