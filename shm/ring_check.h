/* SPDX-License-Identifier: MIT */
/*
 * ring_check.h - validate a ring header before trusting any offset in it.
 *
 * Readers map objects that another process wrote: every size and offset is
 * checked against the object's real size before it is used.
 */
#ifndef RAWCAP_RING_CHECK_H
#define RAWCAP_RING_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ring_layout.h"

/*
 * 0 if the header describes a ring that fits in file_size bytes;
 * -EBADMSG for a bad magic or inconsistent layout, -EPROTO for another layout version.
 */
int ring_hdr_check(const struct ring_hdr *h, uint64_t file_size);

#endif
