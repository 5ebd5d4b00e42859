// SPDX-License-Identifier: MIT
/* ring_check.c - object, header and writer checks shared by readers and capd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "atomics.h"
#include "clock.h"
#include "ring_check.h"

int ring_hdr_check(const struct ring_hdr *h, uint64_t file_size)
{
	uint64_t index_end, iface_end, max_rec;

	if (file_size < RING_HDR_SIZE || h->magic != RING_MAGIC)
		return -EBADMSG;
	if (h->version != RING_LAYOUT_VERSION || h->hdr_size != RING_HDR_SIZE)
		return -EPROTO;
	if (!ring_layout_valid_data_size(h->data_size) || (h->data_off & 4095) ||
	    h->total_size != file_size || h->data_off > file_size ||
	    file_size - h->data_off != h->data_size)
		return -EBADMSG;
	if (h->index_shift != ring_layout_index_shift(h->data_size) ||
	    h->index_entries != (h->data_size >> h->index_shift) || h->index_off != RING_HDR_SIZE)
		return -EBADMSG;
	index_end = h->index_off + (uint64_t)h->index_entries * sizeof(struct ring_index_ent);
	iface_end = h->iface_off + RING_IFACE_SLOTS * sizeof(struct ring_iface_slot);
	if (h->iface_off < index_end || h->iface_off > h->data_off || iface_end > h->data_off)
		return -EBADMSG;
	max_rec = h->data_size / 4 < RAWCAP_REC_MAX ? h->data_size / 4 : RAWCAP_REC_MAX;
	if (h->max_record != max_rec)
		return -EBADMSG;
	return 0;
}

int ring_obj_check(int fd, const uid_t *owners, size_t nowners, struct stat *st, char *why,
		   size_t len)
{
	static const char *const types[] = {
		[S_IFIFO >> 12] = "a FIFO",	 [S_IFCHR >> 12] = "a device",
		[S_IFDIR >> 12] = "a directory", [S_IFBLK >> 12] = "a device",
		[S_IFLNK >> 12] = "a symlink",	 [S_IFSOCK >> 12] = "a socket"};
	size_t i;

	if (fstat(fd, st)) {
		snprintf(why, len, "cannot stat it: %s", strerror(errno));
		return -EPERM;
	}
	if (!S_ISREG(st->st_mode)) {
		const char *t = types[(st->st_mode & S_IFMT) >> 12];

		if (t)
			snprintf(why, len, "it is %s, not a regular file", t);
		else
			snprintf(why, len, "it is not a regular file");
		return -EPERM;
	}
	for (i = 0; i < nowners && st->st_uid != owners[i]; i++)
		;
	if (i == nowners) {
		if (nowners > 1)
			snprintf(why, len, "it is owned by uid %u, not by uid %u or %u",
				 (unsigned)st->st_uid, (unsigned)owners[0], (unsigned)owners[1]);
		else
			snprintf(why, len, "it is owned by uid %u, not by uid %u",
				 (unsigned)st->st_uid, (unsigned)owners[0]);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len, "it is writable by %s (mode %04o)",
			 st->st_mode & S_IWOTH ? "everyone" : "its group",
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	if (st->st_size < RING_HDR_SIZE ||
	    (uint64_t)st->st_size > ring_layout_total(RING_DATA_MAX)) {
		snprintf(why, len, "its size (%lld bytes) is no ring's", (long long)st->st_size);
		return -EBADMSG;
	}
	return 0;
}

static struct flock ring_lock_range(void)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};

	return fl;
}

int ring_writer_lock(int fd)
{
	struct flock fl = ring_lock_range();

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
}

/* 1 if some process holds the writer lock, 0 if none does, -1 if we cannot tell. */
static int ring_writer_locked(int fd)
{
	struct flock fl = ring_lock_range();

	if (fd < 0 || fcntl(fd, F_OFD_GETLK, &fl))
		return -1;
	return fl.l_type != F_UNLCK;
}

enum ring_liveness ring_liveness(const struct ring_hdr *h, int fd, uint64_t *silent_ns)
{
	uint64_t rt = load_relaxed(&h->heartbeat_ns), mono = load_relaxed(&h->heartbeat_mono_ns);
	uint64_t now_rt = clock_ns(CLOCK_REALTIME), now_mono = clock_ns(CLOCK_MONOTONIC);
	uint64_t age = now_rt > rt ? now_rt - rt : 0;
	uint32_t state = load_acquire(&h->state);
	int locked;

	/* A monotonic heartbeat ahead of our clock is another time namespace: ignore it. */
	if (mono && now_mono >= mono && now_mono - mono < age)
		age = now_mono - mono;
	*silent_ns = age;
	if (state == RING_STATE_RETIRED)
		return RING_WRITER_RETIRED;
	if (state == RING_STATE_STOPPED)
		return RING_WRITER_STOPPED;
	locked = ring_writer_locked(fd);
	if (locked == 0)
		return RING_WRITER_GONE;
	if (age > RING_HEARTBEAT_TIMEOUT_NS)
		return locked > 0 ? RING_WRITER_HUNG : RING_WRITER_GONE;
	return RING_WRITER_RUNNING;
}
