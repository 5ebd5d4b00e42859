# SPDX-License-Identifier: MIT
# lib.sh - shared by the S3 tests: a private network namespace with the S3
# test server (tests/s3/server.js: s3rver behind a SigV4-verifying front) on
# its loopback, snapshots made the way capd's are read (pktwriter fills a
# ring and a disk FIFO, rawcap-snapshot create copies a window), every
# rawcap-snapshot run recorded under $T/out, and the check every test ends
# with: no secret in any of that output.
#
# Credentials are random per run and reach rawcap only through the AWS
# environment variables; HOME is the test's directory, so no real
# ~/.aws/credentials is ever read.

B=${RAWCAP_BUILD:?RAWCAP_BUILD must point at the build tree}
SRC=${RAWCAP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HERE=$SRC/tests/s3
SNAP=$B/readers/rawcap-snapshot
PCAP=$B/readers/rawcap-pcap
PKTW=$B/tests/pktwriter
T=$(mktemp -d /tmp/rc-s3.XXXXXX)
NS=rc-s3-$$
RING=rcs3$$
PORT=9000
STS_PORT=9001
ENDPOINT=http://127.0.0.1:$PORT
URL=s3://bkt/rawcap/snaps
STORE=$T/store
DEST=$T/snaps
SRV_PID=
PIDS=()
RC=0
mkdir -p "$T/out" "$STORE"
chmod 755 "$T"

for v in AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
	AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_STS \
	AWS_REGION AWS_DEFAULT_REGION AWS_CONFIG_FILE RAWCAP_SNAPSHOT_REMOTE RAWCAP_SNAPSHOT_DIR; do
	unset "$v"
done
export HOME=$T
AWS_ACCESS_KEY_ID=AKIA$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
AWS_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr '+/' 'xy')
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export S3_TEST_ACCESS_KEY=$AWS_ACCESS_KEY_ID S3_TEST_SECRET_KEY=$AWS_SECRET_ACCESS_KEY
SECRETS=("$AWS_SECRET_ACCESS_KEY")

