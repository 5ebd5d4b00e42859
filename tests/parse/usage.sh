#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# usage.sh - every reader refuses a size, time, duration or kind it cannot hold:
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
# --pace: one parser (lib/opt), one message, in both tools that replay; no bare
# number, no inf, at most 1e6x (rawcap-forward took "inf" and "10" once)
PACE="realtime, or Nx for N times that (0 < N <= 1000000, e.g. 10x, 0.5x)"
for p in inf 10 1e7x 0x -1x nanx; do
	check "bad --pace '$p': $PACE" rawcap-forward --pace "$p" --listen 127.0.0.1:1 --plain
	check "bad --pace '$p': $PACE" ../cli/kubectl-rawcap dissect --last 1m --pace "$p" \
		--target 127.0.0.1:1 --plain
done
# a reader that cannot open its source leaves no output file it created (exit 1)
for t in rawcap-tap rawcap-pcap; do
	rc=0
	"$R/$t" --ring none --last 1m -o "$TMP/out.$t" 2>/dev/null || rc=$?
	[ "$rc" = 1 ] && [ ! -e "$TMP/out.$t" ] ||
		{ echo "FAIL: $t with no ring: exit $rc, output left: $(ls "$TMP")"; exit 1; }
	echo "ok: $t with no ring: exit 1, no output file"
	# one that was there is left as it was (it was emptied first), no temporary beside it
	echo old >"$TMP/old.$t"
	rc=0
	"$R/$t" --ring none --last 1m -o "$TMP/old.$t" 2>/dev/null || rc=$?
	[ "$rc" = 1 ] && [ "$(cat "$TMP/old.$t")" = old ] && ! ls -a "$TMP" | grep -q "^\.old\.$t-" ||
		{ echo "FAIL: $t with no ring: exit $rc, old output: $(cat "$TMP/old.$t"), $(ls -a "$TMP")"; exit 1; }
	echo "ok: $t with no ring: exit 1, the old output left as it was"
done
# merge -o naming one of its inputs where it would be written in place (here
# through another link: it would be emptied before it is read) is refused, the
# input left as it was (written beside, it is taken: kubectl_merge_oracle)
echo input >"$TMP/in.pcapng"
ln "$TMP/in.pcapng" "$TMP/in-link.pcapng"
check "-o names one of the files merged; write elsewhere" ../cli/kubectl-rawcap merge \
	-o "$TMP/in-link.pcapng" a="$TMP/in.pcapng"
[ "$(cat "$TMP/in.pcapng")" = input ] || { echo "FAIL: merge -o its input emptied it"; exit 1; }
# binary capture to a terminal is refused under every name of standard output
# (-o /dev/stdout once wrote pcapng to the terminal): script(1) gives a terminal
if command -v script >/dev/null; then
	for o in - /dev/stdout /dev/fd/1; do
		for t in "$R/rawcap-pcap --last 1m" "$R/../cli/kubectl-rawcap merge a=$TMP/in.pcapng"; do
			out=$(timeout 10 script -qec "$t -o $o; echo rc=\$?" /dev/null </dev/null | tr -d '\r')
			grep -qF "refusing to write binary capture to a terminal" <<<"$out" &&
				grep -q "^rc=2$" <<<"$out" || { echo "FAIL: ${t##*/} -o $o on a terminal: $out"; exit 1; }
		done
		echo "ok: rawcap-pcap, kubectl rawcap merge -o $o on a terminal: refused"
	done
fi
# every reader says the same of a ring that is not there, naming it and capd's flag
# (rawcap-snapshot create said "copy the window: No such file or directory")
for t in "rawcap-pcap --last 1m -o -" "rawcap-tap --last 1m" "rawcap-stat" \
	"rawcap-forward --listen 127.0.0.1:0 --plain" "rawcap-snapshot bounds" \
	"rawcap-snapshot create --last 1m --snapshot-dir $TMP"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(timeout 10 "$R"/$t --ring none 2>&1 >/dev/null) || rc=$?
	[ "$rc" = 1 ] && [ "$(wc -l <<<"$err")" = 1 ] && grep -qF "/rawcap-none: No such file or directory (is capd running with --ring none?)" <<<"$err" ||
		{ echo "FAIL: $t --ring none: exit $rc: $err"; exit 1; }
	echo "ok: $t --ring none -> $err"
