/* SPDX-License-Identifier: MIT */
/*
 * ring_prev.h - the ring a previous capd left behind.
 *
 * The shm object outlives capd. A new capd opens the old ring read-write to
 * learn where the sequence stands and to persist what the old generation had
 * not yet written to disk. If the old object has the size asked for, capd
 * continues it in place (ring_writer_adopt): its memory is reused, so a
 * restart needs no more room in /dev/shm than the ring itself, and readers
 * that map it simply read on. Otherwise capd retires it (readers see
 * RING_STATE_RETIRED and reopen by name), removes it and creates a new one.
 *
 * Nothing in the object is trusted before ring_obj_check() passed: it must
 * be a regular file owned by this process's euid, writable by no one else,
 * of a ring's size, with a valid header. Anything else under the ring's name
 * (another user's object, a FIFO, a symlink) is refused with the reason in
 * why and never read; capd then removes it by name.
 */
#ifndef RAWCAP_RING_PREV_H
#define RAWCAP_RING_PREV_H

#include <stddef.h>
#include <stdint.h>

#include "ring_layout.h"
#include "ring_name.h"

struct ring_prev {
	struct ring_hdr *hdr;
	size_t map_len;
	int fd;
	char path[RING_PATH_MAX];
	char why[160]; /* why it was refused (-EPERM, -EBADMSG, -EPROTO) */
};

/*
 * 0, holding the writer lock (ring_writer_lock); -ENOENT if there is no
 * previous ring; -EBUSY if a live writer holds it; -EPERM if the object
 * under the ring's name is not one capd may trust (why says how);
 * -EBADMSG/-EPROTO if it is ours but not a ring we can use.
 */
int ring_prev_open(const char *name, struct ring_prev *p);
/* Mark retired, wake its readers, unmap. */
void ring_prev_retire(struct ring_prev *p);
void ring_prev_close(struct ring_prev *p);
/* Remove whatever is under the ring's name now (p->path). 0 or -errno. */
int ring_prev_remove(const struct ring_prev *p);

static inline const uint8_t *ring_prev_data(const struct ring_prev *p)
{
	return (const uint8_t *)p->hdr + p->hdr->data_off;
}

#endif
