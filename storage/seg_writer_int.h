/* SPDX-License-Identifier: MIT */
/*
 * seg_writer_int.h - the segment writer's state, shared by its files:
 * seg_writer.c (records into blocks), seg_segment.c (the segment files),
 * seg_io.c (io_uring) and seg_recover.c (what is on disk at open).
 */
#ifndef RAWCAP_SEG_WRITER_INT_H
#define RAWCAP_SEG_WRITER_INT_H

#include <liburing.h>
#include <limits.h>
#include <stdio.h>
#include <sys/types.h>

#include "seg_format.h"
#include "seg_writer.h"

#define SEGW_NBUF	    32 /* block buffers: 16 MiB of writes in flight at most */
#define SEGW_NFILE	    4  /* open segment files: the active one and those draining */
#define SEGW_POOL_SIZE	    ((size_t)SEGW_NBUF * SEG_BLOCK_SIZE) /* one mapping for all buffers */
#define SEGW_QD		    128
#define SEGW_BACKOFF_MIN_NS (100ull * 1000000ull)
#define SEGW_BACKOFF_MAX_NS (30ull * 1000000000ull)

enum segw_buf_state { SEGW_FREE, SEGW_FILL, SEGW_INFLIGHT, SEGW_FAILED, SEGW_LENT };
enum segw_tag { SEGW_TAG_BUF = 0, SEGW_TAG_HDR = 1, SEGW_TAG_SYNC = 2 };
enum segw_op { SEGW_OP_CREATE, SEGW_OP_WRITE, SEGW_OP_SYNC, SEGW_OP_NR };

struct segw_file {
	int fd;
	uint64_t seg_no;
	uint32_t inflight; /* writes and syncs not yet completed */
	bool used, active;
	bool hdr_failed;   /* header write to retry */
	bool dirty;	   /* written since the last fdatasync */
	bool sync_on_idle; /* left with a sync policy: fdatasync after its last write */
	uint64_t end;	   /* highest byte written (snapshots truncate to it) */
	void *hdr_buf;	   /* SEG_HDR_SIZE, aligned */
};

struct segw_buf {
	uint8_t *mem; /* SEG_BLOCK_SIZE, aligned */
	enum segw_buf_state state;
	uint16_t idx;
	bool partial; /* a copy of the filling block's prefix */
	struct segw_file *file;
	uint32_t blk_no, wlen;
};

struct seg_writer {
	struct seg_writer_opts o;
	char dir[PATH_MAX];
	int dirfd;
	int lockfd;    /* FIFO: holds the flock on DIR/capd.lock */
	uid_t dir_uid; /* the directory's owner: entries must be its or root's */
	struct io_uring ring;
	bool ring_ok, fixed_bufs, direct;
	bool restricted; /* the ring only runs writes and fsyncs (segw_io_init) */
	int efd;
	uint32_t nblocks, max_segs;
	uint64_t *segs; /* seg numbers on disk, oldest first */
	uint32_t nsegs, segs_cap;
	uint64_t last_seg_no; /* highest segment number ever used */
	struct segw_file files[SEGW_NFILE];
	struct segw_file *act; /* segment being written, NULL before the first */
	uint32_t blk;	       /* next block to start in act */
	struct segw_buf bufs[SEGW_NBUF];
	struct segw_buf *cur; /* block being filled */
	uint32_t cur_used, cur_nrec, cur_flushed;
	uint32_t cur_crc;     /* data CRC of the block's first cur_crc_len bytes */
	uint32_t cur_crc_len; /* summed when the block is sealed (whole or partial) */
	bool cur_partial_inflight;
	uint64_t cur_first, cur_last;
	uint64_t next_seq, ts_hwm, gen;
	uint32_t sq_pending;
	/* Error condition: log once, retry with backoff. */
	int err;
	enum segw_op err_op;
	int logged[SEGW_OP_NR];
	uint64_t retry_at, backoff;
	int first_err; /* for seg_writer_close */
	/* Recovery: a hole in the newest segment (see seg_writer_hole). */
	bool has_hole;
	uint32_t hole_blk;
	uint64_t hole_seq, hole_hwm;
	struct seg_writer_stats st;
};

void segw_log(struct seg_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log an error once per (operation, errno) and enter the error state with backoff. */
void segw_fail(struct seg_writer *w, enum segw_op op, int err, const char *what);
void segw_ok(struct seg_writer *w, enum segw_op op);

/* seg_segment.c: the next segment file, the writer switched to it; a snapshot's quota. */
int segw_next_segment(struct seg_writer *w);
int segw_quota_ok(const struct seg_writer *w);
int segw_reserve(struct seg_writer *w);

/* The sealed consumer must be done with buf (NULL: every buffer) before it is refilled or freed. */
static inline void segw_sealed_wait(struct seg_writer *w, const void *buf)
{
	if (w->o.sealed && w->o.sealed_wait)
		w->o.sealed_wait(w->o.sealed_arg, buf);
}

/* seg_io.c */
int segw_io_init(struct seg_writer *w);
void segw_io_exit(struct seg_writer *w);
struct segw_buf *segw_buf_get(struct seg_writer *w);
int segw_submit_buf(struct seg_writer *w, struct segw_buf *b, bool drain);
int segw_submit_hdr(struct seg_writer *w, struct segw_file *f);
int segw_submit_sync(struct seg_writer *w, struct segw_file *f);
int segw_kick(struct seg_writer *w);
int segw_reap(struct seg_writer *w, bool wait);
void segw_retry(struct seg_writer *w);
void segw_file_release(struct seg_writer *w, struct segw_file *f);
int segw_open_seg_fd(struct seg_writer *w, const char *name, int flags, mode_t mode);

/* seg_dir.c */
int segw_dir_open(struct seg_writer *w);
void segw_dir_close(struct seg_writer *w);
/* Remove an object at one of our names that open refused as a link or special file. */
bool segw_remove_odd(struct seg_writer *w, const char *name, int err, const char *why);

/* seg_recover.c */
int segw_recover(struct seg_writer *w);
int segw_segs_push(struct seg_writer *w, uint64_t seg_no);
bool segw_busy(const struct seg_writer *w);

static inline void segw_seg_name(char *buf, uint64_t seg_no)
{
	snprintf(buf, SEG_NAME_LEN + 1, SEG_NAME_FMT, (unsigned long long)seg_no);
}

#endif
