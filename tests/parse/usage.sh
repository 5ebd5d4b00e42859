#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# usage.sh - every reader refuses a size, time or duration it cannot hold:
# exit 2, one line naming the option, the value and the accepted forms;
# never a wrapped value (2600-01-01 once parsed as 2015-06-13, so a window
# "--from 2020 --to 2600" was called backwards). No ring is needed: values
# are checked while parsing.
set -euo pipefail
: "${RAWCAP_BUILD:?run through ctest, or set RAWCAP_BUILD to the build tree}"
R=$RAWCAP_BUILD/readers
TMP=$(mktemp -d /tmp/rc-usage-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export RAWCAP_SHM_DIR=$TMP/shm

check() { # check PATTERN TOOL ARGS...
	local want=$1 tool=$2 rc=0 err
	shift 2
	err=$("$R/$tool" "$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = 2 ] || { echo "FAIL: $tool $* exited $rc, want 2: $err"; exit 1; }
	grep -qF -- "$want" <<<"$err" || { echo "FAIL: $tool $*: unclear message: $err"; exit 1; }
	echo "ok: $tool $* -> $err"
}
FORMS="times are RFC 3339"
RANGE="out of range: between 1970-01-01T00:00:00Z and 2554-07-21T23:34:33Z"
check "bad --to '2600-01-01T00:00:00Z': $RANGE" rawcap-snapshot create --ring none \
	--from 2020-01-01T00:00:00Z --to 2600-01-01T00:00:00Z --dest "$TMP/s" --name x
check "bad --from '2554-07-21T23:34:34Z': $RANGE" rawcap-pcap --from 2554-07-21T23:34:34Z
check "bad --from '2026-02-30T00:00:00Z': $FORMS" rawcap-pcap --from 2026-02-30T00:00:00Z
check "bad --to '18446744074': $RANGE" rawcap-tap --to 18446744074
check "bad --from '1969-12-31T23:59:59Z': $RANGE" rawcap-forward --from 1969-12-31T23:59:59Z \
	--listen 127.0.0.1:1 --plain
check "bad --from '-600000000h': $RANGE" rawcap-snapshot create --from -600000000h
check "bad --last '5124095h34m34s': out of range" rawcap-snapshot create --last 5124095h34m34s
check "bad --last '1.5h': durations are" rawcap-snapshot create --last 1.5h
check "bad --quota '16777216Ti': out of range" rawcap-snapshot create --quota 16777216Ti --last 1m
check "bad interval '0x10'" rawcap-stat --interval 0x10
check "at most 1h" rawcap-stat --interval 3601
echo "PASS"
