/* SPDX-License-Identifier: MIT */
/*
 * window_block.h - whole-block copies for rawcap-snapshot
 * (snapshot_sink.c): the window loop (window.c) tells a sink when the
 * record it is handed opens a disk block whose every record the loop will
 * hand on unchanged, in order, with nothing between them, so the sink may
 * copy the block's bytes at once and take the block's own data CRC instead
 * of re-framing each record.
 */
#ifndef RAWCAP_LIB_WINDOW_BLOCK_H
#define RAWCAP_LIB_WINDOW_BLOCK_H

#include <stdint.h>

#include <rawcap/window.h>

struct seg_blk_hdr;

/* A disk block that the window passes on whole. */
struct window_block {
	const struct seg_blk_hdr *hdr; /* checked; its `used` bytes of records follow it */
	uint64_t max_ts;	       /* newest timestamp of its records */
	uint64_t bytes;		       /* sum of its records' lengths (header + payload) */
};

/*
 * Called by a sink's record hook for rec: true and *b if rec is the first
 * record of a loaded disk block (FIFO or snapshot segment) and every record
 * of that block lies inside the window with consecutive sequence numbers,
 * none synthesised, and none that the loop would drop, filter, describe an
 * interface for or pass to another hook first. Then the sink's record hook
 * is called next for each of the block's other records, in order, unless
 * the window is stopped (*o->stop) in between: a sink that takes whole
 * blocks treats a stop as a cancel.
 */
bool window_whole_block(const struct rawcap_window *w, const struct rawcap_rec *rec,
			struct window_block *b);

/* Read the next disk blocks into buf (history_lend in lib/history.h). */
void window_lend(const struct rawcap_window *w, void *buf);

/* rawcap_window_run(), with *self set to the window while it runs (for the sink). */
int window_run_self(const struct rawcap_window_opts *o, const struct rawcap_sink *s,
		    struct rawcap_window_result *res, const struct rawcap_window **self);

#endif
