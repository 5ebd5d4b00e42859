// SPDX-License-Identifier: MIT
/*
 * seg_io.c - the segment writer's I/O: block writes, header writes and
 * fdatasyncs through one io_uring, completions signalled on an eventfd.
 *
 * Writes are queued as SQEs and submitted in one syscall per pump
 * (segw_kick). A failed write keeps its buffer and is resubmitted after a
 * backoff, so an error costs buffers, never CPU: when all buffers wait, the
 * writer refuses records (-EAGAIN) and the persister falls behind, which is
 * counted as loss. O_DIRECT refused at write time (EINVAL) is turned off
 * for every file with F_SETFL and the write is retried buffered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/mman.h>

#include "crc32c.h"
#include "seg_read.h"
#include "safe_open.h"
#include "seg_writer_int.h"

#define SEGW_UD(tag, ptr) ((uint64_t)(uintptr_t)(ptr) | (tag))
#define SEGW_UD_TAG(ud)	  ((unsigned)((ud)&3))
#define SEGW_UD_PTR(ud)	  ((void *)(uintptr_t)((ud) & ~(uint64_t)3))

/*
 * The ring is created disabled, so that it can be limited to what the writer
 * submits before it runs anything (segw_ring_restrict). Kernels before 5.10
 * know neither: the ring is then created plain, and that is logged.
 */
static int segw_ring_init(struct seg_writer *w)
{
	struct io_uring_params p = {.flags = IORING_SETUP_R_DISABLED};
	int err = io_uring_queue_init_params(SEGW_QD, &w->ring, &p);

	if (err == -EINVAL) {
		segw_log(w, "io_uring restrictions unavailable (kernel before 5.10): "
			    "an unrestricted ring");
		return io_uring_queue_init(SEGW_QD, &w->ring, 0);
	}
	w->restricted = err == 0;
	return err;
}

/*
 * io_uring_register(2) itself: Debian 12's liburing 2.3 declares
 * io_uring_register_restrictions() and io_uring_enable_rings() but does not
 * export them.
 */
static int segw_uring_register(struct seg_writer *w, unsigned op, void *arg, unsigned nr)
{
	return syscall(SYS_io_uring_register, w->ring.ring_fd, op, arg, nr) ? -errno : 0;
}

/*
 * Only writes (plain and fixed-buffer), fsync and the drain flag, and no
 * registration at all from now on: whatever runs in capd later, even code
 * that took over the process, cannot use this ring to open, connect or read
 * around the seccomp allow-list. Then the ring is enabled.
 */
