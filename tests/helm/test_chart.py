#!/usr/bin/env python3
# test_chart.py - renders the rawcap Helm chart with the Go harness and asserts on the manifests.
#
# Usage: test_chart.py RENDER_BINARY CHART_DIR
# Prints one line per assertion and ends with "helm: N passed, M failed".
# Exit 0 when every assertion passed, 1 otherwise. Called by run.sh.
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
GOOD = os.path.join(HERE, "values", "good")
BAD = os.path.join(HERE, "values", "bad")

# The capability set capd needs for setup; values.yaml, README.md and the
# template must all say exactly this.
CAPD_CAPS = {"NET_RAW", "NET_ADMIN", "BPF", "PERFMON", "IPC_LOCK", "SYS_RESOURCE",
             "SETUID", "SETGID", "CHOWN"}
READERS = {"forward", "metadata", "snapshot", "server"}
# "Changed spellings ... still accepted" in the tools' --help.
OLD_SPELLINGS = {"--dest", "--snapshots", "--snapshot-quota", "--pod-namespace"}


class Results:
    """Counts assertions and prints one line for each."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   - {name}")
        else:
            self.failed += 1
            print(f"FAIL - {name}" + (f": {detail}" if detail else ""))
        return ok

    def skip(self, name, why):
        self.skipped += 1
        print(f"skip - {name}: {why}")


R = Results()


class Chart:
    """Renders the chart the way `helm template` would, values merged then validated."""

    def __init__(self, render, chart):
        self.render_bin, self.dir = render, chart
        with open(os.path.join(chart, "values.schema.json")) as f:
            self.schema = json.load(f)
        self.validator = jsonschema.Draft7Validator(self.schema)

    def run(self, files=(), notes=False, name="rawcap"):
        """Return (rc, stdout, stderr, merged values)."""
        with tempfile.NamedTemporaryFile(suffix=".json") as vf:
            cmd = [self.render_bin, "-chart", self.dir, "-name", name, "-namespace", "rawcap",
                   "-values-out", vf.name]
            for f in files:
                cmd += ["-f", f]
            if notes:
                cmd.append("-notes")
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            merged = json.load(open(vf.name)) if os.path.getsize(vf.name) else None
        return p.returncode, p.stdout, p.stderr, merged

    def schema_errors(self, merged):
        return sorted(e.message for e in self.validator.iter_errors(merged))

    def manifests(self, files=(), name="rawcap"):
        """Render and validate like Helm: schema first, then templates. Returns docs."""
        rc, out, err, merged = self.run(files, name=name)
        errs = self.schema_errors(merged) if merged is not None else ["no values"]
        if errs:
            raise AssertionError(f"schema rejected {files}: {errs[:3]}")
        if rc != 0:
            raise AssertionError(f"render failed: {err.strip()}")
        return [d for d in yaml.safe_load_all(out) if d is not None]


def g(obj, *path, default=None):
    """Nested get that tolerates missing keys and list indexes."""
    for p in path:
        try:
            obj = obj[p]
        except (KeyError, IndexError, TypeError):
            return default
    return obj


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def pod_spec(docs):
    ds = by_kind(docs, "DaemonSet")
    return ds[0]["spec"]["template"]["spec"] if ds else None


def containers(spec):
    return {c["name"]: c for c in spec.get("containers", [])}


def all_containers(spec):
    return spec.get("initContainers", []) + spec.get("containers", [])


def arg(c, flag):
    """Value following flag in a container's args, None if absent."""
    a = c.get("args", [])
    return a[a.index(flag) + 1] if flag in a and a.index(flag) + 1 < len(a) else None


def mebibytes(size):
    n, unit = re.fullmatch(r"(\d+)(Mi|Gi)", size).groups()
    return int(n) * (1024 if unit == "Gi" else 1)


def security_problems(spec):
    """Every least-privilege violation in a pod spec, as text; empty when clean."""
    bad = []
    if spec.get("hostPID") or spec.get("hostIPC"):
        bad.append("hostPID/hostIPC set")
    if spec.get("automountServiceAccountToken") is not False:
        bad.append("service account token auto-mounted into every container")
    for c in all_containers(spec):
        sc, n = c.get("securityContext", {}), c["name"]
        caps = sc.get("capabilities", {})
        add = set(caps.get("add", []))
        if sc.get("privileged") is not False:
            bad.append(f"{n}: privileged is not explicitly false")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{n}: allowPrivilegeEscalation is not false")
        if caps.get("drop") != ["ALL"]:
            bad.append(f"{n}: does not drop ALL capabilities")
        if sc.get("readOnlyRootFilesystem") is not True:
            bad.append(f"{n}: root filesystem is writable")
        if "SYS_ADMIN" in add or "DAC_OVERRIDE" in add:
            bad.append(f"{n}: adds SYS_ADMIN/DAC_OVERRIDE")
        if n == "capd":
            if add != CAPD_CAPS or len(caps.get("add", [])) != len(CAPD_CAPS):
                bad.append(f"capd: capabilities {sorted(add)} != documented {sorted(CAPD_CAPS)}")
        elif n == "snapshot-dir":
            if add != {"CHOWN"}:
                bad.append(f"snapshot-dir: capabilities {sorted(add)} != [CHOWN]")
        elif n == "fifo-dir":
            if add != {"CHOWN", "DAC_READ_SEARCH"}:
                bad.append(f"fifo-dir: capabilities {sorted(add)} != [CHOWN, DAC_READ_SEARCH]")
            if [m["name"] for m in c.get("volumeMounts", [])] != ["fifo"]:
                bad.append("fifo-dir: mounts more than the FIFO")
        else:
            if add:
                bad.append(f"{n}: reader adds capabilities {sorted(add)}")
            if sc.get("runAsNonRoot") is not True or not sc.get("runAsUser"):
                bad.append(f"{n}: reader may run as root")
            if g(sc, "seccompProfile", "type") != "RuntimeDefault":
                bad.append(f"{n}: reader seccomp is not RuntimeDefault")
            for m in c.get("volumeMounts", []):
                if m["name"] in ("shm", "fifo") and not m.get("readOnly"):
                    bad.append(f"{n}: reader mounts {m['name']} writable")
    return bad


