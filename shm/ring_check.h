/* SPDX-License-Identifier: MIT */
/*
 * ring_check.h - what capd and readers check before they trust a ring
 * object: the file itself (type, owner, mode, size: before it is mapped),
 * then the header (every offset against the real size), and how alive its
 * writer is.
 *
 * /dev/shm is writable by everyone: any local user can create
 * rawcap-<name> first (a squatted object), or a FIFO or symlink under that
 * name. Objects are therefore opened O_NOFOLLOW|O_NONBLOCK (a FIFO cannot
 * block the open) and refused unless they are regular files owned by a
 * trusted uid and writable by no one else.
 */
#ifndef RAWCAP_RING_CHECK_H
#define RAWCAP_RING_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ring_layout.h"

/*
 * 0 if the header describes a ring that fits in file_size bytes;
 * -EBADMSG for a bad magic or inconsistent layout, -EPROTO for another layout version.
 */
int ring_hdr_check(const struct ring_hdr *h, uint64_t file_size);

/*
 * Check the open object fd before mapping it: a regular file, owned by one of
 * the nowners (1 or 2) uids, not writable by group or others, and of a size a ring can
 * have. Fills *st. 0, or -EPERM (not to be trusted) or -EBADMSG (a size no
 * ring has) with the reason in why (len bytes).
 */
int ring_obj_check(int fd, const uid_t *owners, size_t nowners, struct stat *st, char *why,
		   size_t len);

/* How a ring's writer is doing, judged from its object (ring_liveness). */
enum ring_liveness {
	RING_WRITER_RUNNING = 0, /* holds the ring, heartbeat fresh */
	RING_WRITER_STOPPED = 1, /* exited cleanly */
	RING_WRITER_GONE = 2,	 /* no process holds the ring: killed or crashed */
	RING_WRITER_HUNG = 3,	 /* holds the ring, but its heartbeat stopped */
	RING_WRITER_RETIRED = 4, /* a newer writer replaced this object */
};

/* A heartbeat older than this means the writer hangs (it beats every second). */
#define RING_HEARTBEAT_TIMEOUT_NS (5ull * 1000000000ull)

/*
 * The writer holds an open-file-description write lock on its object for as
 * long as it lives (the kernel drops it when the process dies, in whatever
 * way): taking it shows no other writer is alive, in any pid namespace.
 * 0, -EBUSY if another writer holds it, or -errno.
 */
int ring_writer_lock(int fd);

/*
 * Judge the writer from the state it left, whether anyone holds the writer
 * lock on fd (any descriptor of the object, read-only will do), and the age
 * of its heartbeat: the smaller of the CLOCK_REALTIME and CLOCK_MONOTONIC
 * ages, so that a wall-clock step fakes neither. *silent_ns gets the age.
 */
enum ring_liveness ring_liveness(const struct ring_hdr *h, int fd, uint64_t *silent_ns);

#endif