static int segw_ring_restrict(struct seg_writer *w)
{
	struct io_uring_restriction res[] = {
		{.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITE},
		{.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITE_FIXED},
		{.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC},
		{.opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = IOSQE_IO_DRAIN},
	};
	int err = segw_uring_register(w, IORING_REGISTER_RESTRICTIONS, res,
				      sizeof(res) / sizeof(res[0]));

	if (!err)
		err = segw_uring_register(w, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (err)
		segw_log(w, "restricting io_uring failed: %s", strerror(-err));
	return err;
}

int segw_io_init(struct seg_writer *w)
{
	struct iovec iov[SEGW_NBUF];
	int err;

	/*
	 * One zeroed, pre-faulted mapping for all block buffers: populating it in
	 * one call is ~20x faster than first-touch faults plus a memset, where
	 * page faults are dear (measured on a loaded 2-core VM: 16 MiB in 30-90 ms
	 * instead of 0.7-1.7 s). Page aligned, so O_DIRECT aligned.
	 */
	uint8_t *pool = mmap(NULL, SEGW_POOL_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (pool == MAP_FAILED)
		return -ENOMEM;
	for (int i = 0; i < SEGW_NBUF; i++) {
		w->bufs[i].mem = pool + (size_t)i * SEG_BLOCK_SIZE;
		w->bufs[i].idx = (uint16_t)i;
		iov[i].iov_base = w->bufs[i].mem;
		iov[i].iov_len = SEG_BLOCK_SIZE;
	}
	for (int i = 0; i < SEGW_NFILE; i++) {
		w->files[i].fd = -1;
		if (posix_memalign(&w->files[i].hdr_buf, SEG_IO_ALIGN, SEG_HDR_SIZE))
			return -ENOMEM;
		memset(w->files[i].hdr_buf, 0, SEG_HDR_SIZE);
	}
	err = segw_ring_init(w);
	if (err)
		return err;
	w->ring_ok = true;
	/*
	 * The ring's own fd is what epoll watches: it is readable exactly while
	 * completions wait in the CQ, so reaping them is all it takes to quiet
	 * it (an eventfd would cost a read() per pump to reset).
	 */
	w->efd = w->ring.ring_fd;
	if (w->o.reg_buffers) {
		/* Pins the pages once instead of per write; measured in bench/run-disk.sh. */
		err = io_uring_register_buffers(&w->ring, iov, SEGW_NBUF);
		w->fixed_bufs = err == 0;
		if (err)
			segw_log(w, "registering buffers failed (%s): plain writes",
				 strerror(-err));
	}
	return w->restricted ? segw_ring_restrict(w) : 0;
}

void segw_io_exit(struct seg_writer *w)
{
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	w->ring_ok = false;
	w->efd = -1;
	if (w->bufs[0].mem)
		munmap(w->bufs[0].mem, SEGW_POOL_SIZE);
	for (int i = 0; i < SEGW_NBUF; i++)
		w->bufs[i].mem = NULL;
	for (int i = 0; i < SEGW_NFILE; i++) {
		if (w->files[i].fd >= 0)
			close(w->files[i].fd);
		free(w->files[i].hdr_buf);
	}
}

struct segw_buf *segw_buf_get(struct seg_writer *w)
{
	for (int i = 0; i < SEGW_NBUF; i++)
		if (w->bufs[i].state == SEGW_FREE)
			return &w->bufs[i];
	return NULL;
}

static struct io_uring_sqe *segw_sqe(struct seg_writer *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		segw_kick(w);
		sqe = io_uring_get_sqe(&w->ring);
	}
	if (sqe)
		w->sq_pending++;
	return sqe;
}

int segw_submit_buf(struct seg_writer *w, struct segw_buf *b, bool drain)
{
	struct io_uring_sqe *sqe = segw_sqe(w);
	off_t off = (off_t)seg_blk_off(b->blk_no);

	if (!sqe)
		return -EBUSY;
	if (w->fixed_bufs)
		io_uring_prep_write_fixed(sqe, b->file->fd, b->mem, b->wlen, off, b->idx);
	else
		io_uring_prep_write(sqe, b->file->fd, b->mem, b->wlen, off);
	if (drain)
		sqe->flags |= IOSQE_IO_DRAIN;
	io_uring_sqe_set_data64(sqe, SEGW_UD(SEGW_TAG_BUF, b));
	b->state = SEGW_INFLIGHT;
	b->file->inflight++;
	b->file->dirty = true;
	return 0;
}

int segw_submit_hdr(struct seg_writer *w, struct segw_file *f)
{
	struct io_uring_sqe *sqe = segw_sqe(w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_write(sqe, f->fd, f->hdr_buf, SEG_HDR_SIZE, 0);
	io_uring_sqe_set_data64(sqe, SEGW_UD(SEGW_TAG_HDR, f));
	f->inflight++;
	f->hdr_failed = false;
	f->dirty = true; /* a header retried after the file's sync needs one more */
	return 0;
}

int segw_submit_sync(struct seg_writer *w, struct segw_file *f)
{
	struct io_uring_sqe *sqe = segw_sqe(w);

	if (!sqe)
		return -EBUSY;
	/*
	 * No drain: the sync covers the writes completed so far and never stalls
	 * the queue behind it; writes still in flight are covered by the next one.
	 */
	io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, SEGW_UD(SEGW_TAG_SYNC, f));
	f->inflight++;
	f->dirty = false;
	return 0;
}

int segw_kick(struct seg_writer *w)
{
	int ret;

	if (!w->sq_pending)
		return 0;
	ret = io_uring_submit(&w->ring);
	if (ret < 0)
		return ret;
	w->sq_pending = 0;
	return 0;
}

/* The file system refused O_DIRECT for a write: go buffered everywhere, once. */
static void segw_drop_direct(struct seg_writer *w)
{
	if (!w->direct)
		return;
	w->direct = false;
	segw_log(w, "O_DIRECT writes refused in %s (EINVAL): using buffered writes", w->dir);
	for (int i = 0; i < SEGW_NFILE; i++) {
		int fd = w->files[i].fd;

		if (fd >= 0)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
	}
}

/* A block of f waits to be written again: its contents are not final. */
static bool segw_file_failed(const struct seg_writer *w, const struct segw_file *f)
{
	for (int i = 0; i < SEGW_NBUF; i++)
		if (w->bufs[i].state == SEGW_FAILED && w->bufs[i].file == f)
			return true;
	return false;
}

void segw_file_release(struct seg_writer *w, struct segw_file *f)
{
	if (f->used && !f->active && f->inflight == 0 && f->sync_on_idle) {
		/* A segment we left: sync it once its last write has landed. */
		f->sync_on_idle = false;
		if (segw_submit_sync(w, f) == 0)
			return;
	}
	if (f->used && !f->active && f->inflight == 0 && !f->hdr_failed) {
		close(f->fd);
		f->fd = -1;
		f->used = false;
		/* dirty: written since its last fdatasync, or that sync failed */
		if (w->o.retired && !w->o.fifo && !segw_file_failed(w, f) &&
		    !(w->o.sync_retired && f->dirty))
			w->o.retired(w->o.retired_arg, f->seg_no);
	}
}

static bool segw_buf_pending(const struct seg_writer *w)
{
	for (int i = 0; i < SEGW_NBUF; i++)
		if (w->bufs[i].state == SEGW_FAILED)
			return true;
	for (int i = 0; i < SEGW_NFILE; i++)
		if (w->files[i].used && w->files[i].hdr_failed)
			return true;
	return false;
}

/*
 * A write that wrote less than asked (res >= 0): on a regular file that is a file
 * system that filled up, the kernel saying -ENOSPC only on the next write. Said as
 * such: as -EIO a full disk read as a failing one ("copy the window: Input/output
 * error" from a snapshot create on a full file system).
 */
static int segw_short_err(int res)
{
	return res < 0 ? res : -ENOSPC;
}

static void segw_complete_buf(struct seg_writer *w, struct segw_buf *b, int res)
{
	struct segw_file *f = b->file;

	f->inflight--;
	if (res == (int)b->wlen) {
		uint64_t end = seg_blk_off(b->blk_no) + b->wlen;

		if (end > f->end)
			f->end = end;
		if (b->partial)
			w->cur_partial_inflight = false;
		b->state = SEGW_FREE;
		w->st.blocks_written++;
		w->st.bytes_written += b->wlen;
		if (!segw_buf_pending(w))
			segw_ok(w, SEGW_OP_WRITE);
		return;
	}
	if (res == -EINVAL && w->direct) {
		segw_drop_direct(w);
		segw_submit_buf(w, b, false);
		return;
	}
	w->st.write_errors++;
	if (b->partial) {
		/* Never retried: it could land after the full block. The full write carries it. */
		b->state = SEGW_FREE;
		w->cur_partial_inflight = false;
	} else {
		b->state = SEGW_FAILED; /* keep it: resubmitted after the backoff */
	}
	segw_fail(w, SEGW_OP_WRITE, segw_short_err(res), "writing a block");
}

static void segw_complete(struct seg_writer *w, uint64_t ud, int res)
{
	struct segw_file *f = SEGW_UD_PTR(ud);

	switch (SEGW_UD_TAG(ud)) {
	case SEGW_TAG_BUF:
		f = ((struct segw_buf *)SEGW_UD_PTR(ud))->file;
		segw_complete_buf(w, SEGW_UD_PTR(ud), res);
		break;
	case SEGW_TAG_HDR:
		f->inflight--;
		if (res == -EINVAL && w->direct) {
			segw_drop_direct(w);
			segw_submit_hdr(w, f);
		} else if (res != (int)SEG_HDR_SIZE) {
			f->hdr_failed = true;
			w->st.write_errors++;
			segw_fail(w, SEGW_OP_WRITE, segw_short_err(res),
				  "writing a segment header");
		}
		break;
	case SEGW_TAG_SYNC:
		f->inflight--;
		if (res < 0) {
			f->dirty = true;
			w->st.write_errors++;
			segw_fail(w, SEGW_OP_SYNC, res, "fdatasync");
		} else {
			w->st.syncs++;
			segw_ok(w, SEGW_OP_SYNC);
		}
		break;
	}
	segw_file_release(w, f);
}

int segw_reap(struct seg_writer *w, bool wait)
{
	struct io_uring_cqe *cqe;
	int n = 0, err;

	err = segw_kick(w);
	if (err)
		return err;
	if (wait) {
		err = io_uring_wait_cqe(&w->ring, &cqe);
		if (err && err != -EINTR)
			return err;
	}
	while (io_uring_peek_cqe(&w->ring, &cqe) == 0) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&w->ring, cqe);
		segw_complete(w, ud, res);
		n++;
	}
	return n;
}

