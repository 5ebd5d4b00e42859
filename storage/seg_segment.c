// SPDX-License-Identifier: MIT
/*
 * seg_segment.c - the segment writer's files (seg_writer.c fills them with
 * blocks): how large a segment is and how many a FIFO holds, creating the
 * next segment file or recycling the FIFO's oldest under the new name, its
 * header, switching the writer to it, and a snapshot's quota, granted a
 * block ahead through the reserve hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "seg_read.h"
#include "seg_writer_int.h"

#define SEG_FIFO_SEGS	  16
#define SEG_MAX_SEG_SIZE  (256ull << 20)
#define SEG_SNAP_SEG_SIZE (16ull << 20)
#define SEGW_NAME_TRIES	  16 /* segment numbers skipped at most when names are taken */

int seg_geometry(uint64_t total, uint64_t segment_size, bool fifo, uint32_t *nblocks,
		 uint32_t *nsegs, uint64_t *min_total)
{
	uint64_t size = segment_size, nb, fsz;

	*min_total = 2 * seg_file_size(SEG_MIN_BLOCKS);
	if (!size) {
		if (fifo)
			size = total / SEG_FIFO_SEGS < seg_file_size(4) ? total / 2
									: total / SEG_FIFO_SEGS;
		else
			size = total && total < SEG_SNAP_SEG_SIZE ? total : SEG_SNAP_SEG_SIZE;
		if (size > SEG_MAX_SEG_SIZE)
			size = SEG_MAX_SEG_SIZE;
	}
	nb = size > SEG_HDR_SIZE ? (size - SEG_HDR_SIZE) / SEG_BLOCK_SIZE : 0;
	if (!fifo && nb < SEG_MIN_BLOCKS && !segment_size)
		nb = SEG_MIN_BLOCKS;
	if (nb < SEG_MIN_BLOCKS)
		return -EINVAL;
	if (nb > SEG_MAX_BLOCKS)
		nb = SEG_MAX_BLOCKS;
	fsz = seg_file_size((uint32_t)nb);
	*nblocks = (uint32_t)nb;
	if (fifo) {
		if (total / fsz < 2)
			return -EINVAL;
		*nsegs = total / fsz > UINT32_MAX ? UINT32_MAX : (uint32_t)(total / fsz);
	} else {
		*nsegs = UINT32_MAX;
	}
	return 0;
}

static struct segw_file *segw_file_slot(struct seg_writer *w)
{
	for (int i = 0; i < SEGW_NFILE; i++)
		if (!w->files[i].used)
			return &w->files[i];
	return NULL;
}

/* Create the next segment file, or recycle the oldest: fd of a file named for seg_no. */
static int segw_make_file(struct seg_writer *w, uint64_t seg_no)
{
	char name[SEG_NAME_LEN + 1], old[SEG_NAME_LEN + 1];
	uint64_t fsz = seg_file_size(w->nblocks);
	int fd, err;

	segw_seg_name(name, seg_no);
	if (w->nsegs < w->max_segs) {
		fd = segw_open_seg_fd(w, name, O_CREAT | O_EXCL, 0640);
		if (fd < 0)
			return fd;
		/* Preallocated only in a FIFO: its size is the promise it keeps. */
		err = w->o.fifo ? posix_fallocate(fd, 0, (off_t)fsz) : 0;
		if (!err)
			return fd;
		close(fd);
		unlinkat(w->dirfd, name, 0);
		if ((err != ENOSPC && err != EDQUOT) || w->nsegs < 2 || !w->o.fifo)
			return -err;
		segw_log(w, "%s holds only %u segments, not %u: recycling within %u", w->dir,
			 w->nsegs, w->max_segs, w->nsegs);
		w->max_segs = w->nsegs;
	}
	if (!w->o.fifo)
		return -EDQUOT;
	/* Recycle: the oldest file gets the new name, then a new header. */
	for (int i = 0; i < SEGW_NFILE; i++)
		if (w->files[i].used && w->files[i].seg_no == w->segs[0])
			return -EAGAIN; /* still being written: only when max_segs is tiny */
	segw_seg_name(old, w->segs[0]);
	/* Never over something else at the new name (the caller picks another number). */
	if (renameat2(w->dirfd, old, w->dirfd, name, RENAME_NOREPLACE))
		return -errno;
	memmove(w->segs, w->segs + 1, (w->nsegs - 1) * sizeof(*w->segs));
	w->nsegs--;
	w->st.segments_recycled++;
	fd = segw_open_seg_fd(w, name, 0, 0);
	if (fd >= 0 && posix_fallocate(fd, 0, (off_t)fsz) == 0)
		return fd; /* fallocate: a truncated old file is whole again */
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? -ENOSPC : fd;
}

