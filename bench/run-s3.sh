#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-s3.sh - rawcap-snapshot upload and download to and from the S3 test
# server (tests/s3/server.js, on the loopback of a private network
# namespace) beside curl moving the same bytes to the same server in the
# same run: `curl -T` of the snapshot's data as one object (one PUT, SigV4
# by curl's --aws-sigv4 with the payload's SHA-256, which the server checks
# as it does rawcap's), and of the same data files as as many objects (one
# curl, one connection; s3rver spends tens of milliseconds on each object's
# metadata, so this is the like-for-like baseline); `curl -o` of the one
# object, and of the files followed by sync (a download is only done when
# it is on disk). rawcap's times include
# everything it does: the manifest, SHA-256 of every byte sent, the HEAD
# checks of a resumable upload, and on download the full verification
# before the snapshot is sealed. Max RSS (GNU time) shows memory does not
# grow with the snapshot.
#
# Usage: bench/run-s3.sh [SIZE...]   (default: 256Mi 1Gi; sizes as rawcap-snapshot --quota)
#   env RAWCAP_BUILD (default ./build), BENCH_DIR (default /var/tmp), RUNS (default 3)
# Best of RUNS for each. Also a multipart upload (--part-size 8Mi: each 16 MiB
# segment file in two parts) of the largest size.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${RAWCAP_BUILD:-$PWD/build}
RUNS=${RUNS:-3}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(256Mi 1Gi)
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/rc-s3bench.XXXXXX")
NS=rc-s3bench-$$
RING=s3bench$$
SRV=
cleanup() {
	[ -n "$SRV" ] && kill -9 "$SRV" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
	rm -f /dev/shm/rawcap-$RING*
	chmod -R u+w "$W" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
for t in node curl bc /usr/bin/time; do command -v $t >/dev/null || { echo "run-s3: needs $t" >&2; exit 1; }; done
bash "$SRC/tests/s3/setup.sh" >/dev/null

export AWS_ACCESS_KEY_ID=AKIABENCH0000000000 AWS_SECRET_ACCESS_KEY=bench-secret-$$
export S3_TEST_ACCESS_KEY=$AWS_ACCESS_KEY_ID S3_TEST_SECRET_KEY=$AWS_SECRET_ACCESS_KEY
EP=http://127.0.0.1:9000
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "$W/store"
ip netns exec "$NS" node "$SRC/tests/s3/server.js" --dir "$W/store" --port 9000 --bucket bkt \
	>"$W/server.out" 2>&1 &
SRV=$!
for _ in $(seq 300); do grep -q ready "$W/server.out" && break; sleep 0.1; done
grep -q ready "$W/server.out" || { cat "$W/server.out"; exit 1; }

LOAD_START=$(uptime | sed 's/.*load average: //')
IN_NS=(ip netns exec "$NS")
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # now
# timed LABEL CMD...: seconds in $W/LABEL.t, max RSS (KiB) in $W/LABEL.rss
timed() {
	local label=$1 s e
	shift
	s=$(now)
	/usr/bin/time -f %M -o "$W/$label.rss" "$@" >"$W/$label.out" 2>"$W/$label.err" ||
		{ cat "$W/$label.err" >&2; exit 1; }
	e=$(now)
	echo "$e - $s" | bc -l >"$W/$label.t"
}
# best LABEL: keeps the fastest time (and its RSS) over the runs as $W/LABEL.best
keep_best() {
	if [ ! -f "$W/$1.best" ] || [ "$(echo "$(cat "$W/$1.t") < $(cut -d' ' -f1 "$W/$1.best")" | bc -l)" = 1 ]; then
		echo "$(cat "$W/$1.t") $(cat "$W/$1.rss")" >"$W/$1.best"
	fi
}
wipe_remote() { rm -rf "$W/store/bkt"/*; }

snapshot_of() { # SIZE -> $W/snaps/s (a snapshot of that many bytes of filler packets)
	local bytes
	bytes=$(numfmt --from=iec-i "$1" 2>/dev/null || numfmt --from=iec "$1")
	python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b23c4d,2,4,0,0,65535,1))' >"$W/empty.pcap"
	rm -rf "$W/fifo" "$W/snaps"
	t_from=$(date +%s.%N)
	echo go | "$B/tests/pktwriter" --size $((64 << 20)) --storage "$W/fifo" \
		--storage-size $((bytes + bytes / 4 + (64 << 20))) --fill "$bytes" $RING "$W/empty.pcap" >/dev/null
	t_to=$(date +%s.%N)
	"$B/readers/rawcap-snapshot" create --ring $RING --storage "$W/fifo" --dest "$W/snaps" --name s \
		--from "$t_from" --to "$t_to" >/dev/null
	rm -rf "$W/fifo" /dev/shm/rawcap-$RING*
	cat "$W/snaps/s/data"/* >"$W/all.bin"
}

sig() { printf '%s\n' --aws-sigv4 aws:amz:us-east-1:s3 -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"; }
mapfile -t SIG < <(sig)
rows=()
for size in "${SIZES[@]}"; do
	snapshot_of "$size"
	bytes=$(stat -c %s "$W/all.bin")
	# curl signs each payload's SHA-256 too, so the server checks all alike.
	sum=$(sha256sum "$W/all.bin" | cut -d' ' -f1)
	empty=$(sha256sum </dev/null | cut -d' ' -f1)
	files=$(ls "$W/snaps/s/data" | wc -l)
	# The same files as objects, in one curl (one connection): PUTs, then GETs.
	put_files=() get_files=()
	for f in "$W/snaps/s/data"/*; do
		n=$(basename "$f")
		[ ${#put_files[@]} = 0 ] || put_files+=(--next)
		put_files+=(-sS --fail "${SIG[@]}" -H "x-amz-content-sha256: $(sha256sum "$f" | cut -d' ' -f1)"
			-T "$f" "$EP/bkt/files/$n")
		get_files+=(-o "$W/got/$n" "$EP/bkt/files/$n")
	done
	rm -f "$W"/*.best
	for i in $(seq "$RUNS"); do
		wipe_remote
		mkdir -p "$W/got"
		timed curl-put "${IN_NS[@]}" curl -sS --fail "${SIG[@]}" -H "x-amz-content-sha256: $sum" \
			-T "$W/all.bin" "$EP/bkt/all.bin"
		keep_best curl-put
		timed curl-puts "${IN_NS[@]}" curl "${put_files[@]}"
		keep_best curl-puts
		timed curl-get "${IN_NS[@]}" curl -sS --fail "${SIG[@]}" -H "x-amz-content-sha256: $empty" \
			-o "$W/got/all.bin" "$EP/bkt/all.bin"
		keep_best curl-get
		rm -f "$W/got/all.bin"
		timed curl-gets "${IN_NS[@]}" sh -c 'curl -sS --fail "$@" && sync -f "$0"' "$W/got" \
			"${SIG[@]}" -H "x-amz-content-sha256: $empty" "${get_files[@]}"
		keep_best curl-gets
		rm -rf "$W/got"
		timed up "${IN_NS[@]}" "$B/readers/rawcap-snapshot" upload s --dest "$W/snaps" --to s3://bkt/r$i --endpoint $EP -q
		keep_best up
		rm -rf "$W/dl"
		timed down "${IN_NS[@]}" "$B/readers/rawcap-snapshot" download s --dest "$W/dl" --from s3://bkt/r$i --endpoint $EP -q
		keep_best down
		chmod -R u+w "$W/dl"
		rm -rf "$W/dl"
		if [ "$size" = "${SIZES[-1]}" ]; then
			timed upmp "${IN_NS[@]}" "$B/readers/rawcap-snapshot" upload s --dest "$W/snaps" --to s3://bkt/m$i \
				--endpoint $EP --part-size 8Mi -q
			keep_best upmp
		fi
	done
	mib=$(echo "$bytes / 1048576" | bc -l)
	row() { # LABEL WHAT BASELINE-1 BASELINE-2
		local t rss
		read -r t rss <"$W/$1.best"
		rows+=("$(printf '| %7s | %-50s | %7.2f | %7.1f | %5.2fx | %5.2fx | %6.1f |' "$size" "$2" "$t" \
			"$(echo "$mib / $t" | bc -l)" "$(echo "$(cut -d' ' -f1 "$W/$3.best") / $t" | bc -l)" \
			"$(echo "$(cut -d' ' -f1 "$W/$4.best") / $t" | bc -l)" "$(echo "$rss / 1024" | bc -l)")")
	}
	row curl-put "curl -T, one object of the same bytes" curl-put curl-puts
	row curl-puts "curl -T, the same $files files as objects" curl-put curl-puts
	row up "rawcap-snapshot upload (4 at once)" curl-put curl-puts
	[ ! -f "$W/upmp.best" ] || row upmp "rawcap-snapshot upload --part-size 8Mi (multipart)" curl-put curl-puts
	row curl-get "curl -o, one object (page cache only)" curl-get curl-gets
	row curl-gets "curl -o, the same $files files, then sync" curl-get curl-gets
	row down "rawcap-snapshot download (verified, fsynced)" curl-get curl-gets
done

printf '\nS3 test server (s3rver behind tests/s3/server.js) on a namespace loopback; best of %d\n' "$RUNS"
printf 'load: %s at the start, %s at the end\n\n' "$LOAD_START" "$(uptime | sed 's/.*load average: //')"
printf '| %7s | %-50s | %7s | %7s | %6s | %6s | %6s |\n' size transfer seconds MiB/s \
	"rate vs curl, 1 object" "rate vs curl, same files" "max RSS MiB"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' --------- ---------------------------------------------------- --------- --------- -------: -------: -------:
printf '%s\n' "${rows[@]}"
