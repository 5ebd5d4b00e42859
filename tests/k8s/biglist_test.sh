#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# biglist_test.sh - Kubernetes lists at scale, against the fake API server
# (tests/k8s/fake_apiserver.py, generated lists) in a network namespace:
#  - services: 1200 objects in pages of 500 (limit/continue), six of them
#    with 2.5 MB annotations (over the 2 MiB bound: etcd stores at most
#    1.5 MiB, so only a broken or hostile server sends one), some on page
#    boundaries. The first continue
#    is answered 410 Expired (the list starts again from its first page),
#    the last page is cut in the middle once (asked for again with the
#    same continue token, not a new list). Every other service reaches the
#    ring exactly as it is; the six are skipped and counted; the watch
#    starts after the last page, from the list's resourceVersion.
#  - namespaces: one page of 50 MB (20 oversized objects and 3 normal ones,
#    the server ignoring limit): the 3 are recorded, and the watcher's peak
#    memory stays far below the page's size.
set -euo pipefail
. "$RAWCAP_SRC/tests/k8s/api.sh"
k8s_test_init big
api_cert
start_server scenario-biglist.json
kubeconfig "$PORT"

# services (1 << 2) and namespaces (1 << 1)
ip netns exec "$NS" "$B/tests/k8s_driver" --ring "$RING" --kubeconfig "$TMP/kubeconfig" \
	--node node-1 --duration 15 --resources 6 --backoff-min 200 --backoff-max 1000 --resync 0 \
	>"$TMP/stats.json" 2>"$TMP/driver.err" || fail "driver exited $?: $(tail -5 "$TMP/driver.err")"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
"$B/readers/rawcap-tap" --ring "$RING" >"$TMP/records.jsonl" || fail "rawcap-tap failed"
cat "$TMP/stats.json"
grep -m3 "skipped\|410\|list" "$TMP/driver.err" || true

$PY - "$TMP/stats.json" "$TMP/records.jsonl" "$TMP/requests.log" <<'PY' || fail "see above"
import json, sys
st = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
reqs = [json.loads(l) for l in open(sys.argv[3])]

def uids(kind):
    return [r["data"]["uid"] for r in recs if r.get("kind") == kind]

big = {"uid-%04d" % i for i in (3, 499, 500, 777, 1000, 1199)}
want = {"uid-%04d" % i for i in range(1200)} - big
svc = uids("service")
assert set(svc) == want, "services: %d missing, %d unexpected" % (
    len(want - set(svc)), len(set(svc) - want))
assert len(svc) == len(want), "a service was recorded twice: %d records" % len(svc)
ns = uids("namespace")
assert sorted(ns) == ["uid-0020", "uid-0021", "uid-0022"], ns
# each oversized object is counted every time a page carrying it is read
assert st["oversized"] >= 6 + 20, st

s = [r for r in reqs if r["path"] == "/api/v1/services"]
lists = [r["query"].get("continue", "") for r in s if "watch" not in r["query"]]
assert lists == ["", "o-500", "", "o-500", "o-1000", "o-1000"], lists
watch = [r for r in s if "watch" in r["query"]]
assert watch and s.index(watch[0]) == len(lists), "the watch did not start after the list"
assert watch[0]["query"]["resourceVersion"] == "5000", watch[0]["query"]
assert st["gone"] == 1, st

page_mb = 20 * 2.5
rss_mb = st["max_rss_kb"] / 1024
print("services: %d recorded, 6 oversized skipped; namespaces: 3 recorded beside 20 "
      "oversized in one %.0f MB page; watcher peak RSS %.1f MB" % (len(svc), page_mb, rss_mb))
assert st["sanitized"] or rss_mb < page_mb / 2, "peak memory %.1f MB: the page was held whole" % rss_mb
PY
grep -q "over the size bounds, skipped" "$TMP/driver.err" || fail "oversized objects not logged"
echo "PASS"