static void segw_fill_hdr(struct seg_writer *w, struct segw_file *f)
{
	struct seg_hdr *h = f->hdr_buf;

	memset(h, 0, SEG_HDR_SIZE);
	h->magic = SEG_MAGIC;
	h->version = SEG_VERSION;
	h->hdr_size = SEG_HDR_SIZE;
	h->block_size = SEG_BLOCK_SIZE;
	h->nblocks = w->nblocks;
	h->seg_no = f->seg_no;
	h->writer_gen = w->gen;
	h->first_seq = w->next_seq;
	h->prev_ts_hwm = w->ts_hwm;
	h->created_ns = clock_real_ns();
	h->flags = w->o.fifo ? SEG_F_FIFO : SEG_F_SNAPSHOT;
	seg_hdr_seal(h);
}

/* Leave the active segment (syncing it if the policy asks) and start the next one. */
int segw_next_segment(struct seg_writer *w)
{
	struct segw_file *f = segw_file_slot(w);
	uint64_t seg_no = w->last_seg_no + 1;
	int fd;

	if (!f)
		return -EAGAIN;
	fd = segw_make_file(w, seg_no);
	/* Something left at that name (segw_recover ignored it): skip the number. */
	for (int i = 0; fd == -EEXIST && i < SEGW_NAME_TRIES; i++) {
		segw_log(w, "segment number %llu is taken by something else in %s: skipping it",
			 (unsigned long long)seg_no, w->dir);
		w->last_seg_no = seg_no; /* numbers are never reused: never try it again */
		fd = segw_make_file(w, ++seg_no);
	}
	if (fd < 0)
		return fd;
	if (segw_segs_push(w, seg_no)) {
		close(fd);
		return -ENOMEM;
	}
	if (w->act) {
		w->act->active = false;
		w->act->sync_on_idle =
			(w->o.sync_interval_ns || w->o.sync_retired) && w->act->dirty;
		segw_file_release(w, w->act);
	}
	memset(f, 0, offsetof(struct segw_file, hdr_buf));
	f->fd = fd;
	f->seg_no = seg_no;
	f->used = f->active = true;
	w->last_seg_no = seg_no;
	w->act = f;
	w->blk = 0;
	segw_sealed_wait(w, f->hdr_buf);
	segw_fill_hdr(w, f);
	if (w->o.sealed)
		w->o.sealed(w->o.sealed_arg, seg_no, 0, f->hdr_buf, SEG_HDR_SIZE);
	return segw_submit_hdr(w, f);
}

/* Snapshot bytes as the quota counts them: segs segments, blk + 1 blocks in the last. */
static uint64_t segw_used(const struct seg_writer *w, uint64_t segs, uint64_t blk)
{
	return segs * SEG_HDR_SIZE +
	       ((segs ? segs - 1 : 0) * w->nblocks + blk + 1) * SEG_BLOCK_SIZE;
}

int segw_quota_ok(const struct seg_writer *w)
{
	uint64_t used = segw_used(w, w->nsegs, w->blk);

	return w->o.fifo || !w->o.total_size || used <= w->o.total_size;
}

/* Snapshot: have the next block (and its segment's header, if new) granted first. */
int segw_reserve(struct seg_writer *w)
{
	bool fresh = !w->act || w->blk >= w->nblocks;
	uint64_t need = fresh ? segw_used(w, w->nsegs + 1ull, 0) : segw_used(w, w->nsegs, w->blk);
	uint64_t step = w->o.reserve_step ? w->o.reserve_step : SEG_BLOCK_SIZE;
	int err;

	if (!w->o.reserve || w->o.fifo || need <= w->o.reserved)
		return 0;
	if (need > w->o.total_size && w->o.total_size)
		return -EDQUOT;
	need = (need + step - 1) / step * step;
	if (w->o.total_size && need > w->o.total_size)
		need = w->o.total_size;
	err = w->o.reserve(w->o.reserve_arg, need);
	if (err)
		return err;
	w->o.reserved = need;
	return 0;
}
