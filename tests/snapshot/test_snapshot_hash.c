// SPDX-License-Identifier: MIT
/*
 * test_snapshot_hash.c - the snapshot's SHA-256 of the blocks the segment
 * writer seals (lib/snapshot_hash.c), against OpenSSL's one-shot digest of
 * the same file bytes: with the hashing thread, a buffer refilled as soon
 * as the hasher says it is done (as the writer does) never changes what was
 * hashed; holes between blocks count as zeros; inline (no thread) the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "snapshot_int.h"

#define NBUF   4 /* fewer buffers than blocks: each is refilled several times */
#define BLK    (64u << 10)
#define HDR    4096u
#define NBLK   24u
#define HOLE   4096u /* each block is followed by this many bytes never written */
#define SEGLEN (HDR + NBLK * (BLK + HOLE) - HOLE)

static uint64_t blk_off(unsigned b)
{
	return HDR + (uint64_t)b * (BLK + HOLE);
}

/* What the file of segment seg_no holds: header, blocks, zeros between. */
static void expected_hex(uint64_t seg_no, char hex[65])
{
	static unsigned char file[SEGLEN];
	unsigned char md[32];
	unsigned int n = 0;

	memset(file, 0, sizeof(file));
	memset(file, (int)seg_no, HDR);
	for (unsigned b = 0; b < NBLK; b++)
		memset(file + blk_off(b), (int)(seg_no * 31 + b + 1), BLK);
	assert_true(EVP_Digest(file, sizeof(file), md, &n, EVP_sha256(), NULL));
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Feed segments 1..nseg as the writer does: wait for a buffer, refill it, report it. */
static void feed(struct snap_hasher *h, uint64_t nseg)
{
	static unsigned char bufs[NBUF][BLK], hdr[HDR];

	for (uint64_t seg = 1; seg <= nseg; seg++) {
		snap_hasher_wait(h, hdr);
		memset(hdr, (int)seg, sizeof(hdr));
		snap_hasher_sealed(h, seg, 0, hdr, sizeof(hdr));
		for (unsigned b = 0; b < NBLK; b++) {
			unsigned char *p = bufs[b % NBUF];

			snap_hasher_wait(h, p);
			memset(p, (int)(seg * 31 + b + 1), BLK);
			snap_hasher_sealed(h, seg, blk_off(b), p, BLK);
		}
	}
	snap_hasher_wait(h, NULL);
}

static void check_digests(bool inline_hash)
{
	struct snap_hasher *h;
	struct snap_file f;
	char want[65];

	if (inline_hash)
		setenv("RAWCAP_SNAPSHOT_HASH_INLINE", "1", 1);
	assert_int_equal(snap_hasher_start(&h), 0);
	unsetenv("RAWCAP_SNAPSHOT_HASH_INLINE");
	feed(h, 3);
	for (uint64_t seg = 1; seg <= 3; seg++) {
		expected_hex(seg, want);
		memset(&f, 0, sizeof(f));
		assert_true(snap_hasher_take(h, seg, SEGLEN, &f));
		assert_string_equal(f.sha256, want);
		assert_int_equal(f.size, SEGLEN);
	}
	/* A file longer than what was hashed (say, a block the writer never reported). */
	assert_false(snap_hasher_take(h, 2, SEGLEN + BLK, &f));
	assert_false(snap_hasher_take(h, 4, SEGLEN, &f)); /* never seen */
	snap_hasher_free(h);
}

static void should_hash_the_written_bytes_on_the_hashing_thread(void **state)
{
	(void)state;
	check_digests(false);
}

static void should_hash_the_same_bytes_inline(void **state)
{
	(void)state;
	check_digests(true);
}

static void should_refuse_blocks_out_of_order(void **state)
{
	static unsigned char blk[BLK];
	struct snap_hasher *h;
	struct snap_file f;

	(void)state;
	assert_int_equal(snap_hasher_start(&h), 0);
	snap_hasher_sealed(h, 1, 0, blk, HDR);
	snap_hasher_sealed(h, 1, blk_off(1), blk, BLK);
	snap_hasher_sealed(h, 1, blk_off(0), blk, BLK);		    /* rewritten before the end */
	assert_false(snap_hasher_take(h, 1, blk_off(1) + BLK, &f)); /* the seal hashes the file */
	snap_hasher_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_hash_the_written_bytes_on_the_hashing_thread),
		cmocka_unit_test(should_hash_the_same_bytes_inline),
		cmocka_unit_test(should_refuse_blocks_out_of_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
