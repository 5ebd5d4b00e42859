# SPDX-License-Identifier: MIT
"""runner.py - one capture run of the fidelity harness, and the verdict on its cells.

A run is shared by the cells of one (topology, traffic, capd options): build
the namespaces, start capd and the tcpdumps (the oracle), send the traffic
inside the window [T0, T1), write every cell's export (exports.py) and judge
it against tcpdump's packets stamped inside the window (pcapdiff.py).
"""
import fnmatch
import os
import re
import signal
import subprocess
import sys
import time

import lab as labmod
import pcapdiff
from exports import Exports
from lab import GEN, SetupError, tail

# Timestamp bounds (ns). AF_PACKET: capd's and tcpdump's sockets share the
# skb's timestamp when the kernel set one, and otherwise each reads the clock
# as the packet reaches it, one tap after the other (measured: 0-18 us apart).
# eBPF: the tc program stamps with the monotonic clock (offset to real time
# once at start) at tc, which runs after the taps on ingress and before them
# on egress (measured: up to 0.8 ms apart on a loaded 2-core VM). On a VM
# the host can deschedule the vCPU between the two taps (steal time): 1.3 ms
# apart once for AF_PACKET at load 9. The faults this bound is for (a wrong
# resolution, clock or offset) are off by far more than 5 ms.
TBOUND = {"afpacket": 5_000_000, "ebpf": 5_000_000}
# Not --immediate-mode: that gives TPACKET_V2, whose fixed frames of snaplen
# bytes hold only ~128 packets in this buffer; TPACKET_V3 packs them.
TD_BUFFER_KIB = 32768


class Skip(Exception):
    """The run cannot test what its cells ask for on this machine."""


class CapdOpts:
    """What the oracle must mirror of capd's options."""

    def __init__(self, argv):
        self.ifaces, self.filter, self.snaplen = ["any"], None, 262144
        self.ingress, self.backend = False, "afpacket"
        it = iter(argv)
        for a in it:
            if a in ("-i", "--interfaces"):
                self.ifaces = next(it).split(",")
            elif a in ("-e", "--filter"):
                self.filter = next(it)
            elif a == "--snaplen":
                self.snaplen = int(next(it))
            elif a == "--duplicates":
                self.ingress = next(it) == "ingress"
            elif a == "--backend":
                self.backend = next(it)

    def selects(self, name):
        return any(p == "any" or fnmatch.fnmatch(name, p) for p in self.ifaces)


def both(a, b):
    return " and ".join(f"({x})" for x in (a, b) if x) or None


