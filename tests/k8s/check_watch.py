#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_watch.py - assertions for watch_test.sh: the driver's counters, the
metadata records rawcap-tap read back from the ring (JSON lines and the
msgpack stream, decoded here independently of msgpack-c), and the requests
the fake API server saw."""
import json
import struct
import sys


def mp_decode(buf, i=0):
    """A small msgpack decoder (the types rawcap writes), independent of msgpack-c."""
    t = buf[i]
    if t <= 0x7f:
        return t, i + 1
    if t >= 0xe0:
        return t - 0x100, i + 1
    if 0x80 <= t <= 0x8f:
        return mp_map(buf, i + 1, t & 0x0f)
    if 0x90 <= t <= 0x9f:
        return mp_arr(buf, i + 1, t & 0x0f)
    if 0xa0 <= t <= 0xbf:
        n = t & 0x1f
        return buf[i + 1:i + 1 + n].decode(), i + 1 + n
    simple = {0xc0: None, 0xc2: False, 0xc3: True}
    if t in simple:
        return simple[t], i + 1
    ints = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q",
            0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q", 0xca: ">f", 0xcb: ">d"}
    if t in ints:
        size = struct.calcsize(ints[t])
        return struct.unpack_from(ints[t], buf, i + 1)[0], i + 1 + size
    lens = {0xd9: ">B", 0xda: ">H", 0xdb: ">I"}
    if t in lens:
        size = struct.calcsize(lens[t])
        n = struct.unpack_from(lens[t], buf, i + 1)[0]
        j = i + 1 + size
        return buf[j:j + n].decode(), j + n
    if t in (0xdc, 0xdd):
        fmt = ">H" if t == 0xdc else ">I"
        n = struct.unpack_from(fmt, buf, i + 1)[0]
        return mp_arr(buf, i + 1 + struct.calcsize(fmt), n)
    if t in (0xde, 0xdf):
        fmt = ">H" if t == 0xde else ">I"
        n = struct.unpack_from(fmt, buf, i + 1)[0]
        return mp_map(buf, i + 1 + struct.calcsize(fmt), n)
    raise ValueError("unexpected msgpack type 0x%02x" % t)


def mp_arr(buf, i, n):
    out = []
    for _ in range(n):
        v, i = mp_decode(buf, i)
        out.append(v)
    return out, i


def mp_map(buf, i, n):
    out = {}
    for _ in range(n):
        k, i = mp_decode(buf, i)
        v, i = mp_decode(buf, i)
        out[k] = v
    return out, i


def check_stats(st):
    assert st["json_errors"] >= 1, ("malformed line not counted", st)
    assert st["oversized"] >= 1, ("oversized object not counted", st)
    assert st["gone"] >= 2, ("410 (event and status) not counted", st)
    assert st["conn_errors"] >= 1, ("dropped connection not counted", st)
    assert st["bookmarks"] >= 2, st
    assert st["deleted_on_relist"] == 1, st
    assert st["syncs"] >= 1, st
    assert st["dropped"] == 0 and st["written"] == st["queued"], st
    # A watcher that blocked the loop would stall it for a watch timeout or
    # the rest of the run (seconds); scheduling delays on a loaded machine
    # stay well under a second. "packets" only proves the loop kept turning.
    assert st["max_loop_gap_ms"] < 1000, ("capture loop stalled", st)
    assert st["packets"] > 100, st


def check_records(recs):
    by = {}
    for r in recs:
        d = r["data"]
        assert d["v"] == 1 and d["kind"] == r["kind"], r
        if d["event"] != "sync":
            by.setdefault(r["kind"], []).append(d)
    pods = [(d["name"], d["event"]) for d in by["pod"]]
    want = [("web-a", "added"), ("web-b", "added"), ("web-c", "added"), ("web-a", "modified"),
            ("web-b", "deleted"), ("web-d", "added"), ("node-agent", "added"),
            ("web-c", "deleted")]
    assert pods == want, ("pod events", pods)
    a = by["pod"][0]
    assert a["namespace"] == "rc-test" and a["node"] == "node-1" and a["phase"] == "Running", a
    assert a["ips"] == ["198.18.3.7"] and a["host_network"] is False, a
    assert a["labels"] == {"app": "web", "tier": "front"} and a["rv"] == "101", a
    assert a["uid"] == "11111111-aaaa-4aaa-8aaa-000000000001", a
    assert a["containers"] == [
        {"name": "app", "id": "containerd://" + "a1" * 32, "image": "registry.example/web:1.2"},
        {"name": "sidecar", "id": "containerd://" + "b2" * 32,
         "image": "registry.example/proxy:0.9"}], a
    assert by["pod"][3]["labels"].get("version") == "v2", by["pod"][3]
    assert by["pod"][6]["host_network"] is True, by["pod"][6]
    nss = [(d["name"], d["event"]) for d in by["namespace"]]
    assert nss == [("default", "added"), ("rc-test", "added"), ("rc-new", "added"),
                   ("rc-new", "deleted")], ("namespace events", nss)
    svc = by["service"]
    assert len(svc) == 1 and svc[0]["cluster_ips"] == ["198.19.0.10"], svc
    assert svc[0]["ports"] == [
        {"name": "http", "protocol": "TCP", "port": 80, "target_port": 8080},
        {"name": "metrics", "protocol": "TCP", "port": 9090, "target_port": "metrics"}], svc
    assert svc[0]["selector"] == {"app": "web"}, svc
    eps = by["endpoints"]
    assert [d["event"] for d in eps] == ["added", "modified"], eps
    assert eps[0]["service"] == "web" and eps[0]["address_type"] == "IPv4", eps
    e0, e1 = eps[0]["endpoints"]
    assert e0["addresses"] == ["198.18.3.7"] and e0["ready"] is True, e0
    assert e0["pod"] == {"namespace": "rc-test", "name": "web-a",
                         "uid": "11111111-aaaa-4aaa-8aaa-000000000001"}, e0
    assert e1["ready"] is False and e1["pod"]["name"] == "web-b", e1
    assert len(eps[1]["endpoints"]) == 1, eps[1]
    # records in stream order
    seqs = [r["seq"] for r in recs]
    assert seqs == sorted(seqs), "records out of order"


def check_requests(reqs):
    assert all(r["auth_ok"] for r in reqs), "a request without the bearer token"
    pods = [r for r in reqs if r["path"] == "/api/v1/pods"]
    kinds = [("watch" if r["query"].get("watch") == "1" else "list") for r in pods]
    assert kinds[:6] == ["list", "list", "watch", "watch", "list", "watch"], kinds
    q = [r["query"] for r in pods]
    assert all(x.get("fieldSelector") == "spec.nodeName=node-1" for x in q), q
    assert "continue" not in q[0] and q[1]["continue"] == "tok1-opaque", q[:2]
    assert q[2]["resourceVersion"] == "102" and q[2]["allowWatchBookmarks"] == "true", q[2]
    assert q[3]["resourceVersion"] == "107", ("rewatch after drop", q[3])
    assert "continue" not in q[4] and "resourceVersion" not in q[4], ("relist", q[4])
    assert q[5]["resourceVersion"] == "200", q[5]
    ns = [r["query"] for r in reqs if r["path"] == "/api/v1/namespaces"]
    rvs = [x.get("resourceVersion", "list") for x in ns]
    assert rvs[:5] == ["list", "20", "22", "list", "30"], rvs


def main():
    stats, all_json, pods_json, all_mp, reqlog = sys.argv[1:6]
    check_stats(json.load(open(stats)))
    recs = [json.loads(line) for line in open(all_json)]
    check_records(recs)
    pods = [json.loads(line) for line in open(pods_json)]
    assert pods and all(r["kind"] == "pod" for r in pods), "--kind pod"
    assert pods == [r for r in recs if r["kind"] == "pod"], "--kind pod differs from the full tap"
    buf = open(all_mp, "rb").read()
    items, i = [], 0
    while i < len(buf):
        v, i = mp_decode(buf, i)
        items.append(v)
    want = [{"seq": r["seq"], "ts_ns": r["ts_ns"], "kind": r["kind"], "data": r["data"]}
            for r in recs]
    assert items == want, "msgpack stream does not round-trip to the JSON lines"
    check_requests([json.loads(line) for line in open(reqlog)])
    print("check_watch: %d records, %d pod records ok" % (len(recs), len(pods)))


if __name__ == "__main__":
    main()
