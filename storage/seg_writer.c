// SPDX-License-Identifier: MIT
/*
 * seg_writer.c - pack records into checksummed blocks and blocks into
 * segment files: the disk FIFO (fixed number of preallocated segments, the
 * oldest renamed and rewritten when full) and snapshots (segments appended
 * up to a quota). The segment files themselves (sizes, create or recycle,
 * header, quota) live in seg_segment.c, I/O in seg_io.c, start-up recovery
 * in seg_recover.c.
 *
 * A block's position (segment, block number) is fixed when its first record
 * arrives, so a partly filled block can be written early (durability policy)
 * and rewritten in place when it fills. The rewrite is ordered after the
 * partial write with IOSQE_IO_DRAIN, so the older copy can never land last.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crc32c.h"
#include "seg_read.h"
#include "seg_writer_int.h"

void segw_log(struct seg_writer *w, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->o.log)
		w->o.log("storage: %s", msg);
	else
		fprintf(stderr, "rawcap-storage: %s\n", msg);
}

void segw_fail(struct seg_writer *w, enum segw_op op, int err, const char *what)
{
	uint64_t now = clock_mono_ns();

	if (w->logged[op] != err) {
		segw_log(w, "%s in %s failed: %s (retrying with backoff, logged once)", what,
			 w->dir, strerror(-err));
		w->logged[op] = err;
	}
	if (!w->first_err)
		w->first_err = err;
	w->err = err;
	w->err_op = op;
	w->backoff = w->backoff ? w->backoff * 2 : SEGW_BACKOFF_MIN_NS;
	if (w->backoff > SEGW_BACKOFF_MAX_NS)
		w->backoff = SEGW_BACKOFF_MAX_NS;
	w->retry_at = now + w->backoff;
}

void segw_ok(struct seg_writer *w, enum segw_op op)
{
	if (w->logged[op]) {
		segw_log(w, "%s in %s works again", op == SEGW_OP_SYNC ? "fdatasync" : "writing",
			 w->dir);
		w->logged[op] = 0;
	}
	if (w->err && w->err_op == op) {
		w->err = 0;
		w->backoff = 0;
	}
}

int seg_writer_open(const struct seg_writer_opts *o, struct seg_writer **out)
{
	struct seg_writer *w;
	uint64_t min_total;
	int err;

	*out = NULL;
	if (!o->dir)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->o = *o;
	w->dirfd = w->lockfd = w->efd = -1;
	w->direct = o->direct_io;
	w->gen = clock_real_ns();
	snprintf(w->dir, sizeof(w->dir), "%s", o->dir);
	err = seg_geometry(o->total_size, o->segment_size, o->fifo, &w->nblocks, &w->max_segs,
			   &min_total);
	if (!err)
		err = segw_dir_open(w);
	if (!err)
		err = segw_io_init(w);
	if (!err)
		err = segw_recover(w);
	if (err) {
		segw_io_exit(w);
		segw_dir_close(w);
		free(w->segs);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

/* A free buffer, waiting for one unless nonblocking. */
static int segw_take_buf(struct seg_writer *w, struct segw_buf **out)
{
	int err;

	if (w->err && w->o.nonblock && clock_mono_ns() < w->retry_at)
		return w->err;
	while (!(*out = segw_buf_get(w))) {
		if (w->o.nonblock)
			return -EAGAIN;
		if (!segw_busy(w))
			return w->err ? w->err
				      : -EIO; /* every buffer failed: nothing to wait for */
		err = segw_reap(w, true);
		if (err < 0)
			return err;
		if (w->err && w->err_op == SEGW_OP_WRITE)
			return w->err; /* blocking callers get the error, not a retry loop */
	}
	return 0;
}

/* A position for the next block, in buffer b (NULL: take a free one). */
static int segw_start_block(struct seg_writer *w, struct segw_buf *b)
{
	int err = b ? 0 : segw_take_buf(w, &b);

	if (err)
		return err;
	err = segw_reserve(w);
	if (err)
		return err;
	if (!w->act || w->blk >= w->nblocks) {
		err = segw_next_segment(w);
		while (err == -EAGAIN && !w->o.nonblock && segw_busy(w)) {
			segw_reap(w, true); /* a file slot frees when its writes complete */
			err = segw_next_segment(w);
		}
		if (err) {
			if (err != -EAGAIN && err != -EDQUOT) {
				w->st.write_errors++;
				segw_fail(w, SEGW_OP_CREATE, err, "creating a segment");
			}
			return err;
		}
		segw_ok(w, SEGW_OP_CREATE);
	}
	if (!segw_quota_ok(w))
		return -EDQUOT;
	segw_sealed_wait(w, b->mem);
	b->state = SEGW_FILL;
	b->partial = false;
	b->file = w->act;
	b->blk_no = w->blk++;
	w->cur = b;
	w->cur_used = w->cur_nrec = w->cur_flushed = w->cur_crc = w->cur_crc_len = 0;
	return 0;
}

