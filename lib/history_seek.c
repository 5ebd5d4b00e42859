// SPDX-License-Identifier: MIT
/*
 * history_seek.c - positioning in the history (history.c): a seek by time
 * or sequence number picks the segment from the listed headers and
 * binary-searches its fixed-offset block headers; the bounds are the oldest
 * valid block (kept for the first load) and the newest.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "history_int.h"

enum hist_key { HIST_KEY_SEQ, HIST_KEY_TS };

/* The last segment whose records before it are all below the target (else the first). */
static size_t hist_pick_seg(const struct history *h, enum hist_key key, uint64_t target)
{
	size_t best = 0;

	for (size_t i = 0; i < h->nseg; i++) {
		const struct hist_seg *s = &h->segs[i];

		if (key == HIST_KEY_SEQ ? s->first_seq <= target : s->prev_hwm < target)
			best = i;
	}
	return best;
}

/*
 * Binary search the current segment's block headers for the last valid block
 * whose key is below target (SEQ: first_seq <= target; TS: ts_hwm < target).
 * Invalid blocks (damaged, stale, unwritten) are stepped over.
 */
static uint32_t hist_search_blocks(struct history *h, enum hist_key key, uint64_t target)
{
	int64_t lo = 0, hi = (int64_t)h->sh.nblocks - 1;
	uint32_t best = 0;
	struct seg_blk_hdr b;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2, c = mid;
		bool below;

		while (c <= hi && seg_read_blk_hdr(h->fd, &h->sh, (uint32_t)c, &b))
			c++;
		if (c > hi) {
			hi = mid - 1;
			continue;
		}
		below = key == HIST_KEY_SEQ ? b.first_seq <= target : b.ts_hwm < target;
		if (below) {
			best = (uint32_t)c;
			lo = c + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best;
}

int history_seek(struct history *h, enum rawcap_seek whence, uint64_t value)
{
	const struct rawcap_rec_hdr *r;
	enum hist_key key = whence == RAWCAP_SEEK_TIME ? HIST_KEY_TS : HIST_KEY_SEQ;
	size_t i;
	int err;

	if (!h)
		return -ENOENT;
	err = hist_scan(h);
	if (err)
		return err;
	hist_drop_seg(h);
	h->filter = false;
	h->min_seq = h->min_ts = 0;
	if (!h->nseg)
		return -ENOENT;
	switch (whence) {
	case RAWCAP_SEEK_OLDEST:
		err = hist_enter(h, h->segs[0].seg_no, 0);
		break;
	case RAWCAP_SEEK_NEWEST:
		return -ENOENT; /* nothing newer than the newest is history */
	case RAWCAP_SEEK_TIME:
	case RAWCAP_SEEK_SEQ:
		i = hist_pick_seg(h, key, value);
		err = hist_enter(h, h->segs[i].seg_no, 0);
		if (err)
			break;
		if (h->segs[i].seg_no == h->sh.seg_no)
			h->blk = hist_search_blocks(h, key, value);
		h->filter = true;
		if (key == HIST_KEY_SEQ)
			h->min_seq = value;
		else
			h->min_ts = value;
		break;
	default:
		return -EINVAL;
	}
	if (err)
		return err;
	err = hist_peek(h, &r);
	if (err < 0)
		return err;
	return err ? 0 : -ENOENT;
}

/*
 * The last valid block of the listed segments, for the bounds: searched from
 * each segment's end, so a full segment costs one header read, not one per
 * block (a partly written one still reads the unwritten blocks' headers).
 */
static int hist_newest_blk(struct history *h, struct seg_blk_hdr *out)
{
	for (size_t n = 0; n < h->nseg; n++) {
		struct seg_hdr sh;
		int err = -ENODATA;
		int fd = hist_open_seg(h, h->segs[h->nseg - 1 - n].seg_no, &sh);

		if (fd < 0)
			continue;
		for (uint32_t b = sh.nblocks; b-- > 0 && err;)
			err = seg_read_blk_hdr(fd, &sh, b, out);
		close(fd);
		if (!err)
			return 0;
	}
	return -ENODATA;
}

/*
 * The oldest valid block's header (*first), and the timestamp of the oldest
 * record held: the earliest of the first intact block's records, or, when
 * no block is intact, the first valid header's high-water mark. That block
 * stays in h->edge for hist_load. Each block is read once: whole, checked,
 * and only if that fails its header alone.
 */
static int hist_oldest(struct history *h, struct seg_blk_hdr *first, uint64_t *ts)
{
	bool have_first = false;

	if (!h->edge && !(h->edge = malloc(SEG_BLOCK_SIZE)))
		return -ENOMEM;
	h->edge_ok = false;
	for (size_t n = 0; n < h->nseg; n++) {
		struct seg_hdr sh;
		int fd = hist_open_seg(h, h->segs[n].seg_no, &sh);

		for (uint32_t b = 0; fd >= 0 && b < sh.nblocks; b++) {
			const struct rawcap_rec_hdr *r;
			struct seg_blk_hdr bh;
			uint32_t off = 0;
			int err = seg_read_blk(fd, &sh, b, h->edge);

			if (err == -ENODATA)
				break;
			if (err && (have_first || seg_read_blk_hdr(fd, &sh, b, &bh)))
				continue;
			if (!have_first) {
				*first = err ? bh : *(const struct seg_blk_hdr *)h->edge;
				*ts = first->ts_hwm;
				have_first = true;
			}
			if (err)
				continue; /* damaged: its header gives the sequence, not the time */
			*ts = UINT64_MAX;
			while (seg_blk_rec(h->edge, &off, &r))
				if (r->ts_ns < *ts)
					*ts = r->ts_ns;
			h->edge_seg = sh.seg_no;
			h->edge_blk = b;
			h->edge_ok = true;
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
	}
	return have_first ? 0 : -ENODATA;
}

int history_bounds(struct history *h, uint64_t *oldest_seq, uint64_t *newest_seq,
		   uint64_t *oldest_ts, uint64_t *newest_ts)
{
	struct seg_blk_hdr first, last;
	uint64_t first_ts;
	int err;

	if (!h)
		return -ENODATA;
	err = hist_scan(h);
	if (err)
		return err;
	err = hist_oldest(h, &first, &first_ts);
	if (err == -ENOMEM)
		return err;
	if (err || hist_newest_blk(h, &last))
		return -ENODATA;
	if (oldest_seq)
		*oldest_seq = first.first_seq;
	if (newest_seq)
		*newest_seq = last.last_seq;
	if (oldest_ts)
		*oldest_ts = first_ts;
	if (newest_ts)
		*newest_ts = last.ts_hwm;
	return 0;
}
