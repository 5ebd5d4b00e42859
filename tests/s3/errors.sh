#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# errors.sh - what goes wrong gets a clear error, exit 1 (2 for usage), and
# leaves nothing behind: wrong secret, unknown key, no credentials, a bucket
# that does not exist, a stored object corrupted or cut short (download
# refused, the file named, nothing installed), a manifest whose file sizes
# wrap past 2^64, a damaged local snapshot
# (upload refused naming the file, not listed), bad URLs and names, an
# HTTPS endpoint trusted through --ca-file (and refused without it). The
# test server itself refuses unsigned requests and payloads that differ from
# their signed hash, so passing here means passing SigV4 for real.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The server also speaks HTTPS (port 9443) with a certificate made here.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 ||
	fail "openssl req"
SERVER_ARGS=(--tls-port 9443 --tls-cert "$T/tls.crt" --tls-key "$T/tls.key")
server_start
capture_traffic "$T/ref.pcap"
make_snapshot web "$T/ref.pcap"
mkpcap "$T/big.pcap" $((24 << 20)) 5
make_snapshot big "$T/big.pcap"

# Credentials.
WRONG=wrong-$(head -c 24 /dev/urandom | base64 | tr '+/' 'xy')
SECRETS+=("$WRONG")
AWS_SECRET_ACCESS_KEY=$WRONG run badsecret upload web --dest "$DEST" --to "$URL"
expect badsecret 1 "SignatureDoesNotMatch"
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 run badkey list --remote "$URL"
expect badkey 1 "InvalidAccessKeyId"
CLIENT_ENV=(-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY)
run nocreds list --remote "$URL"
expect nocreds 1 "no AWS credentials"
CLIENT_ENV=(-u AWS_SECRET_ACCESS_KEY)
run halfcreds list --remote "$URL"
expect halfcreds 1 "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
CLIENT_ENV=()
[ "$(stored_objects web)" = 0 ] || fail "refused credentials stored something"

# A bucket that does not exist.
run nobucket-up upload web --dest "$DEST" --to s3://nosuchbucket/x
expect nobucket-up 1 "bucket nosuchbucket does not exist"
run nobucket-down download web --dest "$T/fresh" --from s3://nosuchbucket/x
expect nobucket-down 1 "bucket nosuchbucket does not exist"
run nobucket-list list --remote s3://nosuchbucket
expect nobucket-list 1 "bucket nosuchbucket does not exist"
[ ! -e "$T/fresh/web" ] || fail "download from a missing bucket made a snapshot"

# Usage errors.
run badurl upload web --dest "$DEST" --to http://bkt/x
expect badurl 2 "not an s3://BUCKET"
run badbucket list --remote s3://Bad_Bucket
expect badbucket 2 "bad bucket name"
run badprefix list --remote s3://bkt/a/../b
expect badprefix 2 "bad prefix"
run badname download ../x --dest "$T/fresh" --from "$URL"
expect badname 2 "invalid snapshot name"
run badpart upload web --dest "$DEST" --to "$URL" --part-size 1Mi
expect badpart 2 "bad part size"
run nolocal upload nosuch --dest "$DEST" --to "$URL"
expect nolocal 1 "No such file"