done
# kinds capd never writes are refused by name, not accepted to match nothing
check "--kind interface: capd writes no interface, stats or node metadata" rawcap-tap --kind interface
check "--kind pod,node: capd writes no" rawcap-tap --kind pod,node
check "--kind bogus: unknown kind (kinds: pod, service" rawcap-tap --kind bogus
# sizes give the accepted range; times list every accepted form
check "bad --snaplen: accepted 16..262144 bytes: 10" rawcap-pcap --snaplen 10
check "bad --snaplen \"10\": 64..262144" rawcap-forward --snaplen 10 --listen 127.0.0.1:1 --plain
# Without --to a window ends now: a --from after now would run backwards (it exited 0, empty).
check "--from is not before now, where the window ends without --to" rawcap-pcap --from +1h
check "--from is not before now, where the window ends without --to" rawcap-pcap --from 23:59:60
# A port past 65535 is refused, not wrapped (getaddrinfo made 99999 port 34463).
check 'bad address "127.0.0.1:99999": HOST:PORT, PORT 0..65535' rawcap-forward --listen 127.0.0.1:99999 --plain
check 'bad address "[::1]:65536"' rawcap-forward --connect '[::1]:65536' --plain
check "a time of today in UTC (10:02, 10:02:30)" rawcap-pcap --from yesterday
check "UTC unless a zone follows (2026-11-26 10:02:00" rawcap-tap --to "2026-11-30 07:45:00 CET"
check "bad --last '0s': a duration longer than 0 is needed" rawcap-pcap --last 0s
check "bad --from '0': a time after 1970-01-01T00:00:00Z is needed" rawcap-pcap --from 0
check "--last excludes --from and --to" rawcap-pcap --last 5m --from -1h
# a ring name that cannot exist is a usage error in every reader, said while parsing
for t in rawcap-pcap rawcap-tap rawcap-stat "rawcap-snapshot bounds"; do
	# shellcheck disable=SC2086
	check "bad --ring '../etc': ring names are 1-64 of A-Z a-z 0-9 . _ -" $t --ring ../etc
done
# the server says it once too (one line, not a second 'bad option')
err=$("$RAWCAP_BUILD/server/rawcap-server" --ring ../etc --snapshot-dir "$TMP" 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && [ "$(wc -l <<<"$err")" = 1 ] && grep -qF "bad --ring '../etc'" <<<"$err" ||
	{ echo "FAIL: rawcap-server --ring ../etc: exit $rc: $err"; exit 1; }
# an old short flag that now means something else elsewhere says what to use
check "-l (old spelling): was --snaplen" rawcap-pcap -l 100
check "-F (old spelling): was --filter; now -e" rawcap-forward -F tcp --listen 127.0.0.1:1 --plain
check "-i (old spelling): was --interval" rawcap-stat -i 2
# --request-timeout takes kubectl's own forms (30s, 2m) as well as seconds (it refused 30s, exit 2).
for v in 30s 2m 45; do
	rc=0
	err=$("$RAWCAP_BUILD/cli/kubectl-rawcap" bounds --request-timeout $v --endpoints n1=http://127.0.0.1:1 \
		2>&1 >/dev/null) || rc=$?
	[ "$rc" = 1 ] || { echo "FAIL: kubectl-rawcap --request-timeout $v: exit $rc, want 1 (node unreachable): $err"; exit 1; }
done
check "bad --request-timeout (seconds or a duration: 30, 30s, 2m; 1s..24h): 0.5" \
	../cli/kubectl-rawcap bounds --request-timeout 0.5
# --wait too (snapshot create, upload, download: one parser)
for w in "create x --last 5m" "upload x --to s3://b/p" "download x --from s3://b/p"; do
	rc=0
	# shellcheck disable=SC2086
	err=$("$RAWCAP_BUILD/cli/kubectl-rawcap" snapshot $w --wait 10m --endpoints n1=http://127.0.0.1:1 \
		2>&1 >/dev/null) || rc=$?
	[ "$rc" = 1 ] || { echo "FAIL: kubectl-rawcap snapshot $w --wait 10m: exit $rc, want 1: $err"; exit 1; }
	# shellcheck disable=SC2086
	check "bad --wait (seconds or a duration: 1800, 30m, 2h; 1s..168h): 0" ../cli/kubectl-rawcap snapshot $w --wait 0
done
# an option before the command is said to belong after it (it was an "unknown command")
check "kubectl-rawcap: option '--endpoints' before the command: options follow it" \
	../cli/kubectl-rawcap --endpoints n1=http://127.0.0.1:1 bounds
check 'kubectl-rawcap: unknown command "frob" (see --help)' ../cli/kubectl-rawcap frob
# kubectl rawcap version takes nothing more (it printed the version for any words once).
check "kubectl-rawcap version: unexpected argument '--bogus'" ../cli/kubectl-rawcap version --bogus
"$R/rawcap-snapshot" --help | grep -q -- "-N .*now --namespace, as in every tool; was --node" ||
	{ echo "FAIL: rawcap-snapshot --help does not say what -N became"; exit 1; }
# A reader refused the ring for permission names the group it needs (capd --group).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -p "$RAWCAP_SHM_DIR" && chmod 755 "$TMP" "$RAWCAP_SHM_DIR"
	install -m 0640 -g 64720 /dev/null "$RAWCAP_SHM_DIR/rawcap-grp"
	rc=0
	err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$R/rawcap-stat" --ring grp 2>&1) || rc=$?
	[ "$rc" = 1 ] && grep -q "readers need group .*(gid 64720), the group capd --group gave the ring" <<<"$err" ||
		{ echo "FAIL: a reader without the ring's group was told: $err (exit $rc)"; exit 1; }
	echo "ok: $err"
fi
echo "PASS"
