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
 * The hashing runs on a thread of its own, over the writer's block buffer
 * itself while its write is in flight (no copy): the writer waits
 * (seg_writer_opts.sealed_wait) before it refills a buffer still queued
 * here. In the copying thread, SHA-256 was over half of that thread's time;
 * a thread re-reading the finished files cost a second kernel copy of the
 * window, and one fed a copy of each block cost the copy (see
 * docs/ARCHITECTURE.md). Without the thread (pthread_create failed) the
 * blocks are hashed in the copying thread as they come.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/seg_format.h"
#include "sha256.h"
#include "snapshot_int.h"

struct snap_hashed {
	uint64_t seg_no;
	uint64_t size;
	char sha256[65];
};

/* A header or block the writer sealed, queued for the hashing thread (buf is the writer's). */
struct snap_job {
	uint64_t seg_no, off;
	const void *buf;
	size_t len;
};

#define SNAP_HASH_QUEUE 64 /* more than the writer's buffers: it never waits on a full queue */

struct snap_hasher {
	pthread_t thread;
	bool threaded; /* else sealed hashes in the caller's thread */
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t more, done_cv; /* jobs queued; jobs finished */
	struct snap_job q[SNAP_HASH_QUEUE];
	uint64_t head, tail; /* q[head % N] is being hashed or next; tail: next free slot */
	/* The digest is fetched once: no implicit fetch per file. */
	struct rawcap_sha256 *sha;
	bool open;	 /* ctx holds a segment not yet finished */
	uint64_t seg_no; /* ... this one */
	uint64_t pos;	 /* bytes of it hashed */
	bool broken;	 /* bytes came out of order: hash nothing more here */
	struct snap_hashed *done;
	size_t ndone;
};

static void snap_hash_update(struct snap_hasher *h, const struct snap_job *j);

static void *snap_hash_thread(void *arg)
{
	struct snap_hasher *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct snap_job j;

		while (h->head == h->tail && !h->stop)
			pthread_cond_wait(&h->more, &h->lock);
		if (h->head == h->tail)
			break;
		j = h->q[h->head % SNAP_HASH_QUEUE];
		pthread_mutex_unlock(&h->lock);
		snap_hash_update(h, &j);
		pthread_mutex_lock(&h->lock);
		h->head++; /* only now may the writer refill j.buf */
		pthread_cond_broadcast(&h->done_cv);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int snap_hasher_start(struct snap_hasher **out)
{
	struct snap_hasher *h = calloc(1, sizeof(*h));
	int err;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->more, NULL);
	pthread_cond_init(&h->done_cv, NULL);
	err = rawcap_sha256_new(&h->sha);
	h->done = calloc(SNAP_MAX_FILES, sizeof(*h->done));
	if (err || !h->done) {
		snap_hasher_free(h);
		return err ? err : -ENOMEM;
	}
	h->threaded = !getenv("RAWCAP_SNAPSHOT_HASH_INLINE") &&
		      !pthread_create(&h->thread, NULL, snap_hash_thread, h);
	*out = h;
	return 0;
}

/* Is a job on buf (NULL: any job) queued or being hashed? Under h->lock. */
static bool snap_hash_pending(const struct snap_hasher *h, const void *buf)
{
	for (uint64_t i = h->head; i != h->tail; i++)
		if (!buf || h->q[i % SNAP_HASH_QUEUE].buf == buf)
			return true;
	return false;
}

void snap_hasher_wait(void *arg, const void *buf)
{
	struct snap_hasher *h = arg;

	if (!h || !h->threaded)
		return;
	pthread_mutex_lock(&h->lock);
	while (snap_hash_pending(h, buf))
		pthread_cond_wait(&h->done_cv, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

static void snap_hasher_finish(struct snap_hasher *h)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t md[32];
	struct snap_hashed *d;

	if (!h->open)
		return;
	h->open = false;
	if (!rawcap_sha256_final(h->sha, md) || h->ndone == SNAP_MAX_FILES)
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

static bool snap_hash_zeros(struct rawcap_sha256 *sha, uint64_t n)
{
	static const unsigned char zeros[64 << 10];

	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (!rawcap_sha256_update(sha, zeros, k))
			return false;
		n -= k;
	}
	return true;
}

static void snap_hash_update(struct snap_hasher *h, const struct snap_job *j)
{
	if (h->broken)
		return;
	if (!h->open || j->seg_no != h->seg_no) {
		snap_hasher_finish(h);
		if (j->off != 0 || !rawcap_sha256_init(h->sha)) {
			h->broken = true;
			return;
		}
		h->open = true;
		h->seg_no = j->seg_no;
		h->pos = 0;
	}
	/* A block rewritten in place, or one before the end: not a stream any more. */
	if (j->off < h->pos || !snap_hash_zeros(h->sha, j->off - h->pos) ||
	    !rawcap_sha256_update(h->sha, j->buf, j->len)) {
		h->open = false;
		h->broken = true;
		return;
	}
	h->pos = j->off + j->len;
}

void snap_hasher_sealed(void *arg, uint64_t seg_no, uint64_t off, const void *buf, size_t len)
{
	struct snap_hasher *h = arg;
	struct snap_job j = {.seg_no = seg_no, .off = off, .buf = buf, .len = len};

	if (!h->threaded) {
		snap_hash_update(h, &j);
		return;
	}
	pthread_mutex_lock(&h->lock);
	while (h->tail - h->head == SNAP_HASH_QUEUE)
		pthread_cond_wait(&h->done_cv, &h->lock);
	h->q[h->tail++ % SNAP_HASH_QUEUE] = j;
	pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->lock);
}

bool snap_hasher_take(struct snap_hasher *h, uint64_t seg_no, uint64_t size, struct snap_file *f)
{
	if (!h)
		return false;
	snap_hasher_wait(h, NULL);
	if (h->broken)
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
	if (h->threaded) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_cond_signal(&h->more);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	pthread_cond_destroy(&h->done_cv);
	pthread_cond_destroy(&h->more);
	pthread_mutex_destroy(&h->lock);
	rawcap_sha256_free(h->sha);
	free(h->done);
	free(h);
}