class Run(Exports):
    def __init__(self, args, cells, index):
        self.args, self.cells, self.index = args, cells, index
        self.bin = lambda *p: os.path.join(args.build, *p)
        self.topo_name, self.kind, self.capd_argv = cells[0].topo, cells[0].traffic, cells[0].capd
        self.opts = CapdOpts(self.capd_argv)
        self.lab = labmod.Lab(keep=args.keep and os.path.join(args.keep, f"run{index}"))
        self.ring = f"fid{os.getpid()}r{index}"
        self.disk = self.lab.path("disk") if any(c.source == "disk" for c in cells) else None
        self.oracle = {}  # (interface or "any", filter) -> tcpdump's file
        for c in cells:
            c.notes, c.said, c.reported, c.exit_failed = [], [], None, False

    def log(self, what):
        if self.args.verbose:
            print(f"  [{time.time() - self.started:6.2f}s] run {self.index}: {what}", file=sys.stderr, flush=True)

    # ---- the capture ----
    def setup(self):
        t = self.topo = labmod.TOPOLOGIES[self.topo_name](self.lab)
        if self.kind not in t.traffic:
            raise SetupError(f"topology {self.topo_name} has no traffic {self.kind}")
        labmod.prepare(t, self.kind)
        for ns in t.sinks:
            ready = self.lab.path(f"sink-{ns}")
            self.lab.start(ns, *GEN, "serve", "--ready", ready, "--seconds", 300)
            deadline = time.time() + 10
            while not os.path.exists(ready):
                if time.time() > deadline:
                    raise SetupError("traffic sink did not start")
                time.sleep(0.05)
        self.ifindex = {}
        for line in self.lab.sh(t.cap, "ip", "-o", "link", "show").stdout.splitlines():
            idx, name = line.split(":")[:2]
            self.ifindex[int(idx)] = name.strip().split("@")[0]
        self.selected = {i: n for i, n in self.ifindex.items() if self.opts.selects(n)}

    def start_capture(self):
        ring_size = "4Mi" if self.disk else ("64Mi" if self.kind == "bigtcp" else "16Mi")
        argv = [self.bin("capd", "capd"), "--ring", self.ring, "--ring-size", ring_size]
        if self.disk:
            argv += ["--storage", self.disk, "--storage-size", "64Mi"]
        self.capd = self.lab.start(self.topo.cap, *argv, *self.capd_argv, err=self.lab.path("capd.err"))
        # One tcpdump per captured interface and filter; -i any (SLL2) for classic
        # pcap exports, which rawcap writes as SLL2 when link types are mixed, and
        # for interfaces that are deleted during the run (see oracle_of).
        wanted = [(ifc, f) for f in dict.fromkeys(c.filter for c in self.cells)
                  for ifc in sorted(self.selected.values())]
        any_cells = self.cells if self.topo.del_link else [c for c in self.cells if c.format == "pcap"]
        wanted += [("any", f) for f in dict.fromkeys(c.filter for c in any_cells)]
        tds = [self.tcpdump(ifc, f) for ifc, f in wanted]
        self.lab.wait_for(self.capd, "capturing into ring", what="capd")
        if self.opts.backend == "ebpf" and "eBPF backend unavailable" in tail(self.capd.err, 4000):
            raise Skip("capd's eBPF backend is unavailable here")
        for p in tds:
            try:
                self.lab.wait_for(p, "listening on", what=f"tcpdump -i {p.label}")
            except SetupError:
                if p.label != "any":
                    raise
                # e.g. "no VLAN support for Linux cooked v2": no SLL2 oracle for this filter
                del self.oracle[p.key]
                self.lab.stop(p)
        self.tcpdumps = [p for p in tds if p.returncode is None]
        self.follows = [(c, self.start_follow(c)) for c in self.cells if c.source == "follow"]
        time.sleep(0.3)

    def tcpdump(self, ifc, f):
        out = self.lab.path(f"td-{ifc}-{len(self.oracle)}.pcap")
        buf = TD_BUFFER_KIB * (4 if self.kind == "bigtcp" else 1)
        argv = ["tcpdump", "-i", ifc, "-s", self.opts.snaplen, "-B", buf, "-U", "-Z", "root",
                "--time-stamp-precision", "nano", "-w", out]
        # A deleted interface ends tcpdump before its last block retires.
        argv += ["--immediate-mode"] if self.topo.del_link else []
        argv += ["-Q", "in"] if self.opts.ingress else []
        expr = both(self.opts.filter, f)
        argv += [expr] if expr else []
        p = self.lab.start(self.topo.cap, *argv, err=out + ".err")
        p.label, p.key = ifc, (ifc, f)
        self.oracle[p.key] = out
        return p

    def capture(self):
        self.t0 = time.time_ns()
        time.sleep(0.3)
        labmod.traffic(self.topo, self.kind)
        time.sleep(0.15)  # the traffic is over when the generator returns
        self.t1 = time.time_ns()
        time.sleep(1.3)  # tcpdump's TPACKET_V3 blocks retire after 1 s, capd's after 100 ms
        self.td_drops = []
        for p in self.tcpdumps:
            self.lab.stop(p, signal.SIGINT)
            m = re.search(r"(\d+) packets dropped by kernel", tail(p.err, 2000))
            if m and int(m.group(1)):
                self.td_drops.append(f"tcpdump -i {p.label} dropped {m.group(1)}")

    def write_exports(self):
        exports = {c.name: self.export(c) for c in self.cells if c.source not in ("disk", "follow")}
        for c, p in self.follows:
            time.sleep(0.3)
            self.lab.stop(p, signal.SIGINT)
            exports[c.name] = self.export(c)
        if self.disk:
            self.push_out_of_ring()
            exports.update({c.name: self.export(c) for c in self.cells if c.source == "disk"})
        return exports

    # ---- the verdict ----
    def judge(self, c, path):
        """The differences between cell c's export and tcpdump's capture, as text."""
        try:
            got = pcapdiff.read(path)
        except (OSError, pcapdiff.FormatError) as e:
            return c.notes + [f"export unreadable: {e}"]
        diffs = [n for n in c.notes if not re.search(r"packets lost upstream", n)]
        diffs += self.tools(path, len(got))
        if c.reported is not None and c.reported != len(got):
            diffs.append(f"snapshot manifest reports {c.reported} packets, export has {len(got)}")
        if c.source in ("follow", "snaplast"):  # these hold more than the window
            got = pcapdiff.clip(got, self.t0, self.t1)
        snap = pcapdiff.check_snaplen(got)
        if snap:
            diffs.append(snap)
        c.stats = {"packets": len(got), "max_dt": 0, "l3": False, "lost": 0}
        missing, other, found = 0, 0, []
        for name, oracle, export, merged in self.groups(c, got):
            if c.snaplen:
                pcapdiff.truncate(oracle, c.snaplen)
            lo, lx = sorted({p.linktype for p in oracle}), sorted({p.linktype for p in export})
            if oracle and export and lo != lx:
                # Framing differs on purpose (libpcap falls back to cooked SLL for
                # ARPHRD types it does not know, rawcap records raw IP): compare from L3.
                oracle, export = list(map(pcapdiff.as_l3, oracle)), list(map(pcapdiff.as_l3, export))
                if c.snaplen:  # a snap length counts link headers of other sizes: compare what both keep
                    cut = min(p.snap for p in oracle + export)
                    pcapdiff.truncate(oracle, cut), pcapdiff.truncate(export, cut)
                name = f"{name} (from L3; link type rawcap {lx}, tcpdump {lo})"
                c.stats["l3"] = True
            d, st = pcapdiff.compare_group(name, oracle, export, TBOUND[self.opts.backend], merged)
            c.stats["max_dt"] = max(c.stats["max_dt"], st["max_dt"])
            missing, other = missing + st["missing"], other + st["other"]
            found += [d] if d else []
        reported = self.reported_loss(c, got)
        if missing and not other and missing <= reported:
            c.stats["lost"] = missing  # lost upstream and said so: not a difference
        else:
            diffs += found
            if missing and not reported and not c.exit_failed:
                diffs.append("the loss is silent: exit 0 and no drop count in the export")
        if self.td_drops:
            diffs.append("oracle unreliable: " + ", ".join(self.td_drops))
        if diffs and c.said:
            diffs.append("(rawcap said, exit 0: " + " / ".join(c.said) + ")")
        return diffs

    @staticmethod
    def reported_loss(c, got):
        """Packets the export says were lost: pcapng drop counts, or the count
        rawcap-pcap gave on stderr with exit 1 (classic pcap has no drop count)."""
        said = sum(int(n) for note in c.notes for n in re.findall(r"(\d+) packets lost", note))
        return max(sum(p.drops for p in got), said)

    def oracle_packets(self, ifc, c):
        path = self.oracle.get((ifc, c.filter))
        if not path:
            raise SetupError(f"no tcpdump -i {ifc} oracle for filter {c.filter!r}")
        return pcapdiff.clip(pcapdiff.read(path), self.t0, self.t1)

    def oracle_of(self, name, c):
        """tcpdump's packets of one interface. Of an interface that is deleted during
        the run, from tcpdump -i any: tcpdump bound to it ends with "the interface
        went down" and may leave its last packets unread."""
        if not self.topo.del_link:
            return self.oracle_packets(name, c)
        idx = next(i for i, n in self.ifindex.items() if n == name)
        return [p for p in self.oracle_packets("any", c) if p.ifindex == idx]

    def groups(self, c, got):
        """[(group name, tcpdump's packets, rawcap's packets, merged)]."""
        if pcapdiff.LT_SLL2 in {p.linktype for p in got}:
            # Classic pcap of mixed link types: rawcap writes SLL2, as tcpdump -i any does.
            ref = self.oracle_packets("any", c)
            groups = [(f"{name} (sll2)", [p for p in ref if p.ifindex == idx],
                       [p for p in got if p.ifindex == idx], False) for idx, name in self.selected.items()]
            stray = [p for p in got if p.ifindex not in self.selected]
            return groups + ([("unselected interfaces", [], stray, False)] if stray else [])
        named = any(p.iface for p in got)
        if named or len(self.selected) == 1:
            groups = [(name, self.oracle_of(name, c), [p for p in got if p.iface == name or not named], False)
                      for name in sorted(self.selected.values())]
            stray = [p for p in got if named and p.iface not in self.selected.values()]
            return groups + ([(f"interfaces not captured ({stray[0].iface})", [], stray, False)] if stray else [])
        # One link type, several interfaces, no names: the file is their union.
        ref = [p for name in sorted(self.selected.values()) for p in self.oracle_packets(name, c)]
        return [("all interfaces", ref, got, True)]

    def tools(self, path, n):
        """Every export opens in the standard tools with the same packet count."""
        out = []
        r = subprocess.run(["tcpdump", "-r", path, "-nn", "-q"], capture_output=True, text=True)
        cnt = len(r.stdout.splitlines())
        if r.returncode or cnt != n:
            why = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
            out.append(f"tcpdump -r: exit {r.returncode}, {cnt} of {n} packets ({why})")
        r = subprocess.run(["capinfos", "-c", "-M", path], capture_output=True, text=True)
        m = re.search(r"Number of packets:\s*(\d+)", r.stdout)
        if r.returncode or not m or int(m.group(1)) != n:
            out.append(f"capinfos: exit {r.returncode}, {m.group(1) if m else '?'} of {n} packets")
        if self.args.tier != "full":
            return out
        r = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number"],
                           capture_output=True, text=True)
        cnt = len(r.stdout.splitlines())
        if r.returncode or cnt != n:
            out.append(f"tshark -r: exit {r.returncode}, {cnt} of {n} packets")
        for tool in (["editcap", path, os.devnull], ["mergecap", "-w", os.devnull, path]):
            r = subprocess.run(tool, capture_output=True, text=True)
            if r.returncode:
                out.append(f"{tool[0]}: exit {r.returncode} ({r.stderr.strip()[-120:]})")
        return out

    def go(self):
        """Capture, export, judge; every cell gets a verdict, and the lab is gone after."""
        self.started = time.time()
        try:
            self.setup()
            self.log("set up")
            self.start_capture()
            self.log("capturing")
            self.capture()
            self.log("captured")
            exports = self.write_exports()
            self.log("exported")
            self.lab.stop(self.capd)
            for c in self.cells:
                try:
                    diffs = self.judge(c, exports[c.name])
                    c.diff, c.verdict = "; ".join(diffs), "FAIL" if diffs else "PASS"
                except SetupError as e:
                    c.diff, c.verdict = str(e), "ERROR"
            self.log("judged")
        except Skip as e:
            for c in self.cells:
                c.verdict, c.diff = "SKIP", str(e)
        except (SetupError, subprocess.TimeoutExpired, OSError) as e:
            for c in self.cells:
                c.verdict, c.diff = "ERROR", f"setup: {e}"
        finally:
            self.lab.close()
