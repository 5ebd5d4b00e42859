#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# interrupt.sh - interrupted transfers never leave a half snapshot that looks
# complete, and an interrupted upload resumes:
#  1. the server is killed (SIGKILL) in the middle of an upload: the upload
#     fails cleanly (exit 1, says it is not listed); with the server back,
#     `list --remote` does not list it (it reports an interrupted upload),
#     download refuses it; a new upload keeps the files already complete,
#     aborts the multipart uploads the dead run left, and finishes; the
#     snapshot then comes back byte for byte;
#  2. an upload cancelled with SIGINT aborts its multipart uploads itself,
#     also when the server begins a part after the abort (it lists what is
#     left and aborts it again);
#  3. the server killed in the middle of a download leaves nothing behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

server_start
mkpcap "$T/big.pcap" $((40 << 20)) 3
make_snapshot big "$T/big.pcap"
nfiles=$(ls "$DEST/big/data" | wc -l)
SLOW=(--part-size 5Mi --parallel 2 --max-rate 8Mi --retries 2)

# 1. One request at a time at 4 MiB/s: kill the server when the first file is
# complete and the second is in parts (seconds of them left at that rate).
bg_run up1 upload big --dest "$DEST" --to "$URL" --part-size 5Mi --parallel 1 --max-rate 4Mi \
	--retries 2
wait_log '^POST .*?uploadId=.* 200' 1
wait_log '^PUT .*/data/seg-0*2\.rcs?partNumber=1&.* 200' 1
server_kill
bg_wait
expect up1 1 "not listed there"
server_start
run list1 list --remote "$URL"
expect list1 0 "big: not a snapshot"
! grep -q "^big" "$T/out/list1.out" || fail "a half snapshot is listed: $(cat "$T/out/list1.out")"
run down1 download big --dest "$T/fresh" --from "$URL"
expect down1 1 "an interrupted upload"
[ ! -e "$T/fresh/big" ] || fail "a half snapshot was downloaded"
left=$(pending_uploads)
[ "$left" -ge 1 ] || fail "the killed run left no multipart upload to abort (too fast?)"

: >"$T/server.log"
run up2 upload big --dest "$DEST" --to "$URL" --part-size 5Mi
expect up2 0 "resumed"
heads=$(grep -c '^HEAD .* 200' "$T/server.log")
inits=$(grep -c '^POST .*?uploads= 200' "$T/server.log")
[ "$heads" -ge 1 ] && [ "$inits" -lt "$nfiles" ] || fail "nothing resumed: $heads kept, $inits of $nfiles sent again"
grep -q '^DELETE .*?uploadId=.* 204' "$T/server.log" || fail "stale multipart uploads not aborted"
[ "$(pending_uploads)" = 0 ] || fail "$(pending_uploads) multipart uploads left"
run down2 download big --dest "$T/fresh" --from "$URL"
expect down2 0 "verified"
same_export "$DEST/big" "$T/fresh/big" "$T/big.pcap"

# 2. Cancel an upload (SIGINT) while parts are in flight.
cp -a "$DEST/big" "$DEST/big2"
chmod u+w "$DEST/big2"
sed -i 's/"name": "big"/"name": "big2"/' "$DEST/big2/manifest.json"
: >"$T/server.log"
bg_run up3 upload big2 --dest "$DEST" --to "$URL" "${SLOW[@]}"
wait_log '^PUT .*big2.*partNumber=.* 200' 1
kill -INT "$BG"
bg_wait
expect up3 1 "cancelled"
[ "$(pending_uploads)" = 0 ] || fail "a cancelled upload left $(pending_uploads) multipart uploads"

# 2b. The same with a server that begins a part only after the client gave up
# on it (held 600 ms): the part re-creates the aborted upload; the cancelled
# run lists what is left and aborts it again.
server_kill
server_start FAULT_PART_HOLD_MS=600
: >"$T/server.log"
bg_run up4 upload big2 --dest "$DEST" --to "$URL" "${SLOW[@]}"
wait_log '^HOLD PUT .*big2.*partNumber=' 1
kill -INT "$BG"
bg_wait
expect up4 1 "cancelled"
sleep 1 # the held part has begun by now
[ "$(pending_uploads)" = 0 ] ||
	fail "a cancelled upload left $(pending_uploads) multipart uploads after a part the server began late"
grep -q '^GET .*uploads=.* 200' "$T/server.log" || fail "the cancelled upload did not check what was left"
server_kill
server_start
run list3 list --remote "$URL"
! grep -q "^big2" "$T/out/list3.out" || fail "a cancelled upload is listed"

# 3. Kill the server while a download runs.
bg_run down3 download big --dest "$T/fresh2" --from "$URL" --max-rate 4Mi --retries 1
for _ in $(seq 600); do
	[ -n "$(find "$T/fresh2" -name 'seg-*' -size +1k 2>/dev/null)" ] && break
	sleep 0.1
done
server_kill
bg_wait
expect down3 1
[ ! -e "$T/fresh2/big" ] || fail "a half download got its name"
[ -z "$(find "$T/fresh2" -mindepth 1 2>/dev/null)" ] || fail "left behind: $(find "$T/fresh2" -mindepth 1)"
no_secrets
echo "PASS: killed and cancelled transfers left nothing listed; the upload resumed ($heads files kept)"