fail() {
	echo "FAIL: $*" >&2
	[ -z "${DEBUG:-}" ] || { tail -n 20 "$T"/server.* "$T"/out/* 2>/dev/null; } >&2
	exit 1
}

cleanup() {
	[ -n "$SRV_PID" ] && kill -9 "$SRV_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
	rm -f /dev/shm/rawcap-"$RING"*
	if [ -n "${KEEP:-}" ]; then # debugging: keep the files
		echo "kept $T" >&2
		return
	fi
	chmod -R u+w "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "SKIP: $1 missing"; exit 77; }; }
need node
need tcpdump
need python3
need curl
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespace)"; exit 77; }
bash "$HERE/setup.sh" >"$T/setup.log" 2>&1 || fail "npm packages of the test server: $(tail -3 "$T/setup.log")"

ip netns add "$NS" || fail "ip netns add"
ip -n "$NS" link set lo up

# Start the test server (again, on the same store after a kill); extra env as
# arguments, extra server options in SERVER_ARGS.
SERVER_ARGS=()
server_start() {
	: >"$T/server.out"
	ip netns exec "$NS" env "$@" node "$HERE/server.js" --dir "$STORE" --port $PORT \
		--sts-port $STS_PORT --bucket bkt --bucket other --log "$T/server.log" "${SERVER_ARGS[@]}" \
		>"$T/server.out" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 300); do
		grep -q '^ready' "$T/server.out" && return 0
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "test server did not start: $(cat "$T/server.out")"
}

server_kill() {
	kill -9 "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=
}

# run LABEL ARGS...: rawcap-snapshot in the namespace, against the test server,
# with CLIENT_ENV (env(1) arguments) applied; output in $T/out/LABEL.out and
# .err, exit status in RC.
CLIENT_ENV=()
run() {
	local label=$1
	shift
	set +e
	timeout 300 ip netns exec "$NS" env "${CLIENT_ENV[@]}" "$SNAP" "$@" --endpoint "$ENDPOINT" \
		>"$T/out/$label.out" 2>"$T/out/$label.err"
	RC=$?
	set -e
}

# expect LABEL RC PATTERN: the run ended with RC and PATTERN is in its output.
expect() {
	[ "$RC" = "$2" ] || fail "$1: exit $RC, want $2: $(cat "$T/out/$1.err" "$T/out/$1.out")"
	[ -z "${3:-}" ] || grep -q -- "$3" "$T/out/$1.out" "$T/out/$1.err" ||
		fail "$1: no \"$3\" in: $(cat "$T/out/$1.err" "$T/out/$1.out")"
}

# make_snapshot NAME PCAP: the pcap's packets through a ring and a disk FIFO into $DEST/NAME.
make_snapshot() {
	local name=$1 pcap=$2 ring=$RING-$1
	"$PKTW" --size $((1 << 20)) --storage "$T/fifo-$name" --storage-size $((1 << 30)) \
		"$ring" "$pcap" >"$T/pktwriter.out" 2>&1 || fail "pktwriter: $(cat "$T/pktwriter.out")"
	"$SNAP" create --ring "$ring" --storage "$T/fifo-$name" --dest "$DEST" --name "$name" \
		--from -24h --to now >"$T/out/create-$name.out" 2>&1 ||
		fail "create $name: $(cat "$T/out/create-$name.out")"
	rm -rf "$T/fifo-$name" /dev/shm/rawcap-"$ring"*
}

# capture_traffic OUT: tcpdump on the namespace's loopback while curl puts
# objects of varied sizes to the test server (bucket "other") and gets them
# back: real TCP connections, handshakes, HTTP and payloads.
capture_traffic() {
	local sig=(--aws-sigv4 aws:amz:us-east-1:s3 -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
	local tp i
	ip netns exec "$NS" tcpdump -i lo -s 0 -U -w "$1" "tcp port $PORT" 2>"$T/tcpdump.err" &
	tp=$!
	for _ in $(seq 100); do grep -q listening "$T/tcpdump.err" && break; sleep 0.05; done
	for i in 1 2 3 4 5; do
		head -c $((i * 41000 + 7)) /dev/urandom >"$T/payload"
		ip netns exec "$NS" curl -sS -o /dev/null "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
			-T "$T/payload" "$ENDPOINT/other/traffic-$i" || fail "curl PUT"
		ip netns exec "$NS" curl -sS -o /dev/null "${sig[@]}" -H "x-amz-content-sha256: $(sha256sum </dev/null | cut -d' ' -f1)" \
			"$ENDPOINT/other/traffic-$i" || fail "curl GET"
	done
	sleep 0.3
	kill -INT "$tp"
	wait "$tp" || true
}

# mkpcap OUT BYTES [SEED]: generated UDP packets (tests/s3/mkpcap.py).
mkpcap() { python3 "$HERE/mkpcap.py" "$@" >/dev/null; }

# The pcap export of two snapshots is the same, byte for byte, and holds
# exactly the packets of the reference capture: tcpdump rewrites the export
# (nanosecond pcap) as classic microsecond pcap, whose packet records must
# be the reference's, byte for byte (only the file headers' snaplen differ).
same_export() {
	"$PCAP" --snapshot "$1" --format pcap -o "$T/a.pcap" 2>"$T/out/export-a.err" || fail "export $1"
	"$PCAP" --snapshot "$2" --format pcap -o "$T/b.pcap" 2>"$T/out/export-b.err" || fail "export $2"
	cmp "$T/a.pcap" "$T/b.pcap" || fail "pcap exports of $1 and $2 differ"
	if [ -n "${3:-}" ]; then
		tcpdump -r "$T/b.pcap" -w "$T/b-usec.pcap" 2>/dev/null || fail "tcpdump cannot read the export"
		cmp <(tail -c +25 "$T/b-usec.pcap") <(tail -c +25 "$3") ||
			fail "the packets exported from $2 are not those of $3"
	fi
}

# Objects and unfinished multipart uploads the server holds for a snapshot.
stored_objects() { find "$STORE/bkt" -path "*/$1/*" -name '*._S3rver_object' | wc -l; }
pending_uploads() { ls "$STORE/bkt/._S3rver_uploads" 2>/dev/null | wc -l; }

# No secret may appear in anything rawcap printed.
no_secrets() {
	for s in "${SECRETS[@]}"; do
		[ -n "$s" ] || continue
		if grep -rqF -- "$s" "$T/out"; then
			fail "a secret appears in rawcap's output: $(grep -rlF -- "$s" "$T/out")"
		fi
	done
}

# bg_run LABEL ARGS...: like run, in the background; its pid in BG.
bg_run() {
	local label=$1
	shift
	ip netns exec "$NS" env "${CLIENT_ENV[@]}" "$SNAP" "$@" --endpoint "$ENDPOINT" \
		>"$T/out/$label.out" 2>"$T/out/$label.err" &
	BG=$!
	PIDS+=("$BG")
}

# bg_wait: the exit status of the background run in RC, waiting at most 120 s.
bg_wait() {
	local i
	for i in $(seq 1200); do
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.1
	done
	[ "$i" -lt 1200 ] || fail "the background run did not end"
	set +e
	wait "$BG"
	RC=$?
	set -e
}

# wait_log PATTERN N: until the server has logged N lines matching PATTERN (60 s at most).
wait_log() {
	for _ in $(seq 600); do
		[ "$(grep -c -- "$1" "$T/server.log" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "the server never logged $2 of \"$1\": $(tail -5 "$T/server.log")"
}
