# SPDX-License-Identifier: MIT
# lib.sh - helpers shared by the disk FIFO script tests (sourced, not run).
: "${RAWCAP_BUILD:?set RAWCAP_BUILD to the build tree}"
DW="$RAWCAP_BUILD/tests/diskwriter"
DR="$RAWCAP_BUILD/tests/diskread"
[ -x "$DW" ] && [ -x "$DR" ] || { echo "SKIP: build diskwriter and diskread first"; exit 77; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# kv "key=value ..." key: print the value of key from a summary line.
kv() {
	tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1
}

# seg_file_size NBLOCKS: bytes of a segment file (4 KiB header + 512 KiB blocks).
seg_file_size() {
	echo $((4096 + $1 * 524288))
}
