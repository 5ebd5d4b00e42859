#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# landlock_net.sh - Landlock's network rules in capd (kernel ABI 4+). With
# --kubernetes, seccomp lets TCP sockets through for the API-server watcher;
# Landlock then limits them: after the drop capd can connect to the API
# server's port and nowhere else (and bind nothing: seccomp already forbids
# bind). The hidden --selftest-after-drop=connect tries both ports right
# after the drop. On a
# kernel without network rules the log must say so (and the test skips).
set -euo pipefail
TNAME=llnet
. "$(dirname "$0")/../capd/lib.sh"
API_PORT=16443 # nothing listens there: a connect that Landlock allows is refused by TCP

cat >"$TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- cluster:
    insecure-skip-tls-verify: true
    server: https://127.0.0.1:$API_PORT
  name: test
contexts:
- context:
    cluster: test
    user: tester
  name: test
current-context: test
users:
- name: tester
  user:
    token: not-a-real-token
KC
chmod 644 "$TMP/kubeconfig"

rc=0
KUBECONFIG=$TMP/kubeconfig NODE_NAME=node-1 nsx "$CAPD" --ring "$RING" --ring-size 1Mi \
	--interfaces lo --kubernetes --selftest-after-drop=connect 2>"$TMP/capd.log" || rc=$?
cat "$TMP/capd.log"
abi=$(sed -n 's/.*landlock (ABI \([0-9]*\)).*/\1/p' "$TMP/capd.log")
[ -n "$abi" ] || fail "Landlock was not applied"
if [ "$abi" -lt 4 ]; then
	grep -q "no network rules in this kernel" "$TMP/capd.log" || fail "ABI $abi: not said"
	echo "SKIP: Landlock ABI $abi has no network rules"
	exit 77
fi
grep -q "TCP: no bind, connect to its API server only" "$TMP/capd.log" || fail "rules not announced"
grep -q "selftest FAILED" "$TMP/capd.log" && fail "Landlock let capd connect or bind"
[ "$rc" = 3 ] || fail "want exit 3 (refused by the sandbox), got $rc"
grep -q "connect to the API server's port $API_PORT: Connection refused" "$TMP/capd.log" ||
	fail "the API server's port was not reachable (Landlock refused it?)"
grep -q "connect to port $((API_PORT + 1)): Permission denied" "$TMP/capd.log" ||
	fail "connect to another port was not refused with EACCES"
echo "PASS: after the drop capd connects to its API server's port only (ABI $abi)"
