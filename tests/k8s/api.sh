# SPDX-License-Identifier: MIT
# api.sh - setup shared by the Kubernetes script tests (sourced), around the
# fake API server (fake_apiserver.py).
#   k8s_test_init NAME           B, S, HERE, NS, RING, TMP, TOKEN, PY, PIDS, fail(); a
#                                network namespace with lo up; all removed on exit
#   api_cert                     a self-signed certificate for 127.0.0.1: $TMP/cert.pem, key.pem
#   start_server SCENARIO [ARG]  serve recordings/SCENARIO in $NS; sets SERVER and PORT
#   kubeconfig PORT [NAMESPACE]  $TMP/kubeconfig for it: the CA inline, the bearer token

k8s_test_init() {
	B=${RAWCAP_BUILD:?}
	S=${RAWCAP_SRC:?}
	HERE=$S/tests/k8s
	NS=rc-k8s$1-$$
	RING=k8s-$1-$$
	TMP=$(mktemp -d "/tmp/rc-k8s$1.XXXXXX")
	TOKEN="tok-$$-$RANDOM-s3cr3t-do-not-log"
	PIDS=()
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # not through a version manager's shim: faster
	fail() { echo "FAIL: $*" >&2; exit 1; }
	trap k8s_test_cleanup EXIT
	trap "exit 1" INT TERM
	ip netns add "$NS" || { echo "SKIP: cannot create a network namespace"; exit 77; }
	ip netns exec "$NS" ip link set lo up
}

k8s_test_cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -f "/dev/shm/rawcap-$RING" "/dev/shm/rawcap-$RING"-*
	rm -rf "$TMP"
}

api_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
		2>/dev/null || fail "openssl req failed"
}

start_server() {
	local scenario=$1
	shift
	rm -f "$TMP/port" "$TMP/requests.log"
	ip netns exec "$NS" $PY "$HERE/fake_apiserver.py" --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
		--scenario "$HERE/recordings/$scenario" --log "$TMP/requests.log" --token "$TOKEN" \
		--port-file "$TMP/port" "$@" &
	SERVER=$!
	PIDS+=("$SERVER")
	for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
	[ -s "$TMP/port" ] || fail "fake API server did not start"
	PORT=$(cat "$TMP/port")
}

kubeconfig() {
	cat >"$TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 "$TMP/cert.pem")
    server: https://127.0.0.1:$1
  name: test
contexts:
- context:
    cluster: test
    user: tester${2:+
    namespace: $2}
  name: test
current-context: test
users:
- name: tester
  user:
    token: "$TOKEN"
KC
}