def string_fields_problems(spec):
    """command/args/env values must be strings: a stray ': ' in YAML turns them into maps."""
    bad = []
    for c in all_containers(spec):
        for k in ("command", "args"):
            bad += [f"{c['name']}.{k}: {v!r}" for v in c.get(k, []) if not isinstance(v, str)]
        bad += [f"{c['name']}.env {e}" for e in c.get("env", [])
                if "value" in e and not isinstance(e["value"], str)]
    return bad


def leaf_paths(d, prefix=""):
    out = []
    for k, v in d.items():
        p = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            out += leaf_paths(v, p)
        else:
            out.append(p)
    return out


def documented_paths(values_text):
    """Dotted paths of keys in values.yaml right under a "# -- description" comment."""
    stack, out, block = [], set(), []
    for line in values_text.splitlines():
        if line.strip().startswith("#"):
            block.append(line.strip())
            continue
        m = re.match(r"^(\s*)([A-Za-z][\w]*):", line)
        if m:
            indent = len(m.group(1))
            stack = [(i, k) for i, k in stack if i < indent] + [(indent, m.group(2))]
            if any(c.startswith("# --") for c in block):
                out.add(".".join(k for _, k in stack))
        block = []
    return out


# ---------------------------------------------------------------- the checks

def check_files(chart):
    with open(os.path.join(chart.dir, "Chart.yaml")) as f:
        meta = yaml.safe_load(f)
    R.check("Chart.yaml is apiVersion v2 named rawcap with version and appVersion",
            meta.get("apiVersion") == "v2" and meta.get("name") == "rawcap"
            and meta.get("version") and meta.get("appVersion"))

    firsts = []
    for root, _, names in os.walk(chart.dir):
        for n in names:
            p = os.path.join(root, n)
            first = open(p).readline()
            ok = (first.startswith(("#", "{{/*", "{{- /*", "<!--"))
                  or '"$comment"' in open(p).read(200))
            if not ok:
                firsts.append(os.path.relpath(p, chart.dir))
    R.check("every chart file opens with a comment saying what it is", not firsts, str(firsts))

    text = open(os.path.join(chart.dir, "values.yaml")).read()
    values = yaml.safe_load(text)
    docs = documented_paths(text)
    undocumented = [p for p in leaf_paths(values)
                    if not any(p == d or p.startswith(d + ".") for d in docs)]
    R.check("values.yaml has a comment on every value", not undocumented, str(undocumented))

    readme = open(os.path.join(chart.dir, "README.md")).read()
    tables, torn = readme_tables(readme)
    R.check("README.md: every table row has its header's cells", not torn, str(torn))
    rows = {r[0].strip("`") for h, body in tables if h[:2] == ["Key", "Type"] for r in body}
    missing = sorted(p for p in docs if p not in rows)
    R.check("README.md values table lists every documented value", not missing, str(missing))

    for src, label in ((text, "values.yaml"), (readme, "README.md")):
        named = set(re.findall(r"\b(NET_RAW|NET_ADMIN|BPF|PERFMON|IPC_LOCK|SYS_RESOURCE|SETUID|"
                               r"SETGID|CHOWN)\b", src))
        R.check(f"{label} documents each of capd's capabilities", named == CAPD_CAPS,
                str(CAPD_CAPS - named))

    exotic = []
    tdir = os.path.join(chart.dir, "templates")
    for n in sorted(os.listdir(tdir)):
        t = open(os.path.join(tdir, n)).read()
        for fn in ("lookup", "genCA", "genSelfSignedCert", "genSignedCert", "randAlphaNum",
                   ".Files", "getHostByName", "now"):
            if re.search(r"[\s(]" + re.escape(fn) + r"\b", t):
                exotic.append(f"{n}:{fn}")
    R.check("templates use no lookup/crypto/random/.Files functions", not exotic, str(exotic))


def check_dockerfile(chart):
    """The image builds with install-deps.sh's package list and ships its runtime libraries."""
    root = os.path.dirname(os.path.dirname(chart.dir))
    df = open(os.path.join(root, "helm", "Dockerfile")).read()
    deps = open(os.path.join(root, "scripts", "install-deps.sh")).read()
    R.check("Dockerfile is a Debian 12 multi-stage build",
            len(re.findall(r"^FROM debian:12", df, re.M)) == 2 and "AS build" in df)
    R.check("Dockerfile installs build packages only through scripts/install-deps.sh",
            "COPY scripts/install-deps.sh" in df and re.search(r"RUN bash \S*install-deps.sh", df)
            and df.count("apt-get install") == 1)
    R.check("Dockerfile builds and installs with cmake",
            "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release" in df and "cmake --build build" in df
            and "cmake --install build" in df and "COPY --from=build" in df)
    runtime = {"libbpf-dev": "libbpf1", "liburing-dev": "liburing2", "libpcap-dev": "libpcap0.8",
               "libmsgpack-dev": "libmsgpackc2", "libseccomp-dev": "libseccomp2",
               "libssl-dev": "libssl3", "libcurl4-openssl-dev": "libcurl4",
               "libcjson-dev": "libcjson1", "libelf-dev": "libelf1", "zlib1g-dev": "zlib1g",
               "libxml2-dev": "libxml2", "libmicrohttpd-dev": "libmicrohttpd12",
               "libgnutls28-dev": "libgnutls30"}
    stage = df.split("FROM debian:12-slim", 1)[-1]
    missing = [f"{dev}->{lib}" for dev, lib in runtime.items()
               if re.search(r"\b" + re.escape(dev) + r"\b", deps)
               and not re.search(r"\s" + re.escape(lib) + r"\s", stage)]
    R.check("runtime stage installs the runtime library of each -dev package in install-deps.sh",
            not missing, str(missing))


def check_schema(chart):
    values = yaml.safe_load(open(os.path.join(chart.dir, "values.yaml")))
    jsonschema.Draft7Validator.check_schema(chart.schema)
    R.check("values.schema.json is a valid draft-07 schema", True)
    errs = chart.schema_errors(json.loads(json.dumps(values)))
    R.check("values.yaml validates against values.schema.json", not errs, str(errs[:3]))
    for f in sorted(os.listdir(GOOD)):
        _, _, _, merged = chart.run([os.path.join(GOOD, f)])
        errs = chart.schema_errors(merged)
        R.check(f"schema accepts good values {f}", not errs, str(errs[:3]))
    for f in sorted(os.listdir(BAD)):
        _, _, _, merged = chart.run([os.path.join(BAD, f)])
        errs = chart.schema_errors(merged)
        R.check(f"schema rejects bad values {f}", bool(errs), "accepted")


