#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capd_watch.sh - the Kubernetes source inside the real capd: --kubernetes with
# a kubeconfig against the fake API server (recorded streams, incl. a dropped
# connection, malformed JSON, an oversized object and a 410), while capd also
# captures lo. The watcher runs after the privilege drop under capd's seccomp
# allow-list: capd must survive, write pod/service/endpoints/namespace records,
# keep capturing, stop cleanly, and never print the token.
set -euo pipefail
TNAME=k8scapd
. "$RAWCAP_SRC/tests/capd/lib.sh"
HERE=$RAWCAP_SRC/tests/k8s
TOKEN="tok-$$-$RANDOM-s3cr3t-do-not-log"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

. "$HERE/api.sh"
api_cert
start_server scenario-main.json
kubeconfig "$PORT"
chmod 644 "$TMP/kubeconfig"

# With --storage, as deployed: Landlock and the seccomp file calls apply too.
KUBECONFIG=$TMP/kubeconfig NODE_NAME=node-1 start_capd "$TMP/capd.log" --interfaces lo --kubernetes \
	--storage "$TMP/fifo" --storage-size 64Mi
nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 0 >/dev/null
sleep 5
kill -0 "$CAPD_PID" 2>/dev/null || fail "capd died with the watcher running (seccomp?): $(tail -5 "$TMP/capd.log")"
nsx "$TRAFFIC" udp 127.0.0.1 9999 2000 2000 >/dev/null
sleep 0.5
stop_capd "$TMP/capd.log"

"$RAWCAP_BUILD/readers/rawcap-tap" --ring "$RING" >"$TMP/meta.jsonl" || fail "rawcap-tap failed"
$PY - "$TMP/meta.jsonl" <<'PY' || fail "metadata records wrong"
import collections, json, sys
kinds = collections.Counter()
pods = set()
for line in open(sys.argv[1]):
    rec = json.loads(line)
    k = rec.get("kind")
    kinds[k] += 1
    if k == "pod":
        pods.add(rec["data"].get("name"))
print("records by kind:", dict(kinds), "pods:", sorted(pods))
for k in ("pod", "service", "endpoints", "namespace"):
    assert kinds[k] >= 1, f"no {k} record"
assert len(pods) >= 2, pods
PY
final=$(grep 'capd: final:' "$TMP/capd.log")
echo "$final"
[ "$(kv packets "$final")" -ge 4000 ] || fail "capture did not continue alongside the watcher"
grep -q -- "$TOKEN" "$TMP/capd.log" && fail "the token appears in capd's log"
grep -q "410" "$TMP/capd.log" || fail "the 410 Gone was not logged"
echo "PASS: capd --kubernetes wrote metadata, kept capturing, and kept the token out of its log"
