# SPDX-License-Identifier: MIT
# fake_cluster.sh - sourced by the kubectl-rawcap script tests: the project's
# fake HTTPS API server (tests/k8s/fake_apiserver.py) serving rawcap's pod
# list (recordings/scenario-rawcap.json) in network namespace $1, and
# kubeconfigs for Debian's kubectl. Needs T, S, PIDS and fail() of the caller.
#
# start_fake_cluster NS: server up; $T/kubeconfig (the right token),
# $T/kubeconfig-bad (a wrong one), $T/requests.log (one JSON line per
# request), HOME=$T/home (kubectl's discovery cache), TOKEN.

kubeconfig() { # file token
	cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 "$T/apiserver-cert.pem")
    server: https://127.0.0.1:$(cat "$T/apiserver-port")
  name: fake
contexts:
- context: {cluster: fake, user: tester}
  name: fake
current-context: fake
users:
- name: tester
  user: {token: $2}
KC
}

start_fake_cluster() {
	TOKEN="tok-$$-$RANDOM"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$T/apiserver-key.pem" \
		-out "$T/apiserver-cert.pem" 2>/dev/null
	ip netns exec "$1" python3 "$S/tests/k8s/fake_apiserver.py" --cert "$T/apiserver-cert.pem" \
		--key "$T/apiserver-key.pem" --scenario "$S/tests/k8s/recordings/scenario-rawcap.json" \
		--log "$T/requests.log" --token "$TOKEN" --port-file "$T/apiserver-port" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/apiserver-port" ] && break; sleep 0.05; done
	[ -s "$T/apiserver-port" ] || fail "fake API server did not start"
	kubeconfig "$T/kubeconfig" "$TOKEN"
	kubeconfig "$T/kubeconfig-bad" "wrong-$TOKEN"
	export HOME=$T/home
	mkdir -p "$HOME"
}