# rawcap's dedicated ids (README.md, "Identity"): capd and the ring group, the readers.
RAWCAP_ID, READER_UID = 64720, 64721


def check_identity(chart, spec):
    """The default pod uses rawcap's dedicated ids everywhere, as the image and capd do."""
    cs = containers(spec)
    readers = [c for n, c in cs.items() if n != "capd"]
    R.check("identity: readers run as rawcap-reader (64721) in the ring group rawcap (64720)",
            readers and all(g(c, "securityContext", "runAsUser") == READER_UID
                            and g(c, "securityContext", "runAsGroup") == RAWCAP_ID
                            for c in readers)
            and g(spec, "securityContext", "fsGroup") == RAWCAP_ID,
            str([c.get("securityContext") for c in readers]))
    init = {c["name"]: c for c in spec.get("initContainers", [])}
    R.check("identity: fifo-dir hands the FIFO to 64720:64720",
            "fifo-dir" in init and init["fifo-dir"]["command"][-1] == f"{RAWCAP_ID}:{RAWCAP_ID}",
            str(init.get("fifo-dir", {}).get("command")))
    docker = open(os.path.join(chart.dir, "..", "Dockerfile")).read()
    R.check("identity: the image creates rawcap (64720, user and group) and rawcap-reader (64721)",
            f"--gid {RAWCAP_ID} rawcap" in docker and f"--uid {RAWCAP_ID} " in docker
            and f"--uid {READER_UID} " in docker, "see helm/Dockerfile")


