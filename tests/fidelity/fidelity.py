#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fidelity.py - the differential fidelity harness: rawcap's exports against tcpdump.

Each cell of matrix.txt is one line: a topology, a kind of traffic, capd's
options, an export path and a filter. Cells that share topology, traffic and
capd options share one capture run: the namespaces are built, capd and one
tcpdump per captured interface (and filter) start, the traffic runs inside
the window [T0, T1), and every cell's export is compared with tcpdump's
packets of the same interface stamped inside the window (pcapdiff.py).

Verdicts: PASS, FAIL (a difference), XFAIL (a difference in a cell listed in
xfail.txt), XPASS (a listed cell that now passes: remove it from the list),
ERROR (the run could not be set up), SKIP (this machine cannot run it: no eBPF
backend). Exit status 0 only if there is no FAIL, XPASS or ERROR; 77 when not
run as root.

Usage: fidelity.py --build DIR [--tier ci|full] [--cell GLOB]... [--list]
                   [--table FILE] [--keep DIR] [--verbose]
"""
import argparse
import fnmatch
import os
import re
import shlex
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from runner import Run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ("ring", "disk", "snapshot", "snaplast", "split", "forward", "follow")


class Cell:
    """One line of matrix.txt."""

    def __init__(self, line, lineno):
        cols = [c.strip() for c in line.split("|")]
        if len(cols) != 7:
            raise ValueError(f"matrix line {lineno}: {len(cols)} columns, want 7")
        self.name, self.topo, self.traffic, capd, export, filt, self.tier = cols
        self.capd = shlex.split(capd)
        self.filter = None if filt == "-" else filt
        m = re.fullmatch(rf"({'|'.join(SOURCES)})/(pcapng|pcap)(?::snaplen=(\d+))?", export)
        if not m:
            raise ValueError(f"matrix line {lineno}: bad export {export!r}")
        self.source, self.format = m.group(1), m.group(2)
        self.snaplen = int(m.group(3)) if m.group(3) else None
        if self.topo not in labmod.TOPOLOGIES:
            raise ValueError(f"matrix line {lineno}: unknown topology {self.topo}")
        if self.tier not in ("ci", "full"):
            raise ValueError(f"matrix line {lineno}: tier must be ci or full")
        self.run_key = (self.topo, self.traffic, capd)
        self.verdict, self.diff, self.stats = None, "", None


def load_matrix(path):
    cells = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                cells.append(Cell(line, n))
    names = [c.name for c in cells]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate cell names: {', '.join(sorted(dup))}")
    return cells


def load_xfail(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, reason = line.partition(" ")
                out[name] = reason.strip()
    return out


def settle(cells, xfail):
    for c in cells:
        if c.name in xfail:
            c.verdict = {"FAIL": "XFAIL", "PASS": "XPASS"}.get(c.verdict, c.verdict)
            if c.verdict == "XPASS":
                c.diff = f"listed in xfail.txt ({xfail[c.name]}) but passes: remove it from the list"


def detail(c):
    """The first difference, or for a pass the figures."""
    if c.verdict != "PASS":
        return c.diff
    l3 = ", compared from L3" if c.stats["l3"] else ""
    lost = f", {c.stats['lost']} lost upstream and reported" if c.stats["lost"] else ""
    return f"{c.stats['packets']} packets, max |dt| {c.stats['max_dt']} ns{l3}{lost}"


def line(c):
    """One line per cell: the verdict and the detail."""
    return f"{c.verdict:5} {c.name}" + (f" ({detail(c)})" if c.verdict == "PASS" else f": {detail(c)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("RAWCAP_BUILD"))
    ap.add_argument("--tier", choices=("ci", "full"), default="full")
    ap.add_argument("--cell", action="append", default=[], help="only cells matching this glob")
    ap.add_argument("--matrix", default=os.path.join(HERE, "matrix.txt"))
    ap.add_argument("--xfail", default=os.path.join(HERE, "xfail.txt"))
    ap.add_argument("--list", action="store_true", help="list the selected cells and exit")
    ap.add_argument("--table", help="also write the results as a markdown table to this file")
    ap.add_argument("--keep", help="copy each run's files (captures, exports, logs) here")
    ap.add_argument("--verbose", "-v", action="store_true", help="time each phase of each run")
    a = ap.parse_args()
    cells = load_matrix(a.matrix)
    xfail = load_xfail(a.xfail)
    unknown = set(xfail) - {c.name for c in cells}
    if unknown:
        sys.exit(f"xfail.txt names cells not in the matrix: {', '.join(sorted(unknown))}")
    cells = [c for c in cells if a.tier == "full" or c.tier == "ci"]
    if a.cell:
        cells = [c for c in cells if any(fnmatch.fnmatch(c.name, g) for g in a.cell)]
    if a.list:
        for c in cells:
            print(f"{c.name:40} {c.tier:4} {'xfail' if c.name in xfail else ''}")
        return 0
    if not a.build or not os.path.isfile(os.path.join(a.build, "capd", "capd")):
        sys.exit("fidelity.py: --build DIR (or RAWCAP_BUILD) must name a build tree with capd/capd")
    if os.geteuid():
        print("SKIP: the fidelity harness needs root (network namespaces, AF_PACKET)")
        return 77
    a.build = os.path.abspath(a.build)
    labmod.sweep_stale()
    runs = {}
    for c in cells:
        runs.setdefault(c.run_key, []).append(c)
    start = time.time()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    for i, rc in enumerate(runs.values()):
        Run(a, rc, i).go()
        settle(rc, xfail)
        for c in rc:
            print(line(c), flush=True)
    counts = {v: sum(1 for c in cells if c.verdict == v)
              for v in ("PASS", "FAIL", "XFAIL", "XPASS", "ERROR", "SKIP")}
    print(f"fidelity: {len(cells)} cells in {len(runs)} runs, {time.time() - start:.0f} s: "
          + ", ".join(f"{v} {n}" for v, n in counts.items()))
    if a.table:
        with open(a.table, "w") as f:
            f.write("| cell | result | difference |\n|---|---|---|\n")
            for c in cells:
                cell = detail(c).replace("|", "\\|")
                f.write(f"| {c.name} | {c.verdict} | {cell} |\n")
    return 1 if counts["FAIL"] or counts["XPASS"] or counts["ERROR"] else 0


if __name__ == "__main__":
    sys.exit(main())
