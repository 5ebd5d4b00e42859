// SPDX-License-Identifier: MIT
/*
 * snapshot_hash.c - SHA-256 of a snapshot's segments while the window is
 * still being copied. The segment writer reports each segment it has left
 * once its last write (and fdatasync) completed and its file is closed: its
 * bytes are final, so a thread hashes it while the next one is filled. The
 * seal then hashes only what is left (the last segment) and takes the rest
 * from here. Any segment missing or failed here is simply hashed at the seal.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/seg_format.h"
#include "snapshot_int.h"

struct snap_hashed {
	char path[40]; /* "data/seg-....rcs" */
	char sha256[65];
	uint64_t size;
	int state; /* 0 queued, 1 hashed, negative errno */
};

struct snap_hasher {
	int tmpfd; /* the snapshot's directory while it is built */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct snap_hashed *files;
	size_t nfiles, next; /* queued, and the next to hash */
	bool stop;
};

static void *snap_hasher_main(void *arg)
{
	struct snap_hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		struct snap_hashed *f;
		char hex[65];
		uint64_t size = 0;
		int err;

		while (h->next == h->nfiles && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->next == h->nfiles)
			break;
		f = &h->files[h->next++];
		pthread_mutex_unlock(&h->mu);
		err = snap_sha256_file(h->tmpfd, f->path, 0, hex, &size, NULL, 0);
		pthread_mutex_lock(&h->mu);
		if (!err) {
			memcpy(f->sha256, hex, sizeof(hex));
			f->size = size;
		}
		f->state = err ? err : 1;
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int snap_hasher_start(int tmpfd, struct snap_hasher **out)
{
	struct snap_hasher *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h || !(h->files = calloc(SNAP_MAX_FILES, sizeof(*h->files)))) {
		free(h);
		return -ENOMEM;
	}
	h->tmpfd = tmpfd;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->thread, NULL, snap_hasher_main, h)) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		free(h->files);
		free(h);
		return -EAGAIN;
	}
	*out = h;
	return 0;
}

void snap_hasher_retired(void *arg, uint64_t seg_no)
{
	struct snap_hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	if (!h->stop && h->nfiles < SNAP_MAX_FILES) {
		struct snap_hashed *f = &h->files[h->nfiles++];

		snprintf(f->path, sizeof(f->path), "data/" SEG_NAME_FMT,
			 (unsigned long long)seg_no);
		pthread_cond_signal(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
}

void snap_hasher_stop(struct snap_hasher *h)
{
	if (!h || h->stop)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
}

bool snap_hasher_take(const struct snap_hasher *h, struct snap_file *f)
{
	for (size_t i = 0; h && i < h->nfiles; i++) {
		const struct snap_hashed *d = &h->files[i];

		if (d->state == 1 && !strcmp(d->path, f->path)) {
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
	snap_hasher_stop(h);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h->files);
	free(h);
}
