#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sts.sh - credentials as a pod has them:
#  - EKS IRSA: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; rawcap calls STS
#    AssumeRoleWithWebIdentity (the test server's STS endpoint, on its second
#    port, via AWS_ENDPOINT_URL_STS), signs with the temporary keys and their
#    session token, and renews them before they expire during a long upload;
#    a wrong token or role is a clear error;
#  - a shared credentials file and profile (AWS_SHARED_CREDENTIALS_FILE,
#    AWS_PROFILE, --profile, ~/.aws/credentials).
# No secret, token or temporary key ever shows in output or the process title.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TOKEN=eyJhbGciOiJSUzI1NiJ9.$(head -c 300 /dev/urandom | base64 -w0 | tr '+/' '-_').sig
ROLE=arn:aws:iam::123456789012:role/rawcap-snapshots
printf '%s\n' "$TOKEN" >"$T/sa-token"
SECRETS+=("$TOKEN")
# Temporary keys last 303 s: rawcap renews them 300 s before, so every few seconds.
server_start STS_TOKEN_FILE="$T/sa-token" STS_ROLE_ARN="$ROLE" STS_DURATION=303 STS_ISSUED="$T/issued"
mkpcap "$T/big.pcap" $((24 << 20)) 9
make_snapshot big "$T/big.pcap"

IRSA=(-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_WEB_IDENTITY_TOKEN_FILE="$T/sa-token"
	AWS_ROLE_ARN="$ROLE" AWS_ENDPOINT_URL_STS="http://127.0.0.1:$STS_PORT")
CLIENT_ENV=("${IRSA[@]}")
bg_run irsa-up upload big --dest "$DEST" --to "$URL" --part-size 5Mi --parallel 1 --max-rate 4Mi
for _ in $(seq 100); do [ -s "$T/issued" ] && break; sleep 0.1; done
tr '\0' ' ' <"/proc/$BG/cmdline" >"$T/out/cmdline.txt" || fail "no process to look at"
bg_wait
expect irsa-up 0 "upload big"
sts=$(grep -c '^STS AssumeRoleWithWebIdentity' "$T/server.log")
[ "$sts" -ge 2 ] || fail "temporary keys were not renewed during the upload ($sts STS calls)"
run irsa-list list --remote "$URL"
expect irsa-list 0
grep -q "^big	" "$T/out/irsa-list.out" || fail "irsa list: $(cat "$T/out/irsa-list.out")"
run irsa-down download big --dest "$T/fresh" --from "$URL"
expect irsa-down 0 "verified"
same_export "$DEST/big" "$T/fresh/big" "$T/big.pcap"
while read -r s; do SECRETS+=("$s"); done <"$T/issued"

printf 'not-the-token\n' >"$T/bad-token"
CLIENT_ENV=("${IRSA[@]}" AWS_WEB_IDENTITY_TOKEN_FILE="$T/bad-token")
run badtoken list --remote "$URL"
expect badtoken 1 "InvalidIdentityToken"
CLIENT_ENV=("${IRSA[@]}" AWS_ROLE_ARN=arn:aws:iam::123456789012:role/other)
run badrole list --remote "$URL"
expect badrole 1 "AccessDenied"
CLIENT_ENV=("${IRSA[@]}" AWS_WEB_IDENTITY_TOKEN_FILE="$T/nosuch")
run notoken list --remote "$URL"
expect notoken 1 "web identity token $T/nosuch"

# Shared credentials file: the profile chooses the keys.
cat >"$T/credentials" <<CRED
# rawcap's test credentials
[default]
aws_access_key_id = AKIADEFAULT000000000
aws_secret_access_key = not-used-here

[rawcap]
aws_access_key_id=$AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
CRED
FILE=(-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/credentials")
CLIENT_ENV=("${FILE[@]}" AWS_PROFILE=rawcap)
run profile list --remote "$URL"
expect profile 0
grep -q "^big	" "$T/out/profile.out" || fail "profile list: $(cat "$T/out/profile.out")"
CLIENT_ENV=("${FILE[@]}")
run default list --remote "$URL"
expect default 1 "InvalidAccessKeyId"
run flag list --remote "$URL" --profile rawcap
expect flag 0
run noprofile list --remote "$URL" --profile nosuch
expect noprofile 1 "has no profile \[nosuch\]"
mkdir -p "$HOME/.aws"
sed -n '/^\[rawcap\]/,$p' "$T/credentials" | sed 's/^\[rawcap\]/[default]/' >"$HOME/.aws/credentials"
CLIENT_ENV=(-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY)
run home list --remote "$URL"
expect home 0
no_secrets
echo "PASS: web identity ($sts STS calls, renewed), bad token/role refused, credentials file profiles"
