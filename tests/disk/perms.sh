#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# perms.sh - the storage is readable by its group only: a reader in the
# storage group (and nothing else) reads every record; a reader outside it
# cannot open the segments. Readers never need write permission.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }

T=$(mktemp -d /tmp/rc-perms-XXXXXX)
chmod 755 "$T"
RING="rc-perms-$$"
GID=$((40000 + $$ % 20000))
cleanup() { rm -rf "$T" "/dev/shm/rawcap-$RING" "/dev/shm/rawcap-$RING".new-*; }
trap cleanup EXIT

out=$("$DW" --ring "$RING" --storage "$T/fifo" --storage-size 32Mi --gid "$GID" \
	--records 20000 2>/dev/null)
N=$(kv "$out" next_seq)
[ "$(stat -c '%a %g' "$T/fifo")" = "750 $GID" ] || fail "dir is $(stat -c '%a %g' "$T/fifo")"
for f in "$T"/fifo/seg-*.rcs; do
	[ "$(stat -c '%a %g' "$f")" = "640 $GID" ] || fail "$f is $(stat -c '%a %g' "$f")"
done

rd=$(setpriv --reuid=65534 --regid=65534 --groups="$GID" "$DR" --storage "$T/fifo" --no-ring)
echo "in group: $rd"
[ "$(kv "$rd" records)" -eq "$N" ] || fail "group reader got $(kv "$rd" records) of $N"

if setpriv --reuid=65534 --regid=65534 --clear-groups "$DR" --storage "$T/fifo" --no-ring \
	>"$T/out" 2>"$T/err"; then
	fail "a reader outside the group read the storage: $(cat "$T/out")"
fi
grep -q "Permission denied" "$T/err" || fail "unexpected failure: $(cat "$T/err")"
echo "PASS: group readers read all $N records, others are refused"
