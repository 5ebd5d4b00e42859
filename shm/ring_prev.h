/* SPDX-License-Identifier: MIT */
/*
 * ring_prev.h - the ring a previous capd left behind.
 *
 * The shm object outlives capd. A new capd opens the old ring read-write to
 * learn where the sequence stands and to persist what the old generation had
 * not yet written to disk, then builds its own ring and retires the old one:
 * readers still mapping it see RING_STATE_RETIRED and reopen by name.
 */
#ifndef RAWCAP_RING_PREV_H
#define RAWCAP_RING_PREV_H

#include <stddef.h>
#include <stdint.h>

#include "ring_layout.h"

struct ring_prev {
	struct ring_hdr *hdr;
	size_t map_len;
	int fd;
};

/* 0, -ENOENT if there is no previous ring, -EBADMSG/-EPROTO if it is not one we can use. */
int ring_prev_open(const char *name, struct ring_prev *p);
/* Mark retired, wake its readers, unmap. The object itself is replaced by rename. */
void ring_prev_retire(struct ring_prev *p);
void ring_prev_close(struct ring_prev *p);

static inline const uint8_t *ring_prev_data(const struct ring_prev *p)
{
	return (const uint8_t *)p->hdr + p->hdr->data_off;
}

#endif
