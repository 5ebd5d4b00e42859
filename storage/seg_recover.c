// SPDX-License-Identifier: MIT
/*
 * seg_recover.c - what a segment writer finds when it opens a directory:
 * the segments on disk (oldest first), the newest valid block, and so the
 * sequence number to continue from and where to resume writing.
 *
 * Only the newest segment is scanned block by block (headers first, then the
 * newest candidate checked whole). A crash can leave a hole there: a block
 * whose write never landed before one that did (completions are unordered).
 * That is remembered so the persister can refill it from the previous ring.
 * Files with our name pattern but a bad header (torn creation or recycle)
 * are removed in a FIFO: they would only waste the space we promise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safe_open.h"
#include "seg_read.h"
#include "seg_writer_int.h"

#define SEGW_IGNORED_NO_MAX (1ull << 62) /* higher numbers of odd objects do not move ours */

int segw_segs_push(struct seg_writer *w, uint64_t seg_no)
{
	if (w->nsegs == w->segs_cap) {
		uint32_t cap = w->segs_cap ? w->segs_cap * 2 : 32;
		void *p = realloc(w->segs, cap * sizeof(*w->segs));

		if (!p)
			return -ENOMEM;
		w->segs = p;
		w->segs_cap = cap;
	}
	w->segs[w->nsegs++] = seg_no;
	return 0;
}

static int segw_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Open a segment by name to read it: a regular file of ours (safe_open.h). */
static int segw_open_ro(struct seg_writer *w, const char *name, char *why, size_t len)
{
	struct safe_want want = safe_want_file(w->dir_uid, 0);

	return safe_openat(w->dirfd, name, O_RDONLY, 0, &want, NULL, why, len);
}

/*
 * Is this directory entry one of our segments? In a FIFO, removes torn
 * ones, and links, FIFOs and devices named like one; other odd objects (a
 * directory, another user's file) are left alone and never read.
 */
static int segw_check_entry(struct seg_writer *w, const char *name, uint64_t *no)
{
	struct seg_hdr h;
	char why[160];
	int fd, err;

	if (seg_name_parse(name, no))
		return -ENOENT;
	fd = segw_open_ro(w, name, why, sizeof(why));
	if (fd < 0) {
		if (segw_remove_odd(w, name, fd, why))
			return fd;
		segw_log(w, "ignoring %s/%s: %s", w->dir, name, why);
		/* It keeps its name: number new segments after it (unless absurdly high). */
		if (*no > w->last_seg_no && *no < SEGW_IGNORED_NO_MAX)
			w->last_seg_no = *no;
		return fd;
	}
	err = seg_read_hdr(fd, &h);
	close(fd);
	if (!err && h.seg_no != *no)
		err = -EBADMSG;
	if (err == -EBADMSG && w->o.fifo) {
		segw_log(w, "removing %s/%s: not a valid segment (torn write?)", w->dir, name);
		unlinkat(w->dirfd, name, 0);
	}
	/*
	 * Another format version (a downgrade, or an upgrade undone): no reader
	 * of this version can read it, and kept it would hold disk beyond the
	 * storage size (it is not one of this FIFO's segments) for ever.
	 */
	if (err == -EPROTO && w->o.fifo) {
		segw_log(w,
			 "removing %s/%s: segment format %u, this capd writes and reads format %u "
			 "(an older or newer rawcap wrote it)",
			 w->dir, name, h.version, SEG_VERSION);
		unlinkat(w->dirfd, name, 0);
	}
	return err;
}

static int segw_list_one(void *arg, const char *name, uint64_t no)
{
	struct seg_writer *w = arg;

	return segw_check_entry(w, name, &no) ? 0 : segw_segs_push(w, no);
}

static int segw_list(struct seg_writer *w)
{
	int err = seg_dir_each(w->dirfd, segw_list_one, w);

	if (err)
		return err;
	if (w->nsegs)
		qsort(w->segs, w->nsegs, sizeof(*w->segs), segw_u64_cmp);
	if (w->nsegs && w->segs[w->nsegs - 1] > w->last_seg_no)
		w->last_seg_no = w->segs[w->nsegs - 1];
	/* A smaller storage size than last time: drop the oldest segments. */
	while (w->o.fifo && w->nsegs > w->max_segs) {
		char name[SEG_NAME_LEN + 1];

		segw_seg_name(name, w->segs[0]);
		segw_log(w, "storage size shrank: removing %s/%s", w->dir, name);
		unlinkat(w->dirfd, name, 0);
		memmove(w->segs, w->segs + 1, (w->nsegs - 1) * sizeof(*w->segs));
		w->nsegs--;
	}
	return 0;
}