/* After the backoff: resubmit failed writes (in block order, oldest first). */
void segw_retry(struct seg_writer *w)
{
	for (int i = 0; i < SEGW_NFILE; i++)
		if (w->files[i].used && w->files[i].hdr_failed)
			segw_submit_hdr(w, &w->files[i]);
	for (int i = 0; i < SEGW_NBUF; i++)
		if (w->bufs[i].state == SEGW_FAILED)
			segw_submit_buf(w, &w->bufs[i], false);
	segw_kick(w);
}

int segw_open_seg_fd(struct seg_writer *w, const char *name, int flags, mode_t mode)
{
	struct safe_want want = safe_want_file(w->dir_uid, 0);
	int fd = -1;

	flags |= O_RDWR;
	if (w->direct) {
		fd = safe_openat(w->dirfd, name, flags | O_DIRECT, mode, &want, NULL, NULL, 0);
		if (fd == -EINVAL) {
			w->direct = false;
			segw_log(w, "O_DIRECT not supported in %s (EINVAL): using buffered writes",
				 w->dir);
		}
	}
	if (fd < 0 && !w->direct)
		fd = safe_openat(w->dirfd, name, flags, mode, &want, NULL, NULL, 0);
	if (fd < 0)
		return fd;
	if ((flags & O_CREAT) &&
	    (fchmod(fd, 0640) ||
	     fchown(fd, w->o.chown_uid ? (uid_t)w->o.uid : (uid_t)-1, (gid_t)w->o.gid))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}
