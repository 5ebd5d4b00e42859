/* SPDX-License-Identifier: MIT */
/*
 * window_cut.h - where a record stands against a time window [from, to),
 * for the reader loop (window.c), which every reader uses.
 *
 * Records are stored in write order, which is time order only within
 * RAWCAP_REORDER_NS (<rawcap/format.h>): with several capture sockets a
 * packet stamped before `to` can be stored after packets stamped later. So
 * the window is not over at the first packet stamped at or after `to`, but
 * at the first one stamped at or after to + RAWCAP_REORDER_NS; at the live
 * end, once the clock has passed that time. The start needs no slack: a
 * time seek (ring index, disk block headers) lands after every record
 * stamped before it only if all of them precede it in write order, and
 * records stamped before `from` that follow are skipped as BEFORE.
 */
#ifndef RAWCAP_LIB_WINDOW_CUT_H
#define RAWCAP_LIB_WINDOW_CUT_H

#include <stdbool.h>
#include <stdint.h>

#include <rawcap/format.h>

enum window_place {
	WINDOW_BEFORE, /* stamped before from: skip */
	WINDOW_INSIDE, /* in [from, to) */
	WINDOW_AFTER,  /* at or after to, but records inside may still follow: skip */
	WINDOW_END,    /* nothing stored after it is inside the window */
};

static inline uint64_t window_cut_end(uint64_t to_ns)
{
	return to_ns > UINT64_MAX - RAWCAP_REORDER_NS ? UINT64_MAX : to_ns + RAWCAP_REORDER_NS;
}

static inline enum window_place window_place(uint64_t ts_ns, uint64_t from_ns, uint64_t to_ns)
{
	if (ts_ns < from_ns)
		return WINDOW_BEFORE;
	if (ts_ns < to_ns)
		return WINDOW_INSIDE;
	return ts_ns >= window_cut_end(to_ns) && to_ns != UINT64_MAX ? WINDOW_END : WINDOW_AFTER;
}

/* At the live end with nothing left to read: can no record inside the window still come? */
static inline bool window_settled(uint64_t now_ns, uint64_t to_ns)
{
	return to_ns != UINT64_MAX && now_ns >= window_cut_end(to_ns);
}

#endif