/* Header and CRC for the first `used` bytes of block b (whose data starts at mem + 64). */
static void segw_seal_block(struct seg_writer *w, struct segw_buf *b, uint32_t used, uint32_t nrec,
			    uint64_t last_seq)
{
	struct seg_blk_hdr *h = (struct seg_blk_hdr *)b->mem;
	uint32_t len = (uint32_t)sizeof(*h) + used;

	if (w->cur_crc_len < used) { /* one long pass: the three-stream CRC's best case */
		w->cur_crc = crc32c(w->cur_crc, w->cur->mem + sizeof(*h) + w->cur_crc_len,
				    used - w->cur_crc_len);
		w->cur_crc_len = used;
	}
	b->wlen = (len + SEG_IO_ALIGN - 1) & ~(SEG_IO_ALIGN - 1);
	memset(b->mem + len, 0, b->wlen - len);
	h->magic = SEG_BLK_MAGIC;
	h->seg_no = b->file->seg_no;
	h->blk_no = b->blk_no;
	h->nrec = nrec;
	h->used = used;
	h->first_seq = w->cur_first;
	h->last_seq = last_seq;
	h->ts_hwm = w->ts_hwm;
	h->flags = 0;
	h->data_crc = w->cur_crc; /* always covers exactly the first `used` bytes */
	seg_blk_hdr_seal(h);
}

static int segw_submit_cur(struct seg_writer *w)
{
	struct segw_buf *b = w->cur;
	int err;

	segw_seal_block(w, b, w->cur_used, w->cur_nrec, w->cur_last);
	if (w->o.sealed)
		w->o.sealed(w->o.sealed_arg, b->file->seg_no, seg_blk_off(b->blk_no), b->mem,
			    b->wlen);
	/* A partial copy of this block may still be in flight: never let it land last. */
	err = segw_submit_buf(w, b, w->cur_partial_inflight);
	if (err)
		return err;
	w->cur = NULL;
	if (!w->o.nonblock)
		return segw_kick(w);
	return 0;
}

int seg_write_record(struct seg_writer *w, const struct rawcap_rec_hdr *hdr, const void *payload)
{
	uint32_t span = rawcap_rec_span(hdr->len);
	uint8_t *p;
	int err;

	if (hdr->len < sizeof(*hdr) || hdr->len > RAWCAP_REC_MAX || hdr->type == RAWCAP_REC_PAD)
		return -EINVAL;
	if (w->cur && w->cur_used + span > SEG_BLK_CAP) {
		err = segw_submit_cur(w);
		if (err)
			return err;
	}
	if (!w->cur) {
		err = segw_start_block(w, NULL);
		if (err)
			return err;
	}
	p = w->cur->mem + sizeof(struct seg_blk_hdr) + w->cur_used;
	memcpy(p, hdr, sizeof(*hdr));
	memcpy(p + sizeof(*hdr), payload, hdr->len - sizeof(*hdr));
	memset(p + hdr->len, 0, span - hdr->len);
	if (w->cur_nrec++ == 0)
		w->cur_first = hdr->seq;
	w->cur_last = hdr->seq;
	w->cur_used += span;
	w->next_seq = hdr->seq + 1;
	if (hdr->ts_ns > w->ts_hwm)
		w->ts_hwm = hdr->ts_ns;
	w->st.records++;
	w->st.bytes += hdr->len;
	if (w->cur_used + sizeof(*hdr) > SEG_BLK_CAP)
		return segw_submit_cur(w); /* no record fits any more */
	return 0;
}

void *seg_writer_lend(struct seg_writer *w)
{
	struct segw_buf *b;

	if (segw_take_buf(w, &b))
		return NULL;
	segw_sealed_wait(w, b->mem);
	b->state = SEGW_LENT;
	return b->mem;
}

/* The lent buffer whose block data starts at data, if any. */
static struct segw_buf *segw_lent(struct seg_writer *w, const void *data)
{
	for (int i = 0; i < SEGW_NBUF; i++)
		if (w->bufs[i].state == SEGW_LENT &&
		    w->bufs[i].mem + sizeof(struct seg_blk_hdr) == (const uint8_t *)data)
			return &w->bufs[i];
	return NULL;
}

