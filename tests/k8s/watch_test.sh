#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# watch_test.sh - capd's Kubernetes watcher against a fake HTTPS API server
# (tests/k8s/fake_apiserver.py) playing recorded list and watch streams, in a
# network namespace of its own. Asserts the metadata records that reach the
# ring (read back with rawcap-tap), the request sequence list -> watch ->
# drop -> rewatch -> 410 -> relist, error counting, that capture (dummy
# packets from the driver) never stalls, and that the token never leaks to
# stderr. Then: a stuck server and an unreachable one cost no CPU.
set -euo pipefail
. "$RAWCAP_SRC/tests/k8s/api.sh"
k8s_test_init watch
inns() { ip netns exec "$NS" "$@"; }

api_cert # a CA-less self-signed server certificate for 127.0.0.1, made here

# --- 1. the recorded scenario -------------------------------------------------
start_server scenario-main.json
kubeconfig "$PORT" rc-test
inns "$B/tests/k8s_driver" --ring "$RING" --kubeconfig "$TMP/kubeconfig" --node node-1 \
	--duration 7 --max-event 65536 --backoff-min 200 --backoff-max 1000 --resync 3 \
	--verbose >"$TMP/stats.json" 2>"$TMP/driver.err" || fail "driver exited $?: $(cat "$TMP/driver.err")"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

"$B/readers/rawcap-tap" --ring "$RING" >"$TMP/all.jsonl" || fail "rawcap-tap failed"
"$B/readers/rawcap-tap" --ring "$RING" --format msgpack -o "$TMP/all.msgpack" || fail "rawcap-tap msgpack failed"
"$B/readers/rawcap-tap" --ring "$RING" --kind pod >"$TMP/pods.jsonl" || fail "rawcap-tap --kind pod failed"

# every line is valid JSON on its own (json.tool --json-lines parses line by line)
[ -s "$TMP/all.jsonl" ] || fail "no metadata records in the ring"
$PY -m json.tool --json-lines <"$TMP/all.jsonl" >/dev/null || fail "rawcap-tap printed a line that is not JSON"

$PY "$HERE/check_watch.py" "$TMP/stats.json" "$TMP/all.jsonl" "$TMP/pods.jsonl" \
	"$TMP/all.msgpack" "$TMP/requests.log" || { cat "$TMP/driver.err" >&2; fail "records or requests wrong"; }
grep -q "410 Gone" "$TMP/driver.err" || fail "410 not logged"
grep -q "malformed event line" "$TMP/driver.err" || fail "malformed JSON not logged"
grep -q -- "$TOKEN" "$TMP/driver.err" "$TMP/stats.json" && fail "the token appears in the driver's output"

# --- 2. in-cluster configuration (service-account dir and env) -------------------
start_server scenario-main.json
mkdir -p "$TMP/sa"
printf '%s\n' "$TOKEN" >"$TMP/sa/token"
cp "$TMP/cert.pem" "$TMP/sa/ca.crt"
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$PORT NODE_NAME=node-1 \
	inns "$B/tests/k8s_driver" --ring "$RING-2" --sa-dir "$TMP/sa" --duration 2 --resync 0 \
	>"$TMP/stats2.json" 2>"$TMP/driver2.err" || fail "in-cluster driver failed: $(cat "$TMP/driver2.err")"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
$PY - "$TMP/stats2.json" "$TMP/requests.log" <<'PY' || fail "in-cluster run wrong"
import json, sys
st = json.load(open(sys.argv[1]))
reqs = [json.loads(l) for l in open(sys.argv[2])]
assert st["pod"] >= 2 and st["service"] == 1, st
assert all(r["auth_ok"] for r in reqs), "a request without the token"
PY
grep -q -- "$TOKEN" "$TMP/driver2.err" && fail "the token appears in stderr (in-cluster)"

# --- 3. a stuck server and an unreachable one: no stall, no spinning ------------
start_server scenario-stuck.json
kubeconfig "$PORT" rc-test
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ip netns exec "$NS" "$B/tests/k8s_driver" --ring "$RING-3" --kubeconfig "$TMP/kubeconfig" \
	--node node-1 --duration 4 >"$TMP/stats3.json" 2>"$TMP/driver3.err" &
D=$!
PIDS+=("$D")
sleep 3.5
ticks=$(cpu "$D")
wait "$D" || fail "driver failed against a stuck server"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
$PY - "$TMP/stats3.json" "$ticks" <<'PY' || fail "stuck server slowed capture"
import json, sys
st = json.load(open(sys.argv[1]))
ticks = int(float(sys.argv[2]))
# blocked on the stuck server would mean a gap of seconds; see check_watch.py
assert st["max_loop_gap_ms"] < 1000, st
assert st["packets"] > 100, st
assert ticks < 50, f"driver used {ticks} ticks of CPU in 3.5 s"
assert st["written"] == 0 and st["lists"] == 4, st
PY

# nothing listens on the port any more: connection refused, backing off
inns "$B/tests/k8s_driver" --ring "$RING-3" --kubeconfig "$TMP/kubeconfig" --node node-1 \
	--duration 3 --backoff-min 100 --backoff-max 400 >"$TMP/stats4.json" 2>"$TMP/driver4.err" ||
	fail "driver failed against a closed port"
$PY - "$TMP/stats4.json" <<'PY' || fail "refused connections not backed off"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["max_loop_gap_ms"] < 1000, st
# 4 resources, backoff 100..400 ms over 3 s: a handful each, never a storm
assert 4 <= st["conn_errors"] <= 4 * 20, st
PY
echo "k8s watch test: PASS"
