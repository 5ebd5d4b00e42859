/* SPDX-License-Identifier: MIT */
/*
 * history_int.h - the history's state, shared by its files: history.c
 * (listing, opening, loading and checking blocks, delivering records) and
 * history_seek.c (seeking by time or sequence number, the bounds).
 */
#ifndef RAWCAP_LIB_HISTORY_INT_H
#define RAWCAP_LIB_HISTORY_INT_H

#include <time.h>

#include "history.h"
#include "seg_read.h"

struct hist_seg {
	uint64_t seg_no, first_seq, prev_hwm;
};

struct history {
	int dirfd;
	uid_t dir_uid;	       /* segments must be owned by it or by root */
	struct hist_seg *segs; /* by seg_no, from the last directory scan */
	size_t nseg, cap;
	bool listed; /* segs is complete and the directory's times below say it still is */
	struct timespec dir_mtim, dir_ctim;
	uint8_t *edge;	   /* the oldest valid block, as history_bounds read it */
	uint64_t edge_seg; /* ... from this segment */
	uint32_t edge_blk; /* ... at this block */
	bool edge_ok;	   /* edge holds it, checked */
	int fd;		   /* current segment, -1 if none */
	struct seg_hdr sh; /* its header as read when opened */
	uint32_t blk;	   /* next block to load */
	uint8_t *buf;	   /* the loaded block: own, or lent */
	uint8_t *own;	   /* the history's own block buffer */
	uint8_t *lent;	   /* history_lend: where the next blocks load, NULL: own */
	uint32_t roff;	   /* next record in buf */
	bool loaded;
	uint64_t min_seq, min_ts; /* skip records before the seek target */
	bool filter;
	bool sealed;	  /* no writer appends (snapshot, stopped capd): a hole is damage */
	uint32_t hole;	  /* live: blocks from blk to here may still be in flight; 0: none */
	uint64_t corrupt; /* damaged blocks skipped, not yet reported */
	uint64_t damaged_blocks, damaged_records; /* since open; records known from headers */
	struct history_foreign foreign;		  /* as of the last listing */
};

/* Open segment seg_no and read its header into *sh: the fd, or -errno (-ESTALE: recycled). */
int hist_open_seg(struct history *h, uint64_t seg_no, struct seg_hdr *sh);
/* List the directory's segments into h->segs, unless the last listing is current. */
int hist_scan(struct history *h);
/* Close the current segment: nothing loaded. */
void hist_drop_seg(struct history *h);
/* Make the first listed segment numbered >= seg_no current, at block blk. */
int hist_enter(struct history *h, uint64_t seg_no, uint32_t blk);
/* Position on the next record to deliver without consuming it: 1, 0 at the end, -errno. */
int hist_peek(struct history *h, const struct rawcap_rec_hdr **out);

#endif
