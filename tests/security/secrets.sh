#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# secrets.sh - secrets never reach logs or error messages. rawcap-forward is
# given a real TLS private key with a broken certificate, a key where the
# certificate belongs, and a key file it cannot parse: each run fails with an
# error, and no line of the key's PEM body (nor its base64 core) appears in
# its output. capd given a config file whose unknown option carries a
# secret value names the option, never the value.
set -euo pipefail
TNAME=secret
. "$(dirname "$0")/../capd/lib.sh"
FWD=$RAWCAP_BUILD/readers/rawcap-forward
[ -x "$FWD" ] || { echo "SKIP: rawcap-forward not built"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/key.pem" 2>/dev/null
chmod 600 "$TMP/key.pem"
printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' \
	>"$TMP/bad-cert.pem"
# A valid certificate for another key: the key is loaded, then mismatches.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/other.pem" \
	-out "$TMP/cert.pem" -days 1 -subj /CN=rawcap-test 2>/dev/null
# A corrupted key: the real body with one line damaged, still secret material.
sed '2s/^./#/' "$TMP/key.pem" >"$TMP/bad-key.pem"

# leaks FILE OUTPUT: does any secret line (or 16-char chunk of one) appear?
leaks() {
	local line
	while read -r line; do
		case $line in -----*) continue ;; esac
		grep -qF -- "$line" "$2" && return 0
		for off in 0 16 32 48; do
			[ ${#line} -ge $((off + 16)) ] && grep -qF -- "${line:off:16}" "$2" && return 0
		done
	done <"$1"
	return 1
}

run_fwd() { # NAME ARGS...
	local name=$1 rc=0
	shift
	timeout 10 ip netns exec "$NS" "$FWD" --ring "$RING" --listen 127.0.0.1:5555 "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
	echo "$name: exit $rc: $(head -2 "$TMP/$name.err" | tr '\n' ' ')"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$name: rawcap-forward did not fail (exit $rc)"
	cat "$TMP/$name.out" >>"$TMP/$name.err"
	if leaks "$TMP/key.pem" "$TMP/$name.err" || leaks "$TMP/bad-key.pem" "$TMP/$name.err"; then
		fail "$name: key material in rawcap-forward's output"
	fi
}

start_capd "$TMP/capd.log" --interfaces lo
run_fwd badcert --tls-cert "$TMP/bad-cert.pem" --tls-key "$TMP/key.pem"
run_fwd keyascert --tls-cert "$TMP/key.pem" --tls-key "$TMP/key.pem"
run_fwd badkey --tls-cert "$TMP/cert.pem" --tls-key "$TMP/bad-key.pem"
run_fwd mismatch --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
stop_capd "$TMP/capd.log"
leaks "$TMP/key.pem" "$TMP/capd.log" && fail "key material in capd's log"

secret=$(openssl rand -hex 24)
printf 'ring = x\nservice_account_token = %s\n' "$secret" >"$TMP/capd.conf"
rc=0
"$CAPD" --config "$TMP/capd.conf" --interfaces lo 2>"$TMP/conf.err" || rc=$?
cat "$TMP/conf.err"
[ "$rc" = 2 ] || fail "capd accepted an unknown config option (exit $rc)"
grep -qF "$secret" "$TMP/conf.err" && fail "capd printed a config value it rejected"
echo "PASS: no key material or secret value in any error output"