int seg_write_block(struct seg_writer *w, const struct seg_block_in *in)
{
	struct segw_buf *lent = segw_lent(w, in->data);
	int err;

	if (!in->nrec || in->used > SEG_BLK_CAP || in->last_seq - in->first_seq + 1 != in->nrec)
		return -EINVAL;
	if (w->cur) {
		err = segw_submit_cur(w);
		if (err)
			return err;
	}
	err = segw_start_block(w, lent);
	if (err)
		return err;
	if (!lent) /* a lent buffer holds the records where the block's go */
		memcpy(w->cur->mem + sizeof(struct seg_blk_hdr), in->data, in->used);
	w->cur_used = w->cur_crc_len = in->used;
	w->cur_crc = in->data_crc;
	w->cur_nrec = in->nrec;
	w->cur_first = in->first_seq;
	w->cur_last = in->last_seq;
	w->next_seq = in->last_seq + 1;
	if (in->max_ts > w->ts_hwm)
		w->ts_hwm = in->max_ts;
	w->st.records += in->nrec;
	w->st.bytes += in->bytes;
	return segw_submit_cur(w);
}

int seg_writer_flush(struct seg_writer *w, bool sync)
{
	struct segw_buf *b;
	int err = 0;

	if (w->cur && w->cur_used > w->cur_flushed && !w->cur_partial_inflight &&
	    (b = segw_buf_get(w))) {
		segw_sealed_wait(w, b->mem);
		memcpy(b->mem, w->cur->mem, sizeof(struct seg_blk_hdr) + w->cur_used);
		b->state = SEGW_FILL;
		b->partial = true;
		b->file = w->cur->file;
		b->blk_no = w->cur->blk_no;
		segw_seal_block(w, b, w->cur_used, w->cur_nrec, w->cur_last);
		err = segw_submit_buf(w, b, false);
		if (!err) {
			w->cur_flushed = w->cur_used;
			w->cur_partial_inflight = true;
		}
	}
	for (int i = 0; sync && i < SEGW_NFILE; i++)
		if (w->files[i].used && w->files[i].dirty)
			segw_submit_sync(w, &w->files[i]);
	return err ? err : segw_kick(w);
}

int seg_writer_poll(struct seg_writer *w, uint64_t now)
{
	int n = segw_reap(w, false);

	if (w->err && now >= w->retry_at)
		segw_retry(w);
	return n < 0 ? n : 0;
}

bool segw_busy(const struct seg_writer *w)
{
	for (int i = 0; i < SEGW_NBUF; i++)
		if (w->bufs[i].state == SEGW_INFLIGHT)
			return true;
	for (int i = 0; i < SEGW_NFILE; i++)
		if (w->files[i].used && w->files[i].inflight)
			return true;
	return false;
}

/* Wait for everything in flight; failed writes are retried once, then given up. */
static int segw_drain(struct seg_writer *w)
{
	bool retried = false;

	for (;;) {
		segw_kick(w);
		while (segw_busy(w))
			if (segw_reap(w, true) < 0)
				return -EIO;
		if (!w->err || w->err_op != SEGW_OP_WRITE || retried)
			return w->err;
		retried = true;
		segw_retry(w);
	}
}

int seg_writer_sync(struct seg_writer *w)
{
	int err = seg_writer_flush(w, false);

	if (!err)
		err = segw_drain(w);
	if (!err) {
		seg_writer_flush(w, true);
		err = segw_drain(w);
	}
	return err;
}

int seg_writer_finish(struct seg_writer *w)
{
	int err;

	if (w->cur)
		segw_submit_cur(w);
	segw_kick(w);
	err = segw_drain(w);
	if (!err) {
		seg_writer_flush(w, true);
		err = segw_drain(w);
	}
	return err;
}

int seg_writer_close(struct seg_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = seg_writer_finish(w);
	if (!w->o.fifo && w->act && w->act->fd >= 0 && w->act->end)
		if (ftruncate(w->act->fd, (off_t)w->act->end) && !err)
			err = -errno;
	if (!err)
		err = w->first_err;
	segw_sealed_wait(w, NULL);
	segw_io_exit(w);
	if (w->dirfd >= 0)
		fsync(w->dirfd); /* the renames and creations themselves */
	segw_dir_close(w);
	free(w->segs);
	free(w);
	return err;
}

int seg_writer_fd(const struct seg_writer *w)
{
	return w->efd;
}

void seg_writer_get_stats(const struct seg_writer *w, struct seg_writer_stats *out)
{
	*out = w->st;
	out->next_seq = w->next_seq;
	out->ts_hwm = w->ts_hwm;
	out->nsegs = w->nsegs;
	out->max_segs = w->max_segs;
	out->nblocks = w->nblocks;
	out->error = w->err;
	out->direct = w->direct;
}

void seg_writer_set_nonblock(struct seg_writer *w, bool nonblock)
{
	w->o.nonblock = nonblock;
}
