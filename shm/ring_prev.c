// SPDX-License-Identifier: MIT
/* ring_prev.c - open and retire the ring of a previous capd generation. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atomics.h"
#include "ring_check.h"
#include "ring_name.h"
#include "ring_prev.h"

int ring_prev_open(const char *name, struct ring_prev *p)
{
	char path[RING_PATH_MAX];
	struct stat st;
	void *map;
	int fd, err;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	err = ring_name_path(name, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < RING_HDR_SIZE) {
		err = -EBADMSG;
		goto fail;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	err = ring_hdr_check(map, (uint64_t)st.st_size);
	if (err) {
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
