#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# named_files.sh - a file a user names (config file, token, TLS certificate,
# key or CA, kubeconfig, S3 credentials) that is a FIFO, a device or a
# directory is refused at once with what it is, never opened blocking: a FIFO
# planted under such a name hung capd's start-up (--config, KUBECONFIG),
# rawcap-server (--token-file, --tls-*), rawcap-forward (--tls-*),
# kubectl-rawcap (--token-file, --tls-*) and the S3 tools (credentials and CA files) in
# open(2) for ever. A name that is a link to a regular file is followed, as
# Kubernetes mounts Secrets (token -> ..data/token): rawcap-server refused
# those (O_NOFOLLOW) although the user named them.
set -euo pipefail
TNAME=named
. "$(dirname "$0")/../capd/lib.sh"
SERVER=$B/server/rawcap-server
FWD=$B/readers/rawcap-forward
SNAP=$B/readers/rawcap-snapshot
KR=$B/cli/kubectl-rawcap
rc_need openssl curl

mkfifo "$TMP/fifo"
mkdir "$TMP/dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=rc \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
# A Secret as kubelet mounts it: NAME -> ..data/NAME, ..data -> a timestamped directory.
mkdir -p "$TMP/secret/..2026_12_01" "$TMP/snaps"
printf 'correct-horse-battery-staple\n' >"$TMP/secret/..2026_12_01/token"
ln -s ..2026_12_01 "$TMP/secret/..data"
ln -s ..data/token "$TMP/secret/token"

# refused NAME WHAT CMD...: CMD fails within 10 s (not 124: it hung) and names WHAT.
refused() {
	local name=$1 what=$2 rc=0
	shift 2
	timeout 10 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null || rc=$?
	echo "$name: exit $rc: $(head -1 "$TMP/$name.err")"
	[ "$rc" != 124 ] || fail "$name: hung on $what"
	[ "$rc" != 0 ] || fail "$name: accepted $what"
	grep -q "$what, not a regular file" "$TMP/$name.err" || fail "$name: no '$what' in the error"
}

for obj in fifo:"a FIFO" dir:"a directory" /dev/zero:"a character device"; do
	p=${obj%%:*} what=${obj#*:}
	[ "${p:0:1}" = / ] || p=$TMP/$p
	n=$(basename "$p")
	refused "capd-config-$n" "$what" "$CAPD" --config "$p" --interfaces lo --ring "$RING"
	refused "server-token-$n" "$what" "$SERVER" --ring none --snapshots "$TMP/snaps" \
		--token-file "$p"
	refused "server-key-$n" "$what" "$SERVER" --ring none --snapshots "$TMP/snaps" \
		--tls-cert "$TMP/cert.pem" --tls-key "$p"
	refused "kubectl-token-$n" "$what" "$KR" export --last 1m -o "$TMP/x.pcapng" \
		--endpoints "n1=https://127.0.0.1:1" --token-file "$p"
	refused "s3-creds-$n" "$what" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_SHARED_CREDENTIALS_FILE="$p" "$SNAP" list --remote s3://bucket/x \
		--endpoint http://127.0.0.1:1
done
refused s3-ca "a FIFO" env AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=x "$SNAP" list \
	--remote s3://bucket/x --endpoint https://127.0.0.1:1 --ca-file "$TMP/fifo"
refused server-cert "a FIFO" "$SERVER" --ring none --snapshots "$TMP/snaps" \
	--tls-cert "$TMP/fifo" --tls-key "$TMP/key.pem"
refused server-ca "a FIFO" "$SERVER" --ring none --snapshots "$TMP/snaps" \
	--tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --tls-ca "$TMP/fifo"

start_capd "$TMP/capd.log" --interfaces lo
for opt in cert key ca; do
	args=(--tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --tls-ca "$TMP/cert.pem")
	case $opt in
	cert) args[1]=$TMP/fifo ;;
	key) args[3]=$TMP/fifo ;;
	ca) args[5]=$TMP/fifo ;;
	esac
	refused "forward-$opt" "a FIFO" ip netns exec "$NS" "$FWD" --ring "$RING" --listen 127.0.0.1:5555 "${args[@]}"
done
stop_capd "$TMP/capd.log"

# capd's Kubernetes client: a kubeconfig that is a FIFO is named, capd does not hang.
rc=0
KUBECONFIG=$TMP/fifo NODE_NAME=n1 timeout 10 "$CAPD" --interfaces lo --ring "$RING" --kubernetes \
	>"$TMP/kube.out" 2>"$TMP/kube.err" </dev/null || rc=$?
echo "capd-kubeconfig: exit $rc: $(grep -m1 kubeconfig "$TMP/kube.err" || true)"
[ "$rc" != 124 ] || grep -q "kubeconfig.*a FIFO, not a regular file" "$TMP/kube.err" ||
	fail "capd-kubeconfig: hung on a FIFO"

# kubectl-rawcap's TLS files: a FIFO is refused before any request; a real CA
# (given to libcurl from memory) is trusted and is the only one.
refused kubectl-ca "a FIFO" "$KR" bounds --endpoints "n1=https://127.0.0.1:1" --tls-ca "$TMP/fifo"
refused kubectl-key "a FIFO" "$KR" bounds --endpoints "n1=https://127.0.0.1:1" \
	--tls-cert "$TMP/cert.pem" --tls-key "$TMP/fifo"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=srv \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/srv.key" -out "$TMP/srv.pem" 2>/dev/null
ip netns exec "$NS" "$SERVER" --ring none --snapshots "$TMP/snaps" --listen 127.0.0.1:9472 \
	--tls-cert "$TMP/srv.pem" --tls-key "$TMP/srv.key" >"$TMP/tls-server.log" 2>&1 &
PIDS+=($!)
wait_until 10 nsx curl -sk -o /dev/null https://127.0.0.1:9472/v1/snapshots
rc=0
nsx "$KR" snapshot list --endpoints "n1=https://127.0.0.1:9472" --tls-ca "$TMP/srv.pem" \
	>"$TMP/kr-tls.out" 2>"$TMP/kr-tls.err" || rc=$?
[ "$rc" = 0 ] || fail "kubectl-rawcap with --tls-ca over HTTPS exited $rc"
rc=0
nsx "$KR" snapshot list --endpoints "n1=https://127.0.0.1:9472" --tls-ca "$TMP/cert.pem" \
	>"$TMP/kr-other.out" 2>"$TMP/kr-other.err" || rc=$?
[ "$rc" != 0 ] || fail "kubectl-rawcap trusted a server its --tls-ca did not sign"

# A Secret-style link to a token is followed: the server starts and checks the token.
ip netns exec "$NS" "$SERVER" --ring none --snapshots "$TMP/snaps" --listen 127.0.0.1:9471 \
	--token-file "$TMP/secret/token" >"$TMP/server.log" 2>&1 &
PIDS+=($!)
code() { nsx curl -s -o /dev/null -w '%{http_code}' "$@" http://127.0.0.1:9471/v1/snapshots || true; }
answers_401() { [ "$(code)" = 401 ]; } # asked again each try, not expanded once
wait_until 10 answers_401
[ "$(code -H 'Authorization: Bearer correct-horse-battery-staple')" = 200 ] ||
	fail "the token behind a Secret-style link was not accepted"
echo "PASS: FIFOs, devices and directories named as files are refused at once; links followed"
