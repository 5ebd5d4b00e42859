# SPDX-License-Identifier: MIT
"""lab.py - the fidelity harness's namespaces, processes and topologies.

Everything the harness makes is registered here and removed by Lab.close():
network namespaces (named fid<pid>-<tag>), background processes (ours only,
by pid), the temporary directory that holds the shm ring (RAWCAP_SHM_DIR),
the disk FIFO, snapshots and captures. Traffic stays inside those namespaces:
loopback, 198.18.0.0/15 and the IPv6 benchmarking prefix 2001:2::/48.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = [sys.executable, os.path.join(HERE, "gen.py")]
# IPv6 without autoconfiguration noise: no DAD, no router solicitations.
QUIET_V6 = ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
            "net.ipv6.conf.all.dad_transmits=0", "net.ipv6.conf.default.dad_transmits=0",
            "net.ipv6.conf.all.router_solicitations=0", "net.ipv6.conf.default.router_solicitations=0",
            "net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0"]


class SetupError(Exception):
    """The run could not be set up: no verdict on rawcap."""


class Lab:
    def __init__(self, keep=None):
        self.tmp = tempfile.mkdtemp(prefix="fidelity-")
        os.chmod(self.tmp, 0o755)
        self.shm = os.path.join(self.tmp, "shm")
        os.mkdir(self.shm)
        os.chmod(self.shm, 0o755)
        self.env = dict(os.environ, RAWCAP_SHM_DIR=self.shm)
        self.keep = keep
        self.procs, self.netns, self.seq = [], [], 0

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def mkns(self, tag):
        name = f"fid{os.getpid()}-{tag}"
        self.sh(None, "ip", "netns", "add", name)
        self.netns.append(name)
        self.sh(name, "ip", "link", "set", "lo", "up")
        self.sh(name, "sysctl", "-q", "-w", *QUIET_V6)
        return name

    def argv(self, ns, cmd):
        return (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]

    def sh(self, ns, *cmd, check=True, timeout=120, **kw):
        r = subprocess.run(self.argv(ns, cmd), env=self.env, capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check and r.returncode:
            raise SetupError(f"{' '.join(map(str, cmd))}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
        return r

    def start(self, ns, *cmd, out=None, err=None):
        """A background process started as `ip netns exec NS CMD`, so its pid is CMD's."""
        self.seq += 1
        out = out or self.path(f"p{self.seq}.out")
        err = err or self.path(f"p{self.seq}.err")
        with open(out, "wb") as fo, open(err, "wb") as fe:
            p = subprocess.Popen(self.argv(ns, cmd), env=self.env, stdout=fo, stderr=fe,
                                 stdin=subprocess.DEVNULL)
        p.out, p.err = out, err
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def wait_for(self, p, text, timeout=15, what=None):
        end = time.time() + timeout
        while time.time() < end:
            with open(p.err, "rb") as f:
                if text.encode() in f.read():
                    return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise SetupError(f"{what or p.args[3]} did not start: {tail(p.err)}")

    def close(self):
        for p in list(self.procs):
            self.stop(p, signal.SIGKILL)
        for n in self.netns:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        self.netns = []
        if self.keep:
            shutil.copytree(self.tmp, self.keep, dirs_exist_ok=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def tail(path, n=300):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace").strip()[-n:].replace("\n", " | ")
    except OSError:
        return ""


def sweep_stale():
    """Delete namespaces of harness runs whose process is gone (a killed run)."""
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith("fid") and "-" in name:
            pid = name[3:].split("-", 1)[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                subprocess.run(["ip", "netns", "del", name], capture_output=True)


# ---- topologies ----
# A topology builds its namespaces and tells where traffic goes. It returns a
# Topo; the capture namespace is always Topo.cap.

class Topo:
    def __init__(self, lab, cap):
        self.lab, self.cap = lab, cap
        self.src = cap                    # namespace the generator runs in
        self.sinks = [cap]                # namespaces that run `gen.py serve`
        self.dst4, self.dst6 = [], None   # destinations
        self.raw = None                   # (ns, iface, dst iface) for raw frames
        self.tun = None                   # tun device in cap
        self.path = []                    # (ns, iface) pairs a packet crosses
        self.del_link = None              # (ns, iface) deleted right after the traffic
        self.traffic = {"udp", "flows", "frag", "ip6ext", "tcp", "bigtcp"}

    def mac(self, ns, iface):
        return self.lab.sh(ns, "cat", f"/sys/class/net/{iface}/address").stdout.strip()


def _veth(lab, a_ns, a, b_ns, b, a4, b4, a6=None, b6=None):
    lab.sh(a_ns, "ip", "link", "add", a, "type", "veth", "peer", "name", b)
    lab.sh(a_ns, "ip", "link", "set", b, "netns", b_ns)
    for ns, dev, v4, v6 in ((a_ns, a, a4, a6), (b_ns, b, b4, b6)):
        if v4:
            lab.sh(ns, "ip", "addr", "add", v4, "dev", dev)
        if v6:
            lab.sh(ns, "ip", "addr", "add", v6, "dev", dev, "nodad")
        lab.sh(ns, "ip", "link", "set", dev, "up")


def topo_lo(lab):
    t = Topo(lab, lab.mkns("c"))
    lab.sh(t.cap, "ip", "link", "set", "lo", "mtu", "1500")  # so that frag traffic fragments
    t.dst4, t.dst6, t.path = ["127.0.0.1"], "::1", [(t.cap, "lo")]
    return t


def topo_veth(lab, delete=False):
    t = Topo(lab, lab.mkns("c"))
    p = lab.mkns("p")
    _veth(lab, t.cap, "vA", p, "vB", "198.18.0.1/24", "198.18.0.2/24", "2001:2:0:1::1/64", "2001:2:0:1::2/64")
    t.src, t.dst4, t.dst6 = p, ["198.18.0.1"], "2001:2:0:1::1"
    t.path = [(t.cap, "vA"), (p, "vB")]
    t.raw = (p, "vB", "vA")
    if delete:
        t.del_link = (p, "vB")
        t.traffic = {"udp"}
    return t


def topo_vlan(lab):
    t = topo_veth(lab)
    t.traffic = {"vlan"}
    return t


# ARPHRD types a tun device can take (TUNSETLINK): the link types of the raw-IP
# tunnels (ipip, gre, sit, ip6tnl, ip6gre, rmnet) that this kernel cannot build.
TUN_TYPES = {"tun": 0xFFFE, "ipip": 768, "ip6tnl": 769, "sit": 776, "gre": 778, "ip6gre": 823,
             "rawip": 519, "ppp": 512}


def topo_tun(lab, kind="tun"):
    t = Topo(lab, lab.mkns("c"))
    lab.sh(t.cap, *GEN, "mktun", "ft0", "--arphrd", TUN_TYPES[kind])
    lab.sh(t.cap, "ip", "addr", "add", "198.18.2.1/24", "dev", "ft0")
    lab.sh(t.cap, "ip", "addr", "add", "2001:2:0:2::1/64", "dev", "ft0", "nodad", check=False)
    lab.sh(t.cap, "ip", "link", "set", "ft0", "up")
    t.tun, t.traffic = "ft0", {"rawip"}
    return t


def topo_vxlan(lab):
    t = Topo(lab, lab.mkns("c"))
    p = lab.mkns("p")
    _veth(lab, t.cap, "vA", p, "vB", "198.18.0.1/24", "198.18.0.2/24")
    for ns, under, local, remote, inner4, inner6 in (
            (t.cap, "vA", "198.18.0.1", "198.18.0.2", "198.18.3.1/24", "2001:2:0:3::1/64"),
            (p, "vB", "198.18.0.2", "198.18.0.1", "198.18.3.2/24", "2001:2:0:3::2/64")):
        lab.sh(ns, "ip", "link", "add", "fx0", "type", "vxlan", "id", "42", "local", local, "remote", remote,
               "dstport", "4789", "dev", under)
        lab.sh(ns, "ip", "addr", "add", inner4, "dev", "fx0")
        lab.sh(ns, "ip", "addr", "add", inner6, "dev", "fx0", "nodad")
        lab.sh(ns, "ip", "link", "set", "fx0", "up")
    t.src, t.dst4, t.dst6 = p, ["198.18.3.1"], "2001:2:0:3::1"
    t.path = [(t.cap, "vA"), (p, "vB"), (t.cap, "fx0"), (p, "fx0")]
    t.traffic = {"udp", "frag", "ip6ext", "tcp"}
    return t


def topo_bridge(lab):
    """p -- bA [br0 in c] bB -- q: traffic from p to q is bridged, from p to br0 is local."""
    t = Topo(lab, lab.mkns("c"))
    p, q = lab.mkns("p"), lab.mkns("q")
    lab.sh(t.cap, "ip", "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
    lab.sh(t.cap, "ip", "addr", "add", "198.18.4.1/24", "dev", "br0")
    lab.sh(t.cap, "ip", "addr", "add", "2001:2:0:4::1/64", "dev", "br0", "nodad")
    _veth(lab, t.cap, "bA", p, "pA", None, "198.18.4.2/24", None, "2001:2:0:4::2/64")
    _veth(lab, t.cap, "bB", q, "pB", None, "198.18.4.3/24", None, "2001:2:0:4::3/64")
    for port in ("bA", "bB"):
        lab.sh(t.cap, "ip", "link", "set", port, "master", "br0")
    lab.sh(t.cap, "ip", "link", "set", "br0", "up")
    t.src, t.sinks = p, [q, t.cap]
    t.dst4, t.dst6 = ["198.18.4.3", "198.18.4.1"], "2001:2:0:4::3"
    t.path = [(t.cap, "bA"), (t.cap, "bB"), (t.cap, "br0"), (p, "pA"), (q, "pB")]
    return t


TOPOLOGIES = {"lo": topo_lo, "veth": topo_veth, "vethdel": lambda lab: topo_veth(lab, delete=True),
              "vlan": topo_vlan, "vxlan": topo_vxlan, "bridge": topo_bridge}
TOPOLOGIES.update({f"tun-{k}" if k != "tun" else "tun": (lambda k: lambda lab: topo_tun(lab, k))(k)
                   for k in TUN_TYPES})


def traffic(t, kind, tag="fid", count=None):
    """Run one kind of traffic through topology t (blocking)."""
    lab = t.lab
    common = ["--tag", tag]
    if kind == "udp":
        lab.sh(t.src, *GEN, "udp", *t.dst4, *([t.dst6] if t.dst6 else []), "--count", count or 40, *common,
               *(["--del-link", t.del_link[1]] if t.del_link else []))
    elif kind == "flows":  # many short flows, interleaved in time: what fanout spreads
        lab.sh(t.src, *GEN, "udp", t.dst4[0], "--count", count or 200, "--new-flows", "--gap", 0.001, *common)
    elif kind == "frag":
        lab.sh(t.src, *GEN, "frag", *t.dst4, "--count", count or 10, *common)
    elif kind == "ip6ext":
        lab.sh(t.src, *GEN, "ip6ext", t.dst6, "--count", count or 10, *common)
    elif kind == "tcp":
        lab.sh(t.src, *GEN, "tcp", t.dst4[0], "--bytes", 1 << 20, *common)
    elif kind == "bigtcp":
        lab.sh(t.src, *GEN, "tcp", t.dst6, "--bytes", 8 << 20, *common)
    elif kind == "vlan":
        ns, iface, peer = t.raw
        lab.sh(ns, *GEN, "vlan", iface, t.mac(t.cap, peer), "--count", count or 20, *common)
    elif kind == "rawip":
        lab.sh(t.cap, *GEN, "tun", t.tun, "--count", count or 20, *common)
        # and a few on lo beside it: one window, two link types
        lab.sh(t.cap, *GEN, "udp", "127.0.0.1", "--count", 5, "--tag", tag + "lo")
    else:
        raise SetupError(f"unknown traffic {kind}")


def prepare(t, kind):
    """Link settings a kind of traffic needs before capture starts."""
    if kind == "bigtcp":
        for ns, iface in t.path:
            t.lab.sh(ns, "ip", "link", "set", iface, "gso_max_size", "400000", "gro_max_size", "400000")


def filler(t, count):
    """Traffic after the window, to push the window out of the ring (window-from-disk exports)."""
    if t.tun:
        t.lab.sh(t.cap, *GEN, "tun", t.tun, "--count", count // 4, "--tag", "fill")
    elif t.raw and "vlan" in t.traffic:
        traffic(t, "vlan", "fill", count // 2)
    else:
        t.lab.sh(t.src, *GEN, "udp", t.dst4[0], "--count", count, "--port", 7009, "--tag", "fill")