def check_default(chart):
    docs = chart.manifests()
    R.check("default render: every document has apiVersion, kind, metadata.name",
            docs and all(d.get("apiVersion") and d.get("kind") and g(d, "metadata", "name")
                         for d in docs))
    kinds = sorted(d["kind"] for d in docs)
    R.check("default render: DaemonSet, its dissection ConfigMap, ServiceAccount, ClusterRole, ClusterRoleBinding",
            kinds == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "ServiceAccount"],
            str(kinds))
    spec = pod_spec(docs)
    cs = containers(spec)
    R.check("default render: containers are capd, the node API server and the snapshotter",
            sorted(cs) == ["capd", "server", "snapshot"], str(sorted(cs)))
    check_server(spec)
    # The tools' own spellings, not the ones their --help lists as "still accepted".
    old = [(n, a) for n, c in cs.items() for a in c.get("args", []) if a in OLD_SPELLINGS]
    R.check("default render: no container is given an old option spelling", not old, str(old))
    capd = cs["capd"]
    want = {"--ring": "default", "--ring-size": "256Mi", "--storage": "/var/lib/rawcap/fifo",
            "--storage-size": "1Gi", "--interfaces": "any", "--backend": "afpacket",
            "--user": "64720", "--group": "64720", "--stats-listen": "0.0.0.0:9469"}
    got = {k: arg(capd, k) for k in want}
    R.check("default capd args carry the default values", got == want, str(got))
    R.check("default capd leaves out rawcap's own traffic, the readers' uid included",
            "--capture-self" not in capd["args"] and arg(capd, "--self-uids") == "64721",
            str(capd["args"]))
    R.check("default capd args: --kubernetes on, no --filter, no --snaplen",
            "--kubernetes" in capd["args"] and "--filter" not in capd["args"]
            and "--snaplen" not in capd["args"], str(capd["args"]))
    R.check("command, args and env values are all strings", not string_fields_problems(spec),
            str(string_fields_problems(spec)))
    R.check("default pod runs on every Linux node, tolerating every taint",
            spec.get("nodeSelector") == {"kubernetes.io/os": "linux"}
            and spec.get("tolerations") == [{"operator": "Exists"}] and "affinity" not in spec)
    R.check("pod uses the node network, not its PID namespace",
            spec.get("hostNetwork") is True and not spec.get("hostPID")
            and spec.get("dnsPolicy") == "ClusterFirstWithHostNet")
    check_identity(chart, spec)
    probs = security_problems(spec)
    R.check("least privilege: none privileged, capd has exactly the documented capabilities, "
            "readers non-root with none", not probs, "; ".join(probs))
    env = {e["name"]: e for e in capd.get("env", [])}
    R.check("capd gets NODE_NAME from the downward API",
            g(env, "NODE_NAME", "valueFrom", "fieldRef", "fieldPath") == "spec.nodeName")
    vols = {v["name"]: v for v in spec["volumes"]}
    R.check("/dev/shm is a memory emptyDir sized ringSize + 16Mi (272Mi)",
            g(vols, "shm", "emptyDir", "medium") == "Memory"
            and g(vols, "shm", "emptyDir", "sizeLimit") == "272Mi", str(vols.get("shm")))
    lim = mebibytes(capd["resources"]["limits"]["memory"])
    R.check("default capd memory limit covers the ring it is charged for (+128Mi)",
            lim >= mebibytes(g(vols, "shm", "emptyDir", "sizeLimit")) + 128, str(lim))
    shm_mounts = [c["name"] for c in all_containers(spec)
                  if any(m["name"] == "shm" and m["mountPath"] == "/dev/shm"
                         for m in c.get("volumeMounts", []))]
    R.check("every capd/reader container mounts the ring at /dev/shm",
            sorted(shm_mounts) == sorted(cs), str(shm_mounts))
    R.check("disk FIFO is a hostPath that survives restarts",
            g(vols, "fifo", "hostPath", "path") == "/var/lib/rawcap/fifo")
    R.check("snapshots go to a hostPath without a storage class",
            g(vols, "snapshots", "hostPath", "path") == "/var/lib/rawcap/snapshots"
            and not by_kind(docs, "PersistentVolumeClaim"))
    R.check("cgroup fs is mounted read-only into capd",
            g(vols, "cgroup", "hostPath", "path") == "/sys/fs/cgroup"
            and any(m["name"] == "cgroup" and m.get("readOnly") for m in capd["volumeMounts"]))
    token = [c["name"] for c in all_containers(spec)
             if any(m["name"] == "kube-api" for m in c.get("volumeMounts", []))]
    R.check("API token is projected into capd only", token == ["capd"], str(token))
    # liveness asks only whether capd runs: /healthz is 503 on a disk FIFO error,
    # which a restart does not cure (it restarted capd every minute on a full disk)
    for p, path in (("livenessProbe", "/livez"), ("readinessProbe", "/healthz")):
        R.check(f"capd {p} is GET {path} on the metrics port",
                g(capd, p, "httpGet", "path") == path
                and g(capd, p, "httpGet", "port") == "metrics"
                and g(capd, "ports", 0, "name") == "metrics"
                and g(capd, "ports", 0, "containerPort") == 9469)
    ann = by_kind(docs, "DaemonSet")[0]["spec"]["template"]["metadata"].get("annotations", {})
    R.check("pods carry Prometheus scrape annotations",
            ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9469"
            and ann.get("prometheus.io/path") == "/metrics", str(ann))
    role = by_kind(docs, "ClusterRole")[0]
    rules = sorted((tuple(r["apiGroups"]), tuple(sorted(r["resources"])), tuple(sorted(r["verbs"])))
                   for r in role["rules"])
    R.check("RBAC: get/list/watch on pods, namespaces, services, endpointslices only",
            rules == [(("",), ("namespaces", "pods", "services"), ("get", "list", "watch")),
                      (("discovery.k8s.io",), ("endpointslices",), ("get", "list", "watch"))],
            str(rules))
    crb = by_kind(docs, "ClusterRoleBinding")[0]
    sa = by_kind(docs, "ServiceAccount")[0]
    R.check("ClusterRoleBinding binds the ClusterRole to the ServiceAccount",
            crb["roleRef"]["name"] == role["metadata"]["name"]
            and crb["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                     "namespace": "rawcap"}]
            and spec["serviceAccountName"] == sa["metadata"]["name"])
    return docs


def readme_tables(text):
    """Markdown tables as (header cells, [row cells]), and the rows whose cell count differs."""
    tables, torn, head = [], [], None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            head = None
            continue
        c = [x.strip() for x in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if head is None:
            head = c
            tables.append((c, []))
        elif len(c) != len(head):
            torn.append(f"line {n}: {len(c)} cells, header {len(head)}")
        elif not set(line) <= set("|-: "):
            tables[-1][1].append(c)
    return tables, torn


def check_server(spec, port="9470"):
    """rawcap-server: loopback only, non-root, no capabilities, ring and FIFO read-only."""
    srv = containers(spec).get("server")
    if not R.check("server: the rawcap-server sidecar is rendered", srv is not None):
        return
    sc = srv.get("securityContext", {})
    R.check(f"server: listens on 127.0.0.1:{port} only, reads the ring and FIFO, writes snapshots",
            srv["command"] == ["/usr/local/bin/rawcap-server"]
            and arg(srv, "--listen") == f"127.0.0.1:{port}" and arg(srv, "--ring") == "default"
            and arg(srv, "--storage") == "/var/lib/rawcap/fifo"
            and arg(srv, "--snapshot-dir") == "/var/lib/rawcap/snapshots", str(srv.get("args")))
    # kubectl-rawcap port-forwards to the container port of this name (cli/cli.h), 9470 else
    want = re.search(r'#define CLI_PORT_NAME\s+"([^"]+)"',
                     open(os.path.join(HERE, "..", "..", "cli", "cli.h")).read()).group(1)
    R.check(f"server: its port is named {want}, the name kubectl-rawcap looks for",
            [(p.get("name"), p.get("containerPort")) for p in srv.get("ports", [])]
            == [(want, int(port))], str(srv.get("ports")))
    R.check("server: runs as the reader uid 64721 in the ring group, non-root",
            sc.get("runAsNonRoot") is True and sc.get("runAsUser") == READER_UID
            and sc.get("runAsGroup") == RAWCAP_ID, str(sc))
    R.check("server: no capabilities, no privilege escalation, read-only root file system",
            g(sc, "capabilities", "drop") == ["ALL"] and not g(sc, "capabilities", "add")
            and sc.get("privileged") is False and sc.get("allowPrivilegeEscalation") is False
            and sc.get("readOnlyRootFilesystem") is True
            and g(sc, "seccompProfile", "type") == "RuntimeDefault", str(sc))
    mounts = {m["name"]: m for m in srv.get("volumeMounts", [])}
    R.check("server: ring and FIFO read-only, snapshot volume read-write",
            g(mounts, "shm", "readOnly") is True and g(mounts, "fifo", "readOnly") is True
            and any(m["mountPath"] == "/var/lib/rawcap/snapshots" and not m.get("readOnly")
                    for m in mounts.values()), str(mounts))


def check_custom(chart):
    docs = chart.manifests([os.path.join(GOOD, "custom.yaml")], name="prod")
    spec = pod_spec(docs)
    cs = containers(spec)
    capd = cs["capd"]
    want = {"--ring-size": "1Gi", "--storage-size": "20Gi", "--interfaces": "eth0,veth*",
            "--filter": "tcp port 443 or (udp and port 53)", "--backend": "ebpf",
            "--snaplen": "128", "--stats-listen": "0.0.0.0:9555"}
    got = {k: arg(capd, k) for k in want}
    R.check("custom values reach capd: ring size, storage size, filter, interfaces, backend, snaplen",
            got == want, str(got))
    vols = {v["name"]: v for v in spec["volumes"]}
    R.check("custom /dev/shm sizeLimit is 1Gi + 16Mi = 1040Mi",
            g(vols, "shm", "emptyDir", "sizeLimit") == "1040Mi"
            and mebibytes("1Gi") + 16 == mebibytes(g(vols, "shm", "emptyDir", "sizeLimit")))
    lim = mebibytes(capd["resources"]["limits"]["memory"])
    R.check("custom capd memory limit covers the ring it is charged for (+128Mi)",
            lim >= mebibytes(g(vols, "shm", "emptyDir", "sizeLimit")) + 128, str(lim))
    R.check("custom FIFO hostPath is used", g(vols, "fifo", "hostPath", "path") == "/mnt/fast/rawcap")
    pvc = by_kind(docs, "PersistentVolumeClaim")
    R.check("storage class gives a ReadWriteMany snapshot PVC of the requested size, kept on uninstall",
            len(pvc) == 1 and pvc[0]["spec"]["storageClassName"] == "nfs-client"
            and pvc[0]["spec"]["resources"]["requests"]["storage"] == "50Gi"
            and pvc[0]["spec"]["accessModes"] == ["ReadWriteMany"]
            and pvc[0]["metadata"]["annotations"].get("helm.sh/resource-policy") == "keep",
            str(pvc))
    snapmount = [m for m in cs["snapshot"]["volumeMounts"] if m["name"] == "snapshots"]
    R.check("snapshot volume is the PVC, one subdirectory per node",
            g(vols, "snapshots", "persistentVolumeClaim", "claimName") == "prod-rawcap-snapshots"
            and snapmount and snapmount[0].get("subPathExpr") == "$(NODE_NAME)")
    R.check("custom render: forward, metadata and snapshot sidecars",
            sorted(cs) == ["capd", "forward", "metadata", "server", "snapshot"], str(sorted(cs)))
    fwd = cs["forward"]
    R.check("forwarder connects to the dissection target with TLS from the Secret, not paused",
            arg(fwd, "--connect") == "dissector.tools.svc:9000" and arg(fwd, "--format") == "msgpack"
            and arg(fwd, "--tls-cert") == "/etc/rawcap/tls/tls.crt"
            and arg(fwd, "--tls-key") == "/etc/rawcap/tls/tls.key"
            and arg(fwd, "--tls-ca") == "/etc/rawcap/tls/ca.crt"
            and "--paused" not in fwd["args"] and "--plain" not in fwd["args"]
            and g(vols, "forward-tls", "secret", "secretName") == "rawcap-forward-tls", str(fwd["args"]))
    R.check("metadata tap follows the ring as JSON on stdout",
            cs["metadata"]["args"] == ["--ring", "default", "--follow", "--format", "json", "-o", "-"])
    probs = security_problems(spec)
    R.check("custom render is still least privilege", not probs, "; ".join(probs))
    R.check("custom render: command, args and env values are strings",
            not string_fields_problems(spec), str(string_fields_problems(spec)))
    sm = by_kind(docs, "ServiceMonitor")
    svc = by_kind(docs, "Service")
    R.check("serviceMonitor toggle renders a ServiceMonitor and its headless Service",
            len(sm) == 1 and len(svc) == 1 and svc[0]["spec"]["clusterIP"] == "None"
            and g(sm[0], "spec", "endpoints", 0, "port") == "metrics"
            and g(sm[0], "metadata", "labels", "release") == "kube-prometheus"
            and g(svc[0], "spec", "ports", 0, "port") == 9555)
    R.check("priorityClassName reaches the pod", spec.get("priorityClassName") == "system-node-critical")
    R.check("nodeSelector, tolerations and affinity reach the pod",
            spec.get("nodeSelector") == {"kubernetes.io/os": "linux", "rawcap/capture": "true"}
            and spec.get("tolerations") == [{"key": "dedicated", "operator": "Equal",
                                             "value": "gpu", "effect": "NoSchedule"}]
            and g(spec, "affinity", "nodeAffinity") is not None,
            str({k: spec.get(k) for k in ("nodeSelector", "tolerations", "affinity")}))
    R.check("capd resources come from values",
            capd.get("resources") == {"requests": {"cpu": "200m", "memory": "1536Mi"},
                                      "limits": {"memory": "2Gi"}}, str(capd.get("resources")))
    R.check("release name prefixes object names",
            by_kind(docs, "DaemonSet")[0]["metadata"]["name"] == "prod-rawcap")
    R.check("custom render: every document has apiVersion, kind, metadata.name",
            all(d.get("apiVersion") and d.get("kind") and g(d, "metadata", "name") for d in docs))
    return docs


def check_switches(chart):
    def initial(f):
        docs = chart.manifests([os.path.join(GOOD, f)])
        cm = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-dissection")]
        return g(cm, 0, "data", "initial")

    R.check("tap.capture.stopped=true makes the initial dissection state off (ConfigMap)",
            initial("stopped.yaml") == "off", str(initial("stopped.yaml")))
    docs = chart.manifests([os.path.join(GOOD, "stopped.yaml")])
    R.check("tap.capture.stopped=true keeps capd capturing",
            "capd" in containers(pod_spec(docs))
            and arg(containers(pod_spec(docs))["capd"], "--ring-size") == "256Mi")
    R.check("tap.capture.dissection.enabled=false also makes it off", initial("dissection-off.yaml") == "off")
    R.check("tap.capture.dissection.enabled=true, and the default, make it on",
            initial("dissection-on.yaml") == "on" and initial("capture-self.yaml") == "on")
    a = containers(pod_spec(chart.manifests([os.path.join(GOOD, "dissection-on.yaml")])))["forward"]["args"]
    R.check("TLS off passes --plain; the forwarder never gets --paused",
            "--paused" not in a and "--plain" in a and "--tls-key" not in a
            and arg({"args": a}, "--connect") == "[fd00::10]:9000", str(a))
    check_dissection_switch(chart)
    capd = containers(pod_spec(chart.manifests([os.path.join(GOOD, "capture-self.yaml")])))["capd"]
    R.check("tap.capture.captureSelf=true passes --capture-self (and no --self-uids)",
            "--capture-self" in capd["args"] and "--self-uids" not in capd["args"], str(capd["args"]))
    rc, _, err, _ = chart.run([os.path.join(GOOD, "conflict.yaml")])
    R.check("contradicting stopped/dissection.enabled fails the render",
            rc != 0 and "contradicts" in err, err.strip())
    docs = chart.manifests([os.path.join(GOOD, "capture-off.yaml")])
    kinds = sorted(d["kind"] for d in docs)
    capd_anywhere = "capd" in yaml.safe_dump_all(docs)
    R.check("tap.capture.raw.enabled=false renders no capture (only the kept snapshot PVC)",
            kinds == ["PersistentVolumeClaim"] and not capd_anywhere, str(kinds))
    rc, _, err, _ = chart.run([os.path.join(GOOD, "ring-over-limit.yaml")])
    R.check("a ring capd's memory limit cannot hold (1Gi in 768Mi) fails the render",
            rc != 0 and "capd.resources.limits.memory 768Mi is below" in err
            and "(1168Mi)" in err, err.strip())
    rc, _, err, _ = chart.run([os.path.join(BAD, "target-no-secret.yaml")])
    R.check("template also refuses a TLS forwarder without a Secret (required)",
            rc != 0 and "secretName is required" in err, err.strip())


def daemonset_text(out):
    """The DaemonSet's document exactly as rendered (bytes, not parsed)."""
    docs = [d for d in re.split(r"^---\s*$", out, flags=re.M) if re.search(r"^kind: DaemonSet$", d, re.M)]
    return docs[0] if len(docs) == 1 else None


def check_dissection_switch(chart):
    """Dissection on/off lives in a ConfigMap: flipping it leaves the DaemonSet byte-identical."""
    base = ("tap:\n  dissection:\n    target: dissector.tools.svc:9000\n"
            "    tls:\n      secretName: rawcap-forward-tls\n")
    variants = {"dissection on": "tap:\n  capture:\n    dissection:\n      enabled: true\n",
                "dissection off": "tap:\n  capture:\n    dissection:\n      enabled: false\n",
                "stopped": "tap:\n  capture:\n    stopped: true\n",
                "unset": ""}
    with tempfile.TemporaryDirectory() as d:
        bf = os.path.join(d, "base.yaml")
        open(bf, "w").write(base)
        texts, cms = {}, {}
        for name, text in variants.items():
            f = os.path.join(d, name.replace(" ", "-") + ".yaml")
            open(f, "w").write(text)
            rc, out, err, merged = chart.run([bf, f])
            if not R.check(f"renders with {name}", rc == 0 and not chart.schema_errors(merged), err.strip()):
                return
            texts[name] = daemonset_text(out)
            docs = [x for x in yaml.safe_load_all(out) if x]
            cms[name] = g([c for c in by_kind(docs, "ConfigMap")], 0, "data", "initial")
    R.check("dissection on and off: the DaemonSet (pod template included) is byte-identical",
            texts["dissection on"] is not None and texts["dissection on"] == texts["dissection off"]
            == texts["stopped"] == texts["unset"])
    R.check("dissection on and off differ only in the ConfigMap's initial state",
            cms == {"dissection on": "on", "dissection off": "off", "stopped": "off", "unset": "on"},
            str(cms))
    spec = yaml.safe_load(texts["dissection off"])["spec"]["template"]["spec"]
    cs = containers(spec)
    ok = True
    for n in ("server", "forward"):
        env = {e["name"]: e for e in cs[n].get("env", [])}
        ok &= (arg(cs[n], "--control-dir") == "/var/run/rawcap/control"
               and arg(cs[n], "--dissection") == "$(RAWCAP_DISSECTION)"
               and g(env, "RAWCAP_DISSECTION", "valueFrom", "configMapKeyRef", "name") == "rawcap-dissection"
               and g(env, "RAWCAP_DISSECTION", "valueFrom", "configMapKeyRef", "key") == "initial")
    R.check("server and forwarder share the control directory and read the initial state from the ConfigMap",
            ok, str([cs[n].get("args") for n in ("server", "forward")]))
    mounts = {n: {m["name"]: m for m in cs[n]["volumeMounts"]} for n in ("server", "forward")}
    vols = {v["name"]: v for v in spec["volumes"]}
    users = sorted(c for c in cs if "control" in {m["name"] for m in cs[c].get("volumeMounts", [])})
    R.check("the control directory: a small memory emptyDir, writable by the server (switch) and the "
            "forwarder (status), mounted nowhere else",
            g(vols, "control", "emptyDir", "medium") == "Memory"
            and not g(mounts, "server", "control", "readOnly")
            and not g(mounts, "forward", "control", "readOnly")
            and users == ["forward", "server"], str(mounts))
    # The comparison must be able to fail: an argument that carries the state would differ.
    R.check("negative: a state passed as an argument would make the DaemonSets differ",
            texts["dissection on"].replace("$(RAWCAP_DISSECTION)", "on")
            != texts["dissection off"].replace("$(RAWCAP_DISSECTION)", "off"))


def check_server_switches(chart):
    spec = pod_spec(chart.manifests([os.path.join(GOOD, "server-off.yaml")]))
    R.check("tap.server.enabled=false renders no server sidecar",
            "server" not in containers(spec)
            and "server-snapshots" not in [v["name"] for v in spec["volumes"]])
    with tempfile.TemporaryDirectory() as d:
        def write(name, text):
            f = os.path.join(d, name)
            with open(f, "w") as fh:
                fh.write(text)
            return f
        f = write("nosnap.yaml", "tap:\n  snapshots:\n    enabled: false\n  server:\n    port: 9555\n")
        spec = pod_spec(chart.manifests([f]))
        check_server(spec, port="9555")
        vols = {v["name"]: v for v in spec["volumes"]}
        R.check("server without the snapshot volume keeps its snapshots in an emptyDir",
                "snapshots" not in vols and g(vols, "server-snapshots", "emptyDir") == {}, str(vols))
        f = write("clash.yaml", "tap:\n  server:\n    port: 9469\n")
        rc, _, err, merged = chart.run([f])
        R.check("tap.server.port equal to metrics.port fails the render",
                not chart.schema_errors(merged) and rc != 0 and "metrics.port" in err, err.strip())
    rc, out, err, _ = chart.run(notes=True)
    R.check("NOTES.txt shows port-forward and curl for node info, 5-minute pcap, snapshot create/poll/download",
            rc == 0 and "port-forward pod/$POD 9470:9470" in out and "/v1/node" in out
            and "/v1/pcap?last=5m" in out and "-XPOST" in out and "/v1/snapshots/incident-1/pcap" in out
            and "pods/portforward" in out, err.strip())
    R.check("NOTES.txt shows kubectl rawcap, the cluster CLI, for every node at once",
            "   kubectl rawcap export --last 5m -o all.pcapng\n" in out
            and "   kubectl rawcap bounds\n" in out, out[-600:])
    readme = open(os.path.join(chart.dir, "README.md")).read()
    R.check("README.md gives the Role with create on pods/portforward",
            "kind: Role" in readme and 'resources: ["pods/portforward"]' in readme)


def check_notes(chart):
    rc, out, err, _ = chart.run(notes=True)
    R.check("NOTES.txt tells how to take a snapshot and export a pcap",
            rc == 0 and "rawcap-snapshot create --last 5m" in out and "rawcap-pcap" in out
            and "-c snapshot" in out and "spec.nodeName=$NODE" in out, err.strip())
    rc, out, err, _ = chart.run([os.path.join(GOOD, "stopped.yaml")], notes=True)
    R.check("NOTES.txt says forwarding starts paused and how to resume",
            rc == 0 and "PAUSED" in out and "kill -USR2 1" in out, err.strip())
    broken = []
    for f in sorted(os.listdir(GOOD)):
        if f == "conflict.yaml":
            continue  # fails in the manifests, checked above
        rc, out, err, _ = chart.run([os.path.join(GOOD, f)], notes=True)
        if rc != 0 or "rawcap" not in out:
            broken.append(f"{f}: {err.strip()}")
    R.check("NOTES.txt renders for every good values file", not broken, str(broken))
    rc, out, err, _ = chart.run([os.path.join(GOOD, "capture-off.yaml")], notes=True)
    R.check("NOTES.txt says capture is off when disabled", rc == 0 and "capture is OFF" in out)


def check_negative(default_docs):
    """Prove the security assertions can fail: break a good manifest and expect complaints."""
    spec = json.loads(json.dumps(pod_spec(default_docs)))
    cs = containers(spec)
    cs["capd"]["securityContext"]["privileged"] = True
    cs["capd"]["securityContext"]["capabilities"]["add"].append("SYS_ADMIN")
    cs["snapshot"]["securityContext"]["runAsUser"] = 0
    cs["snapshot"]["securityContext"]["runAsNonRoot"] = False
    cs["snapshot"]["securityContext"]["capabilities"]["add"] = ["NET_RAW"]
    probs = " ".join(security_problems(spec))
    R.check("negative: a privileged capd with SYS_ADMIN and a root reader are caught",
            "capd: privileged" in probs and "SYS_ADMIN" in probs
            and "snapshot: reader may run as root" in probs and "reader adds capabilities" in probs,
            probs)
    spec["containers"][0]["args"].append({"rawcap": "oops"})
    R.check("negative: a non-string arg is caught", bool(string_fields_problems(spec)))


def kubectl_roundtrip(kubectl, doc, argv):
    """Decode doc into kubectl's typed objects offline and back; return (error, lost leaves)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(doc, f)
        f.flush()
        env = dict(os.environ, KUBECONFIG=os.devnull)
        p = subprocess.run([kubectl] + argv + ["--local", "-f", f.name, "-o", "json"],
                           capture_output=True, text=True, timeout=30, env=env)
    if p.returncode != 0:
        return p.stderr.strip() or p.stdout.strip(), []
    back = json.loads(p.stdout)

    def leaves(o, path=()):
        if isinstance(o, dict):
            for k, v in o.items():
                yield from leaves(v, path + (k,))
        elif isinstance(o, list) and o:
            for i, v in enumerate(o):
                yield from leaves(v, path + (i,))
        else:
            yield path, o

    # Go drops false/zero/empty fields on output (omitempty); anything else missing is lost.
    missing = object()
    lost = [".".join(map(str, p)) for p, v in leaves(doc)
            if g(back, *p, default=missing) != v
            and not (g(back, *p, default=missing) is missing and v in (False, 0, "", None, [], {}))]
    return None, lost


def check_kubectl(docs_sets):
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl:
        R.skip("kubectl offline validation", "kubectl not installed")
        return
    for label, docs in docs_sets:
        ds = by_kind(docs, "DaemonSet")[0]
        err, lost = kubectl_roundtrip(kubectl, ds, ["set", "env", "-c", "capd", "RAWCAP_ROUNDTRIP=1"])
        R.check(f"kubectl (offline) decodes the {label} DaemonSet with no unknown or mistyped field",
                err is None and not lost, err or str(lost[:5]))
        crb = by_kind(docs, "ClusterRoleBinding")[0]
        err, lost = kubectl_roundtrip(kubectl, crb, ["set", "subject", "--user", "roundtrip"])
        R.check(f"kubectl (offline) decodes the {label} ClusterRoleBinding with no unknown field",
                err is None and not lost, err or str(lost[:5]))
    # The same round trip must notice a misspelt field, or it proves nothing.
    bad = json.loads(json.dumps(by_kind(docs_sets[0][1], "DaemonSet")[0]))
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privilegd"] = True
    err, lost = kubectl_roundtrip(kubectl, bad, ["set", "env", "-c", "capd", "RAWCAP_ROUNDTRIP=1"])
    R.check("negative: kubectl round trip catches a misspelt field", bool(err or lost))


def check_user_role(chart, default_docs):
    """The optional Role of a kubectl rawcap user: exactly pods get/list and pods/portforward."""
    R.check("userRole: no Role or RoleBinding by default",
            not by_kind(default_docs, "Role") and not by_kind(default_docs, "RoleBinding"))
    docs = chart.manifests([os.path.join(GOOD, "user-role.yaml")])
    roles, binds = by_kind(docs, "Role"), by_kind(docs, "RoleBinding")
    rules = sorted((tuple(r["apiGroups"]), tuple(r["resources"]), tuple(sorted(r["verbs"])))
                   for r in (roles[0]["rules"] if roles else []))
    R.check("userRole: get/list pods and create/get pods/portforward, nothing else",
            rules == [(("",), ("pods",), ("get", "list")),
                      (("",), ("pods/portforward",), ("create", "get"))], str(rules))
    R.check("userRole: the Role lives in the release namespace",
            roles and g(roles[0], "metadata", "namespace") == "rawcap")
    R.check("userRole: subjects are bound to that Role in the release namespace",
            binds and binds[0]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                              "kind": "Role", "name": roles[0]["metadata"]["name"]}
            and g(binds[0], "metadata", "namespace") == "rawcap"
            and [x["name"] for x in binds[0]["subjects"]] == ["netops", "rawcap-cli"],
            str(binds[0] if binds else None))
    docs = chart.manifests([os.path.join(GOOD, "user-role.yaml"),
                            os.path.join(GOOD, "capture-off.yaml")])
    R.check("userRole: nothing to reach when capture is off, so no Role",
            not by_kind(docs, "Role"))


def check_snapshot_cloud(chart):
    """tap.snapshots.cloud (Kubeshark's names): env, Secrets, IRSA token, template checks."""
    s3 = os.path.join(GOOD, "s3.yaml")
    docs = chart.manifests([s3])
    spec = pod_spec(docs)
    snap = containers(spec)["snapshot"]
    env = {e["name"]: e.get("value") for e in snap.get("env", [])}
    R.check("s3: the snapshotter's default remote is s3://BUCKET/PREFIX (prefix slashes trimmed)",
            env.get("RAWCAP_SNAPSHOT_REMOTE") == "s3://my-bucket/rawcap/prod", str(env))
    R.check("s3: region and endpoint reach the snapshotter as AWS_REGION and AWS_ENDPOINT_URL_S3",
            env.get("AWS_REGION") == "eu-west-1"
            and env.get("AWS_ENDPOINT_URL_S3") == "http://minio.storage:9000", str(env))
    refs = [next(iter(r.values()))["name"] for r in snap.get("envFrom", [])]
    R.check("s3: keys come from the existing Secret, the ConfigMap and the chart's own Secret",
            refs == ["rawcap-s3-settings", "rawcap-s3-keys", "rawcap-s3"], str(refs))
    secret = [d for d in by_kind(docs, "Secret") if d["metadata"]["name"] == "rawcap-s3"]
    data = g(secret, 0, "data", default={})
    R.check("s3: inline keys become a Secret of AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            base64.b64decode(data.get("AWS_ACCESS_KEY_ID", "")) == b"AKIAEXAMPLE"
            and base64.b64decode(data.get("AWS_SECRET_ACCESS_KEY", "")) == b"wJalrXUtnFEMI-chart-test-secret")
    R.check("s3: the secret key is never a plain env value or argument",
            "wJalrXUtnFEMI-chart-test-secret" not in json.dumps(spec))
    R.check("s3: only the snapshotter gets the S3 settings",
            all("envFrom" not in c and not any(e["name"].startswith(("AWS_", "RAWCAP_SNAPSHOT_REMOTE"))
                                               for e in c.get("env", []))
                for c in all_containers(spec) if c["name"] != "snapshot"))
    ident = [c["name"] for c in all_containers(spec)
             if any(m["name"] == "aws-web-identity" for m in c.get("volumeMounts", []))]
    vol = g([v for v in spec["volumes"] if v["name"] == "aws-web-identity"], 0, "projected", "sources", 0,
            "serviceAccountToken", default={})
    R.check("s3: roleArn projects an sts.amazonaws.com token into the snapshotter alone (IRSA)",
            ident == ["snapshot"] and vol.get("audience") == "sts.amazonaws.com"
            and env.get("AWS_ROLE_ARN") == "arn:aws:iam::123456789012:role/rawcap"
            and env.get("AWS_WEB_IDENTITY_TOKEN_FILE", "").startswith(
                "/var/run/secrets/eks.amazonaws.com/serviceaccount/"), f"{ident} {vol}")
    probs = security_problems(spec) + string_fields_problems(spec)
    R.check("s3 render is still least privilege, strings only", not probs, "; ".join(probs))
    rc, out, _, _ = chart.run([s3], notes=True)
    R.check("s3: NOTES.txt shows upload and download to s3://my-bucket/rawcap/prod",
            rc == 0 and "s3://my-bucket/rawcap/prod" in out and "rawcap-snapshot upload NAME" in out)
    spec0 = pod_spec(chart.manifests())
    R.check("default render: no object storage settings, Secret or token",
            "RAWCAP_SNAPSHOT_REMOTE" not in json.dumps(spec0) and "aws-web-identity" not in json.dumps(spec0))
    with tempfile.TemporaryDirectory() as d:
        def render(name, text):
            f = os.path.join(d, name)
            with open(f, "w") as fh:
                fh.write(text)
            rc, _, err, merged = chart.run([f])
            return rc, err, chart.schema_errors(merged) if merged is not None else ["no values"]
        rc, err, errs = render("nobucket.yaml", "tap:\n  snapshots:\n    cloud:\n      provider: s3\n")
        R.check("s3 without a bucket fails the render, naming the value",
                not errs and rc != 0 and "tap.snapshots.cloud.s3.bucket" in err, err.strip())
        rc, err, errs = render("halfkeys.yaml", "tap:\n  snapshots:\n    cloud:\n      provider: s3\n"
                               "      s3:\n        bucket: b12\n        accessKey: AKIA\n")
        R.check("s3 accessKey without secretKey fails the render",
                not errs and rc != 0 and "secretKey" in err, err.strip())
        rc, err, errs = render("off.yaml", "tap:\n  snapshots:\n    cloud:\n      s3:\n"
                               "        bucket: b12\n        accessKey: AKIA\n        secretKey: s\n")
        R.check("provider \"\" turns object storage off whatever else is set",
                not errs and rc == 0 and "rawcap-s3" not in chart.run([os.path.join(d, "off.yaml")])[1])


def main():
    if len(sys.argv) != 3:
        print("usage: test_chart.py RENDER_BINARY CHART_DIR", file=sys.stderr)
        return 2
    chart = Chart(sys.argv[1], sys.argv[2])
    try:
        check_files(chart)
        check_dockerfile(chart)
        check_schema(chart)
        default_docs = check_default(chart)
        custom_docs = check_custom(chart)
        check_switches(chart)
        check_server_switches(chart)
        check_notes(chart)
        check_negative(default_docs)
        check_user_role(chart, default_docs)
        check_snapshot_cloud(chart)
        check_kubectl([("default", default_docs), ("custom", custom_docs)])
    except Exception as e:  # a crash is a failure with its reason, not a traceback storm
        R.check("test ran to completion", False, f"{type(e).__name__}: {e}")
    tail = f", {R.skipped} skipped" if R.skipped else ""
    print(f"helm: {R.passed} passed, {R.failed} failed{tail}")
    return 0 if R.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
