// SPDX-License-Identifier: MIT
/* ring_prev.c - open, check, retire and remove the ring of a previous capd generation. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atomics.h"
#include "ring_check.h"
#include "ring_prev.h"

/* open() failed on the ring's name: -ENOENT, or why we do not trust what is there. */
static int ring_prev_open_error(struct ring_prev *p, int err)
{
	if (err == ENOENT)
		return -ENOENT;
	if (err == ELOOP)
		snprintf(p->why, sizeof(p->why), "it is a symlink");
	else if (err == EISDIR)
		snprintf(p->why, sizeof(p->why), "it is a directory");
	else
		snprintf(p->why, sizeof(p->why), "cannot open it: %s", strerror(err));
	return -EPERM;
}

int ring_prev_open(const char *name, struct ring_prev *p)
{
	uid_t me = geteuid();
	struct stat st;
	void *map;
	int fd, err;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	err = ring_name_path(name, p->path, sizeof(p->path));
	if (err)
		return err;
	/* O_NONBLOCK: a FIFO under this name must not block the open. */
	fd = open(p->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return ring_prev_open_error(p, errno);
	err = ring_obj_check(fd, &me, 1, &st, p->why, sizeof(p->why));
	if (err)
		goto fail;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		snprintf(p->why, sizeof(p->why), "cannot map it: %s", strerror(-err));
		goto fail;
	}
	err = ring_hdr_check(map, (uint64_t)st.st_size);
	if (err) {
		snprintf(p->why, sizeof(p->why), "%s",
			 err == -EPROTO ? "its layout version is not this capd's"
					: "its header is not a valid ring's");
		munmap(map, (size_t)st.st_size);
		goto fail;
	}
	/* Held from here on: by this capd's writer if it continues the ring, else until retired. */
	err = ring_writer_lock(fd);
	if (err) {
		snprintf(p->why, sizeof(p->why), "it is in use by a running capd (pid %u)",
			 ((const struct ring_hdr *)map)->writer_pid);
		munmap(map, (size_t)st.st_size);
		goto fail;
	}
	p->hdr = map;
	p->map_len = (size_t)st.st_size;
	p->fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

void ring_prev_retire(struct ring_prev *p)
{
	if (!p->hdr)
		return;
	store_release(&p->hdr->state, RING_STATE_RETIRED);
	atomic_fetch_add_explicit(&p->hdr->wake_seq, 1, memory_order_release);
	syscall(SYS_futex, &p->hdr->wake_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	ring_prev_close(p);
}

void ring_prev_close(struct ring_prev *p)
{
	if (p->hdr)
		munmap(p->hdr, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	p->hdr = NULL;
	p->fd = -1;
}

int ring_prev_remove(const struct ring_prev *p)
{
	if (unlink(p->path) && errno != ENOENT)
		return -errno;
	return 0;
}
