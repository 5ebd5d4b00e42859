// SPDX-License-Identifier: MIT
/*
 * history.c - read the disk FIFO (or a snapshot's segments) as one record
 * stream, oldest first, for librawcap's cursor.
 *
 * The directory is listed, segments are ordered by number, and blocks are
 * read whole with pread into a private buffer and checked (seg_read.c)
 * before a single record is delivered. Seeking needs no scan: segment
 * headers give each segment's first sequence number and the timestamp
 * high-water mark before it; inside a segment the fixed-offset block headers
 * are binary-searched. The writer may recycle the segment we are reading:
 * its header then names another segment, and we move on (the cursor sees
 * the sequence gap). Only read permission is needed. Seeking and the
 * bounds are in history_seek.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "history_int.h"
#include "safe_open.h"
#include "seg_read.h"

/*
 * Blocks the writer may have in flight at once: in the newest segment, an
 * invalid block followed closely by valid ones may simply not be written
 * yet (completions arrive out of order), so it is not called damage.
 */
#define HIST_WRITE_WINDOW 64

static int hist_seg_cmp(const void *a, const void *b)
{
	const struct hist_seg *x = a, *y = b;

	return x->seg_no < y->seg_no ? -1 : x->seg_no > y->seg_no;
}

int hist_open_seg(struct history *h, uint64_t seg_no, struct seg_hdr *sh)
{
	struct safe_want want = safe_want_file(h->dir_uid, 0);
	char name[SEG_NAME_LEN + 1];
	int fd, err;

	snprintf(name, sizeof(name), SEG_NAME_FMT, (unsigned long long)seg_no);
	/* A FIFO, link, device or another user's file named like a segment is not read. */
	fd = safe_openat(h->dirfd, name, O_RDONLY, 0, &want, NULL, NULL, 0);
	if (fd < 0)
		return fd;
	err = seg_read_hdr(fd, sh);
	if (!err && sh->seg_no != seg_no)
		err = -ESTALE; /* being recycled: renamed, header not yet rewritten */
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int hist_push(struct history *h, const struct seg_hdr *sh)
{
	if (h->nseg == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 32;
		void *p = realloc(h->segs, cap * sizeof(*h->segs));

		if (!p)
			return -ENOMEM;
		h->segs = p;
		h->cap = cap;
	}
	h->segs[h->nseg++] = (struct hist_seg){sh->seg_no, sh->first_seq, sh->prev_ts_hwm};
	return 0;
}

struct hist_scan_ctx {
	struct history *h;
	bool listing; /* the directory opened: h->segs is being rebuilt */
	bool skipped; /* a segment file was passed over: it may be readable later */
	struct history_foreign foreign; /* segments of another format version */
};

/* A segment whose intact header names another format version: never read, but said. */
static void hist_foreign_one(struct history_foreign *f, uint64_t no, const struct seg_hdr *sh)
{
	if (!f->segments++ || no < f->first_seg_no) {
		f->first_seg_no = no;
		f->version = sh->version;
	}
}

static int hist_scan_one(void *arg, const char *name, uint64_t no)
{
	struct hist_scan_ctx *sc = arg;
	struct seg_hdr sh;
	int sfd;

	(void)name;
	if (!sc->listing) {
		sc->h->nseg = 0;
		sc->listing = true;
	}
	sfd = hist_open_seg(sc->h, no, &sh);
	if (sfd == -EPROTO)
		hist_foreign_one(&sc->foreign, no, &sh);
	if (sfd < 0) {
		sc->skipped = true;
		return 0; /* garbage, foreign or mid-recycle: not ours to read now */
	}
	close(sfd);
	return hist_push(sc->h, &sh);
}

static bool hist_ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 * Is the last listing still the directory's? Segments are created, renamed
 * (recycled) and removed, each of which sets the directory's mtime and ctime
 * to the current time; a header rewritten in place after a rename was
 * skipped by the listing, which is then never reused (hist_scan).
 */
static bool hist_listing_current(const struct history *h)
{
	struct stat st;

	return h->listed && !fstat(h->dirfd, &st) && hist_ts_eq(&st.st_mtim, &h->dir_mtim) &&
	       hist_ts_eq(&st.st_ctim, &h->dir_ctim);
}

/*
 * Were the directory's times, read before listing it, set more than a second
 * before now? Then any later change sets them to a different value, even on
 * a file system that keeps whole seconds; a change in the same tick as an
 * earlier one could leave them as they were.
 */
static bool hist_times_settled(const struct stat *st)
{
	struct timespec now;

	return !clock_gettime(CLOCK_REALTIME_COARSE, &now) && st->st_mtim.tv_sec + 1 < now.tv_sec &&
	       st->st_ctim.tv_sec + 1 < now.tv_sec;
}

/*
 * List the directory: every file that is a segment whose header matches its
 * name. A directory that cannot be read keeps the previous list. A listing
 * is reused, for one fstat(), while the directory is unchanged since; opening
 * a window (open, bounds, seek) thus reads each segment header once, not
 * three times. Every segment is still checked when it is opened to be read.
 */
int hist_scan(struct history *h)
{
	struct hist_scan_ctx sc = {h, false, false, {0}};
	struct stat st;
	bool settled;
	int err;

	if (hist_listing_current(h))
		return 0;
	settled = !fstat(h->dirfd, &st) && hist_times_settled(&st);
	err = seg_dir_each(h->dirfd, hist_scan_one, &sc);
	if (!sc.listing && !err)
		h->nseg = 0; /* no segment at all */
	if (!err)
		h->foreign = sc.foreign;
	if (h->nseg)
		qsort(h->segs, h->nseg, sizeof(*h->segs), hist_seg_cmp);
	h->listed = settled && !err && !sc.skipped;
	if (h->listed) {
		h->dir_mtim = st.st_mtim;
		h->dir_ctim = st.st_ctim;
	}
	return err;
}

static int history_open_want(int atfd, const char *dir, const struct safe_want *want,
			     struct history **out)
{
	struct history *h;
	struct stat st;
	int err;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -1;
	h->dirfd = safe_openat(atfd, dir, O_RDONLY, 0, want, &st, NULL, 0);
	if (h->dirfd < 0) {
		err = h->dirfd;
		free(h);
		return err;
	}
	h->dir_uid = st.st_uid;
	h->buf = h->own = malloc(SEG_BLOCK_SIZE);
	err = h->buf ? hist_scan(h) : -ENOMEM;
	if (err) {
		history_close(h);
		return err;
	}
	*out = h;
	return 0;
}

int history_openat(int atfd, const char *dir, struct history **out)
{
	struct safe_want want = safe_want_dir(SAFE_ANY_OWNER);

	return history_open_want(atfd, dir, &want, out);
}

int history_open(const char *dir, struct history **out)
{
	return history_openat(AT_FDCWD, dir, out);
}

int history_open_owned(const char *dir, uid_t owner, struct history **out)
{
	struct safe_want want = safe_want_dir(owner);

	return history_open_want(AT_FDCWD, dir, &want, out);
}

void history_close(struct history *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	if (h->dirfd >= 0)
		close(h->dirfd);
	free(h->segs);
	free(h->own);
	free(h->edge);
	free(h);
}

void hist_drop_seg(struct history *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->loaded = false;
	h->hole = 0;
}

/*
 * Make the first listed segment numbered >= seg_no current, at block blk.
 * -ENOENT if there is none; -ESTALE if a sealed history's listed segment
 * has vanished.
 */
int hist_enter(struct history *h, uint64_t seg_no, uint32_t blk)
{
	hist_drop_seg(h);
	for (size_t i = 0; i < h->nseg; i++) {
		int fd;

		if (h->segs[i].seg_no < seg_no)
			continue;
		fd = hist_open_seg(h, h->segs[i].seg_no, &h->sh);
		/*
		 * Sealed, nothing recycles: a listed segment that is gone was
		 * removed under the reader (a snapshot deleted while exported).
		 * Skipping it ended the read early and silently.
		 */
		if (fd == -ENOENT && h->sealed)
			return -ESTALE;
		if (fd < 0)
			continue;
		h->fd = fd;
		h->blk = h->segs[i].seg_no == seg_no ? blk : 0;
		return 0;
	}
	return -ENOENT;
}

static bool hist_is_newest(const struct history *h)
{
	return !h->nseg || h->segs[h->nseg - 1].seg_no <= h->sh.seg_no;
}

/* Has the current segment been recycled under us? */
static bool hist_recycled(struct history *h)
{
	struct seg_hdr now;

	return seg_read_hdr(h->fd, &now) || now.seg_no != h->sh.seg_no;
}

/* The next block after blk whose header is valid, or nblocks. */
static uint32_t hist_next_valid(struct history *h, uint32_t blk)
{
	struct seg_blk_hdr b;

	for (uint32_t i = blk + 1; i < h->sh.nblocks; i++) {
		int err = seg_read_blk_hdr(h->fd, &h->sh, i, &b);

		if (err == 0)
			return i;
		if (err == -ENODATA)
			break;
	}
	return h->sh.nblocks;
}

/* Leave the current segment for the next one listed; 0, or -ENOENT if none (yet). */
static int hist_advance_seg(struct history *h)
{
	uint64_t next = h->sh.seg_no + 1;

	if (hist_is_newest(h)) {
		int err = hist_scan(h);

		if (err)
			return err;
		if (hist_is_newest(h))
			return -ENOENT;
	}
	return hist_enter(h, next, 0);
}

/*
 * Skip the invalid blocks from blk up to next as damage: count them, and the
 * records their headers (when intact) say they held.
 */
static void hist_skip_damage(struct history *h, uint32_t next)
{
	struct seg_blk_hdr b;

	for (uint32_t i = h->blk; i < next; i++)
		if (seg_read_blk_hdr(h->fd, &h->sh, i, &b) == 0)
			h->damaged_records += b.nrec;
	h->corrupt += next - h->blk;
	h->damaged_blocks += next - h->blk;
	h->blk = next;
	h->hole = 0;
}

/*
 * An invalid block followed closely by valid ones in the newest segment of a
 * live FIFO may simply not be written yet: io_uring completes writes out of
 * order. Anywhere else (a snapshot, a FIFO nobody writes, an older segment,
 * further than the writer can have in flight) it is damage.
 */
static bool hist_maybe_in_flight(const struct history *h, uint32_t next)
{
	return !h->sealed && hist_is_newest(h) && next - h->blk <= HIST_WRITE_WINDOW;
}

/*
 * Is the next block the one history_bounds read and checked? Then it becomes
 * the loaded block without a second read: a block, once written and valid,
 * does not change while its segment keeps its number (h->sh, read when the
 * segment was opened, says it does).
 */
static bool hist_take_edge(struct history *h)
{
	if (!h->edge_ok || h->edge_seg != h->sh.seg_no || h->edge_blk != h->blk)
		return false;
	h->edge_ok = false;
	if (h->buf == h->lent) {
		/* The block must land in the caller's buffer: one copy, once per window. */
		memcpy(h->buf, h->edge, SEG_BLOCK_SIZE);
		return true;
	}
	h->own = h->edge;
	h->edge = h->buf;
	h->buf = h->own;
	return true;
}

/*
 * Load the next good block. 1 loaded, 0 at the end of what is written, or
 * negative errno. Damaged blocks are skipped and counted; the reader
 * continues at the next valid block.
 */
static int hist_load(struct history *h)
{
	for (;;) {
		struct seg_blk_hdr bh;
		uint32_t next;
		int err;

		if (h->fd < 0)
			return 0;
		if (h->blk >= h->sh.nblocks) {
			err = hist_advance_seg(h);
			if (err)
				return err == -ENOENT ? 0 : err;
			continue;
		}
		h->buf = h->lent ? h->lent : h->own;
		err = hist_take_edge(h) ? 0 : seg_read_blk(h->fd, &h->sh, h->blk, h->buf);
		if (err == 0) {
			h->blk++;
			h->roff = 0;
			h->loaded = true;
			h->hole = 0;
			return 1;
		}
		if (err != -EBADMSG && err != -ENODATA)
			return err;
		if (hist_recycled(h)) {
			err = hist_advance_seg(h); /* lapped: the cursor sees the gap */
			if (err)
				return err == -ENOENT ? 0 : err;
			continue;
		}
		/* Sealed: a block whose header is intact but whose records are not is damage,
		 * also at the end, where no valid block follows to tell. */
		if (h->sealed && err == -EBADMSG &&
		    seg_read_blk_hdr(h->fd, &h->sh, h->blk, &bh) == 0) {
			hist_skip_damage(h, h->blk + 1);
			continue;
		}
		next = err == -ENODATA ? h->sh.nblocks : hist_next_valid(h, h->blk);
		if (next < h->sh.nblocks && !hist_maybe_in_flight(h, next)) {
			hist_skip_damage(h, next);
			continue;
		}
		/* Nothing good follows, or not yet: the end of what was written. */
		if (hist_is_newest(h) && hist_scan(h) == 0 && hist_is_newest(h)) {
			h->hole = next < h->sh.nblocks ? next : 0;
			return 0;
		}
		if (next < h->sh.nblocks) {
			hist_skip_damage(h, next); /* a newer segment exists: not in flight */
			continue;
		}
		h->blk = h->sh.nblocks;
	}
}

int history_skip_hole(struct history *h)
{
	if (!h || !h->hole || h->fd < 0)
		return -ENOENT;
	hist_skip_damage(h, h->hole);
	return 0;
}

void history_set_sealed(struct history *h, bool sealed)
{
	h->sealed = sealed;
}

void history_get_foreign(const struct history *h, struct history_foreign *out)
{
	*out = h ? h->foreign : (struct history_foreign){0};
}

void history_damage(const struct history *h, uint64_t *blocks, uint64_t *records)
{
	*blocks = h ? h->damaged_blocks : 0;
	*records = h ? h->damaged_records : 0;
}

const struct seg_blk_hdr *history_block(const struct history *h, const struct rawcap_rec *rec)
{
	const uint8_t *first = h->buf + sizeof(struct seg_blk_hdr) + sizeof(struct rawcap_rec_hdr);

	return h->loaded && rec->payload == first ? (const void *)h->buf : NULL;
}

void history_lend(struct history *h, void *buf)
{
	h->lent = buf;
}

/* Position on the next record to deliver without consuming it: 1, 0 at the end, -errno. */
int hist_peek(struct history *h, const struct rawcap_rec_hdr **out)
{
	for (;;) {
		const struct rawcap_rec_hdr *r;
		uint32_t off;

		if (h->loaded) {
			off = h->roff;
			if (seg_blk_rec(h->buf, &off, &r)) {
				if (h->filter && (r->seq < h->min_seq || r->ts_ns < h->min_ts)) {
					h->roff = off;
					continue;
				}
				h->filter = false;
				*out = r;
				return 1;
			}
			h->loaded = false;
		}
		int ret = hist_load(h);

		if (ret <= 0)
			return ret;
	}
}

int history_next(struct history *h, struct rawcap_rec *rec, uint64_t *corrupt)
{
	const struct rawcap_rec_hdr *r;
	int ret = hist_peek(h, &r);

	if (corrupt)
		*corrupt += h->corrupt;
	h->corrupt = 0;
	if (ret <= 0)
		return ret;
	memset(rec, 0, sizeof(*rec));
	rec->seq = r->seq;
	rec->ts_ns = r->ts_ns;
	rec->type = r->type;
	rec->flags = r->flags;
	rec->len = r->len - (uint32_t)sizeof(*r);
	rec->payload = r + 1;
	rec->pos = UINT64_MAX;
	rec->source = RAWCAP_SOURCE_DISK;
	h->roff += rawcap_rec_span(r->len);
	return 1;
}
