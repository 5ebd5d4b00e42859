#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# badflags.sh - usage errors exit 2 with one clear line and create nothing.
set -euo pipefail
TNAME=badflags
. "$(dirname "$0")/lib.sh"

check() { # check PATTERN ARGS...
	local want=$1 rc=0 err
	[ "$want" = -- ] && { shift; want=$1; }
	shift
	err=$(nsx "$CAPD" --ring "$RING" "$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = 2 ] || fail "capd $* exited $rc, want 2 ($err)"
	[ "$(wc -l <<<"$err")" = 1 ] || fail "capd $* printed more than one line: $err"
	grep -q -- "$want" <<<"$err" || fail "capd $*: unclear message: $err"
	[ -z "$(ls -A "$RAWCAP_SHM_DIR")" ] || fail "capd $* created $(ls "$RAWCAP_SHM_DIR")"
	echo "ok: capd $* -> $err"
}
check "unknown interface 'nosuch0'" --interfaces nosuch0
check "unknown interface 'nosuch0'" --interfaces lo,nosuch0
check "bad ring size 'lots'" --ring-size lots
check "bad ring size '1G': must be a power of two" --ring-size 1G
check "bad ring size '12Qi'" --ring-size 12Qi
check "unknown option '--frobnicate'" --frobnicate
check "unknown option '-Z'" -Z
check "needs a value" --snaplen
check -- "--snaplen: bad number '10'" --snaplen 10
check "unknown user" --user no-such-user-rc
check "bad --ring '../etc'" --ring ../etc
check "cannot apply filter .tcp or udp.: eBPF capture filter" --backend ebpf --filter "tcp or udp"
check "unknown backend" --backend dpdk
check "bad value" --duplicates some
# Out of range: refused with the accepted forms, never wrapped or truncated.
check "bad listen address '127.0.0.1:99999' (expected IPV4:PORT" --stats-listen 127.0.0.1:99999
check "bad listen address 'localhost:9469'" --stats-listen localhost:9469
check "bad ring size '99999999999999999999': out of range" --ring-size 99999999999999999999
check "bad ring size '16777216Ti': out of range" --ring-size 16777216Ti
check "bad sync interval '2h': at most 1h; durations are" --sync-interval 2h
check "bad sync interval '5124095h34m33s709ms551us616ns'" --sync-interval 5124095h34m33s709ms551us616ns
check "bad number '3601': expected a whole number from 1 to 3600" --stall-seconds 3601
check "bad number '18446744073709551616'" --threads 18446744073709551616
check "expected keep or ingress" --duplicates some
# Kernel packet-ring memory beyond half the machine: refused before any socket (else the OOM
# killer takes other processes; 64Ti here, which a kernel without the check also refuses).
check "is 70368744177664 bytes of kernel ring memory, more than half" --block-size 1Gi --block-count 65536
CAPD_RING_SIZE=3Mi check "CAPD_RING_SIZE: bad ring size '3Mi'" --interfaces lo
"$CAPD" --help | grep -q -- "--interfaces" || fail "--help lacks the options"
# Settings that do nothing as given are warned of, before any usage error.
warned() { # warned PATTERN ENV... -- ARGS...: capd (stopped by a bad --fanout) warns PATTERN
	local want=$1 env=() err
	shift
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	err=$(env "${env[@]}" ip netns exec "$NS" "$CAPD" --ring "$RING" "$@" --fanout bogus 2>&1) || true
	grep -qF -- "$want" <<<"$err" || fail "capd $*: no '$want' in: $err"
	echo "ok: capd $* -> $(head -1 <<<"$err")"
}
warned "warning: --storage-size without --storage does nothing" -- --storage-size 1Gi
warned "warning: no interface matches 'nomatch*' yet" -- --interfaces 'lo,nomatch*'
warned "this node is 'node-7' (\$NODE_NAME)" NODE_NAME=node-7 -- --kubernetes
warned "\$NODE_NAME is not set" NODE_NAME= -- --kubernetes
# --storage-size beyond --storage's whole file system is refused, one line, exit 2, nothing
# created; beyond its free space plus what the FIFO holds there, it is said (a disk full of
# others' files now must not stop capd): a 64 MiB tmpfs, mounted in a mount namespace of
# capd's own (gone with it), stands for the small disk.
onfs() { # onfs SETUP ARGS...: capd --ring RING ARGS on a fresh 64 MiB tmpfs at $TMP/fs after SETUP
	local setup=$1
	shift
	nsx unshare -m --propagation private sh -c \
		'mount -t tmpfs -o size=64m rcfs "$1/fs" && cd "$1/fs" && eval "$2" && shift 2 && exec "$@"' \
		sh "$TMP" "$setup" "$CAPD" --ring "$RING" "$@"
}
storage() { # storage WANT-RC PATTERN SETUP ARGS...
	local want=$1 pat=$2 setup=$3 rc=0 err
	shift 3
	err=$(onfs "$setup" "$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = "$want" ] || fail "capd $* ($setup) exited $rc, want $want ($err)"
	grep -q -- "$pat" <<<"$(head -1 <<<"$err")" || fail "capd $* ($setup): no '$pat' in: $err"
	[ -z "$(ls -A "$RAWCAP_SHM_DIR")" ] || fail "capd $* created $(ls "$RAWCAP_SHM_DIR")"
	echo "ok: capd $* ($setup) -> $(head -1 <<<"$err")"
}
mkdir "$TMP/fs"
big="bytes is more than $TMP/fs/fifo[a-z/]* can ever hold: its file system is 67108864 bytes"
storage 2 "$big" : --storage "$TMP/fs/fifo" --storage-size 10Ti
storage 2 "$big" : --storage "$TMP/fs/fifo/deeper" --storage-size 65Mi
storage 2 "$big" : --storage "$TMP/fs/fifo" # the default, 1Gi
# Room taken by others' files is said, not refused; what the FIFO holds there already counts
# as room: 40 MiB held by the FIFO, or by another file, 24 MiB free.
held='mkdir fifo && head -c 40M /dev/zero >fifo/seg-0000000000000000'
other='head -c 40M /dev/zero >other'
short="warning: --storage-size 33554432 bytes: $TMP/fs/fifo's file system has [0-9]* bytes free"
storage 2 "$short" "$other" --storage "$TMP/fs/fifo" --storage-size 32Mi --fanout bogus
storage 2 "bad fanout mode" "$held" --storage "$TMP/fs/fifo" --storage-size 60Mi --fanout bogus
storage 2 "bad fanout mode" : --storage "$TMP/fs/fifo" --storage-size 32Mi --fanout bogus
# Started so, capd fills the disk: /healthz says so (503: readiness, alerts) while /livez,
# the chart's liveness probe, stays 200: a restart cannot free the disk, and every
# restart would be a gap in the capture (liveness on /healthz restarted it each minute).
nsx ip link set lo up
# (onfs's command itself, not a function, in the background: $! is capd, each step execs)
ip netns exec "$NS" unshare -m --propagation private sh -c \
	'mount -t tmpfs -o size=64m rcfs "$1/fs" && cd "$1/fs" && eval "$2" && shift 2 && exec "$@"' \
	sh "$TMP" "$other" "$CAPD" --ring "$RING" --storage "$TMP/fs/fifo" --storage-size 32Mi \
	--ring-size 4Mi --interfaces lo --stats-listen 127.0.0.1:9479 2>"$TMP/full.log" &
full=$!
PIDS+=("$full")
wait_until 15 grep -q "capturing into ring" "$TMP/full.log"
for _ in $(seq 20); do
	nsx "$TRAFFIC" tcp 127.0.0.1 9998 8388608 >/dev/null 2>&1 || true
	health=$(nsx curl -s --max-time 5 http://127.0.0.1:9479/healthz || true)
	grep -q "^disk FIFO: No space left on device" <<<"$health" && break
done
grep -q "^disk FIFO: No space left on device" <<<"$health" || fail "full disk: /healthz said: $health"
code=$(nsx curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9479/healthz || true)
live=$(nsx curl -s -o "$TMP/livez" -w '%{http_code}' --max-time 5 http://127.0.0.1:9479/livez || true)
[ "$code" = 503 ] && [ "$live" = 200 ] && [ "$(cat "$TMP/livez")" = ok ] ||
	fail "full disk: /healthz $code, /livez $live '$(cat "$TMP/livez")'"
kill -TERM "$full"
wait "$full" || fail "capd on a full disk exited $? on SIGTERM: $(tail -3 "$TMP/full.log")"
echo "ok: a full disk FIFO: /healthz 503 ($health), /livez 200, capd ran on"
[ -z "$(ls -A "$TMP/fs")" ] || fail "the tmpfs stayed mounted, or capd wrote under it"
echo "PASS"
