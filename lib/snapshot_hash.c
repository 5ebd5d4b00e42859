// SPDX-License-Identifier: MIT
/*
 * snapshot_hash.c - SHA-256 of a snapshot's segments from the bytes the
 * segment writer submits, not read back from the files: the writer reports
 * each segment's header and each sealed block (seg_writer_opts.sealed) in
 * file order, the gaps between blocks read back as zeros and are hashed as
 * such, and a segment's digest is final once the next segment starts or the
 * seal takes it. The seal compares the length hashed with the file's size
 * and hashes the file itself if they differ (or if this saw nothing of it).
 *
 * This runs in the copying thread, from the block just filled (hot in the
 * cache): a separate thread re-reading every finished file cost a second
 * kernel copy of the window and, on a loaded machine, finished seconds
 * after the copy (see docs/ARCHITECTURE.md).
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/seg_format.h"
#include "snapshot_int.h"

struct snap_hashed {
	uint64_t seg_no;
	uint64_t size;
	char sha256[65];
};

struct snap_hasher {
	EVP_MD *md; /* fetched once: no implicit fetch per file */
	EVP_MD_CTX *ctx;
	bool open;	 /* ctx holds a segment not yet finished */
	uint64_t seg_no; /* ... this one */
	uint64_t pos;	 /* bytes of it hashed */
	bool broken;	 /* bytes came out of order: hash nothing more here */
	struct snap_hashed *done;
	size_t ndone;
};

int snap_hasher_start(struct snap_hasher **out)
{
	struct snap_hasher *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	h->done = calloc(SNAP_MAX_FILES, sizeof(*h->done));
	if (!h->md || !h->ctx || !h->done) {
		snap_hasher_free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

static void snap_hasher_finish(struct snap_hasher *h)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct snap_hashed *d;

	if (!h->open)
		return;
	h->open = false;
	if (!EVP_DigestFinal_ex(h->ctx, md, &mdlen) || mdlen != 32 || h->ndone == SNAP_MAX_FILES)
		return; /* the seal hashes the file */
	d = &h->done[h->ndone++];
	d->seg_no = h->seg_no;
	d->size = h->pos;
	for (unsigned i = 0; i < 32; i++) {
		d->sha256[2 * i] = digits[md[i] >> 4];
		d->sha256[2 * i + 1] = digits[md[i] & 15];
	}
	d->sha256[64] = '\0';
}

static bool snap_hash_zeros(EVP_MD_CTX *ctx, uint64_t n)
{
	static const unsigned char zeros[64 << 10];

	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (!EVP_DigestUpdate(ctx, zeros, k))
			return false;
		n -= k;
	}
	return true;
}

void snap_hasher_sealed(void *arg, uint64_t seg_no, uint64_t off, const void *buf, size_t len)
{
	struct snap_hasher *h = arg;

	if (h->broken)
		return;
	if (!h->open || seg_no != h->seg_no) {
		snap_hasher_finish(h);
		if (off != 0 || !EVP_DigestInit_ex(h->ctx, h->md, NULL)) {
			h->broken = true;
			return;
		}
		h->open = true;
		h->seg_no = seg_no;
		h->pos = 0;
	}
	/* A block rewritten in place, or one before the end: not a stream any more. */
	if (off < h->pos || !snap_hash_zeros(h->ctx, off - h->pos) ||
	    !EVP_DigestUpdate(h->ctx, buf, len)) {
		h->open = false;
		h->broken = true;
		return;
	}
	h->pos = off + len;
}

bool snap_hasher_take(struct snap_hasher *h, uint64_t seg_no, uint64_t size, struct snap_file *f)
{
	if (!h || h->broken)
		return false;
	if (h->open && h->seg_no == seg_no)
		snap_hasher_finish(h);
	for (size_t i = 0; i < h->ndone; i++) {
		const struct snap_hashed *d = &h->done[i];

		if (d->seg_no == seg_no && d->size == size) {
			memcpy(f->sha256, d->sha256, sizeof(f->sha256));
			f->size = d->size;
			return true;
		}
	}
	return false;
}

void snap_hasher_free(struct snap_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h->done);
	free(h);
}
