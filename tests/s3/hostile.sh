#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hostile.sh - an S3 endpoint that answers every ListObjectsV2 with a truncated
# page that never moves on (the same continuation token again, two tokens in
# turn, or new tokens and never a key) is refused with a clear error, exit 1:
# rawcap-snapshot list --remote asked for the next page for ever. Empty
# truncated pages with new tokens before the keys (AWS, GCS and MinIO send
# them under a prefix with many deleted keys) are followed: the listing
# completes. The endpoint is a few lines of python on the loopback of a
# namespace made here; it checks no signature.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
rc_need_root
rc_need python3
rc_tmp s3-hostile
SNAP=$B/readers/rawcap-snapshot
NS=rc-s3h-$$
rc_netns_add "$NS"

cat >"$TMP/srv.py" <<'PY'
import http.server, sys, itertools
mode, n = sys.argv[1], itertools.count()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        i = next(n)
        key = "<Contents><Key>p/a/manifest.json</Key><Size>1</Size></Contents>"
        token, keys, more = "t%d" % i, "", "true"
        if mode == "same":
            token, keys = "same", key
        elif mode == "alternate":
            token, keys = "t%d" % (i % 2), key
        elif mode == "sparse" and i == 5:  # five empty pages, then the keys, the end
            token, keys, more = "", key, "false"
        next_token = "<NextContinuationToken>%s</NextContinuationToken>" % token if token else ""
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
                '<IsTruncated>%s</IsTruncated>%s'
                '%s</ListBucketResult>' % (more, next_token, keys)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
PY

# MODE PORT MESSAGE: list --remote against that endpoint ends, exit 1, saying MESSAGE.
hostile() {
	local rc=0
	ip netns exec "$NS" python3 "$TMP/srv.py" "$1" "$2" &
	PIDS+=($!)
	wait_until 10 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2"
	AWS_ACCESS_KEY_ID=AKIAHOSTILE000000000 AWS_SECRET_ACCESS_KEY=hostile HOME=$TMP \
		timeout 30 ip netns exec "$NS" "$SNAP" list --remote s3://bkt/p \
		--endpoint "http://127.0.0.1:$2" --retries 0 >"$TMP/$1.out" 2>"$TMP/$1.err" || rc=$?
	[ "$rc" != 124 ] || fail "$1: list --remote still asking for pages after 30 s"
	[ "$rc" = 1 ] || fail "$1: exit $rc, not 1: $(cat "$TMP/$1.err")"
	grep -q "$3" "$TMP/$1.err" || fail "$1: no '$3' in: $(cat "$TMP/$1.err")"
	echo "$1: exit 1, $(head -1 "$TMP/$1.err")"
}
hostile same 9100 "list the bucket: a continuation token it gave before"
hostile alternate 9102 "list the bucket: a continuation token it gave before"
hostile empty 9101 "list the bucket: 1000 truncated pages in a row without a key"
# Empty truncated pages with new tokens, then the keys: listed, exit 0.
ip netns exec "$NS" python3 "$TMP/srv.py" sparse 9103 &
PIDS+=($!)
wait_until 10 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/9103"
rc=0
AWS_ACCESS_KEY_ID=AKIAHOSTILE000000000 AWS_SECRET_ACCESS_KEY=hostile HOME=$TMP \
	timeout 30 ip netns exec "$NS" "$SNAP" list --remote s3://bkt/p \
	--endpoint "http://127.0.0.1:9103" --retries 0 >"$TMP/sparse.out" 2>"$TMP/sparse.err" || rc=$?
[ "$rc" = 0 ] && grep -q "^a" "$TMP/sparse.out" ||
	fail "sparse: empty truncated pages before the keys: exit $rc: $(cat "$TMP/sparse.out" "$TMP/sparse.err")"
echo "sparse: five empty truncated pages, then the keys: listed, exit 0"
echo "PASS"