# Corrupted and truncated objects: download refused, the file named, nothing installed.
run up upload web --dest "$DEST" --to "$URL"
expect up 0
obj=$(find "$STORE/bkt" -path '*/web/data/*._S3rver_object' | head -1)
seg=$(basename "$obj" ._S3rver_object)
printf '\x5a' | dd of="$obj" bs=1 seek=5000 count=1 conv=notrunc status=none
run corrupt download web --dest "$T/fresh" --from "$URL"
expect corrupt 1 "data/$seg: SHA-256 mismatch"
[ ! -e "$T/fresh/web" ] && [ -z "$(ls -A "$T/fresh")" ] || fail "a refused download left: $(ls -A "$T/fresh")"
truncate -s -1000 "$obj"
run short download web --dest "$T/fresh" --from "$URL"
expect short 1 "data/$seg: the object is"
[ -z "$(ls -A "$T/fresh")" ] || fail "a refused download left: $(ls -A "$T/fresh")"
# A manifest that is not one.
man=$(find "$STORE/bkt" -path '*/web/manifest.json._S3rver_object')
chmod u+w "$man"
cp "$man" "$T/web-manifest.json"
echo '{"format": "rawcap-snapshot/1", "name": "../../etc"}' >"$man"
run badmanifest download web --dest "$T/fresh" --from "$URL"
expect badmanifest 1 "manifest.json: malformed"
# File sizes that wrap past 2^64 to add up to data_bytes: one file's download was
# bounded by 2^64 - 1 bytes, past --quota and the free-space check.
python3 - "$T/web-manifest.json" "$man" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["files"][0]["size"] += 1
m["files"].append(dict(m["files"][0], path="data/wrap", size=2**64 - 1))
json.dump(m, open(sys.argv[2], "w"))
PY
run wrapsize download web --dest "$T/fresh" --from "$URL"
expect wrapsize 1 "manifest.json: file sizes add up beyond 2^64 bytes"
[ -z "$(ls -A "$T/fresh")" ] || fail "a refused download left: $(ls -A "$T/fresh")"
run del delete web --remote "$URL"
expect del 0

# A damaged local snapshot is refused before its manifest goes up, for a
# single PUT (web) and for a multipart upload (big), naming the file.
: >"$T/server.log"
for name in web big; do
	f=$(ls "$DEST/$name/data" | tail -1)
	chmod u+w "$DEST/$name/data/$f"
	# flip the byte's bits: a fixed value is already there once in 256 snapshots
	b=$(od -An -tu1 -j70000 -N1 "$DEST/$name/data/$f" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 255)))" |
		dd of="$DEST/$name/data/$f" bs=1 seek=70000 count=1 conv=notrunc status=none
	[ "$(od -An -tu1 -j70000 -N1 "$DEST/$name/data/$f" | tr -d ' ')" = $((b ^ 255)) ] ||
		fail "damaging $name: the byte did not change"
	run damaged-$name upload $name --dest "$DEST" --to "$URL" --part-size 5Mi
	expect damaged-$name 1 "data/$f: content does not match the manifest's SHA-256"
	! grep -q "^PUT .*/$name/manifest.json" "$T/server.log" || fail "manifest of damaged $name sent"
done
[ "$(pending_uploads)" = 0 ] || fail "the refused multipart upload was not aborted"
run list list --remote "$URL"
expect list 0
[ ! -s "$T/out/list.out" ] || fail "a refused upload is listed: $(cat "$T/out/list.out")"

# HTTPS: with the CA given it works; without, the certificate is refused, clearly.
ENDPOINT=https://127.0.0.1:9443 run tls list --remote "$URL" --ca-file "$T/tls.crt"
expect tls 0
grep -q "^GET /bkt/?list-type=2" "$T/server.log" || fail "no request over HTTPS"
ENDPOINT=https://127.0.0.1:9443 run tls-untrusted list --remote "$URL"
expect tls-untrusted 1 "certificate"

# The test server refuses unsigned requests and payloads unlike their signed hash.
code=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' "$ENDPOINT/bkt/?list-type=2")
[ "$code" = 403 ] || fail "the test server answered $code to an unsigned request"
echo hello >"$T/hello"
code=$(ip netns exec "$NS" curl -s -o "$T/mismatch.xml" -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:s3 \
	-u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $(printf '%064d' 0)" \
	-T "$T/hello" "$ENDPOINT/bkt/hello")
[ "$code" = 400 ] && grep -q XAmzContentSHA256Mismatch "$T/mismatch.xml" ||
	fail "the test server took a payload unlike its hash ($code)"
no_secrets
echo "PASS: credentials, buckets, usage, corrupt objects and damaged snapshots all refused cleanly"