struct segw_scan {
	int32_t last; /* newest valid block, -1 if none */
	int32_t hole; /* first invalid block before it, -1 if none */
	struct seg_blk_hdr last_hdr, before_hole;
};

/* Scan the newest segment's blocks: the newest whole block and the first hole before it. */
static void segw_scan_newest(struct seg_writer *w, int fd, const struct seg_hdr *sh,
			     struct segw_scan *s)
{
	uint8_t *buf = w->bufs[0].mem; /* idle at open: a scratch block */
	struct seg_blk_hdr b, prev;
	bool prev_ok = false;

	s->last = s->hole = -1;
	memset(&prev, 0, sizeof(prev));
	for (uint32_t i = 0; i < sh->nblocks; i++) {
		int err = seg_read_blk_hdr(fd, sh, i, &b);

		if (err == -ENODATA)
			break;
		if (err) {
			if (s->hole < 0 && i > 0 && prev_ok)
				s->before_hole = prev;
			if (s->hole < 0)
				s->hole = (int32_t)i;
			prev_ok = false;
			continue;
		}
		prev = b;
		prev_ok = true;
	}
	/* The newest block with a good header must also be whole (torn data fails its CRC). */
	for (int32_t i = (int32_t)sh->nblocks - 1; i >= 0; i--) {
		if (seg_read_blk_hdr(fd, sh, (uint32_t)i, &b))
			continue;
		if (seg_read_blk(fd, sh, (uint32_t)i, buf) == 0) {
			s->last = i;
			s->last_hdr = b;
			break;
		}
	}
	if (s->hole > s->last)
		s->hole = -1; /* invalid blocks after the newest one are just unwritten */
	if (s->hole == 0)
		memset(&s->before_hole, 0, sizeof(s->before_hole));
}

/* Resume writing in the newest segment, after its newest valid block. */
static int segw_resume(struct seg_writer *w, const struct seg_hdr *sh, const struct segw_scan *s)
{
	char name[SEG_NAME_LEN + 1];
	struct segw_file *f = &w->files[0];
	int fd;

	if (sh->nblocks != w->nblocks)
		return 0; /* other geometry: the next block starts a new segment */
	segw_seg_name(name, sh->seg_no);
	fd = segw_open_seg_fd(w, name, 0, 0);
	if (fd < 0)
		return fd;
	if (w->o.fifo && posix_fallocate(fd, 0, (off_t)seg_file_size(w->nblocks)))
		segw_log(w, "cannot restore the full size of %s/%s", w->dir, name);
	f->fd = fd;
	f->seg_no = sh->seg_no;
	f->used = f->active = true;
	f->end = s->last >= 0 ? seg_blk_off((uint32_t)s->last + 1) : SEG_HDR_SIZE;
	w->act = f;
	w->blk = (uint32_t)(s->last + 1);
	return 0;
}

int segw_recover(struct seg_writer *w)
{
	char name[SEG_NAME_LEN + 1];
	struct segw_scan s;
	struct seg_hdr sh;
	int fd, err = segw_list(w);

	if (err || !w->nsegs)
		return err;
	segw_seg_name(name, w->segs[w->nsegs - 1]);
	fd = segw_open_ro(w, name, NULL, 0);
	if (fd < 0)
		return fd;
	err = seg_read_hdr(fd, &sh);
	if (err) {
		close(fd);
		return err;
	}
	segw_scan_newest(w, fd, &sh, &s);
	close(fd);
	if (s.last >= 0) {
		w->next_seq = s.last_hdr.last_seq + 1;
		w->ts_hwm = s.last_hdr.ts_hwm;
	} else {
		w->next_seq = sh.first_seq;
		w->ts_hwm = sh.prev_ts_hwm;
	}
	if (s.hole >= 0) {
		w->has_hole = true;
		w->hole_blk = (uint32_t)s.hole;
		w->hole_seq = s.hole > 0 ? s.before_hole.last_seq + 1 : sh.first_seq;
		w->hole_hwm = s.hole > 0 ? s.before_hole.ts_hwm : sh.prev_ts_hwm;
	}
	return segw_resume(w, &sh, &s);
}

bool seg_writer_hole(const struct seg_writer *w, uint64_t *seq)
{
	if (w->has_hole && w->act)
		*seq = w->hole_seq;
	return w->has_hole && w->act;
}

int seg_writer_rewind(struct seg_writer *w)
{
	if (!w->has_hole || !w->act || w->cur)
		return -EINVAL;
	w->blk = w->hole_blk;
	w->next_seq = w->hole_seq;
	w->ts_hwm = w->hole_hwm;
	w->has_hole = false;
	return 0;
}
