/* SPDX-License-Identifier: MIT */
/*
 * seg_writer.h - write records into a directory of segment files: the disk
 * FIFO (fixed total size, oldest segment recycled) or a snapshot (grows up
 * to a quota, never recycled). Same record framing as the ring, in
 * checksummed blocks with a per-segment time index; see storage/seg_format.h.
 * Read back with lib/history.h.
 */
#ifndef RAWCAP_SEG_WRITER_H
#define RAWCAP_SEG_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include <rawcap/format.h>

struct seg_writer;

struct seg_writer_opts {
	const char *dir;	/* created if missing (mode 0750); see seg_dir.c for the checks */
	uint64_t total_size;	/* FIFO: storage size; snapshot: quota (0 = unlimited) */
	uint64_t segment_size;	/* 0: derived from total_size */
	bool fifo;		/* recycle the oldest segment when full */
	bool direct_io;		/* try O_DIRECT, fall back (logged once) where refused */
	int gid;		/* group for readers, -1 to keep */
	uint64_t sync_interval_ns; /* fdatasync cadence; 0 = only on close */
	/* Added for the persister (zero values keep the snapshot behaviour above). */
	bool nonblock;		/* never wait for I/O: -EAGAIN when all buffers are in flight */
	bool chown_uid;		/* also give dir and segments to uid (capd's unprivileged user) */
	int uid;
	bool reg_buffers;	/* register the block buffers with io_uring (WRITE_FIXED) */
	const char *holder;	/* FIFO: who holds the directory's lock, e.g. "ring default" */
	bool sync_retired;	/* fdatasync each segment once left (writeback overlaps the rest) */
	/*
	 * Snapshot: a segment left, written in full and closed; its bytes are
	 * final. With sync_retired, reported only once its fdatasync succeeded:
	 * its data and size are durable, so the caller need not sync it again.
	 */
	void (*retired)(void *arg, uint64_t seg_no);
	void *retired_arg;
	/*
	 * Snapshot: the final bytes of a segment's header (off 0) or of a sealed
	 * block, as they are submitted: in file order, each once, the gaps
	 * between them holes that read as zeros. Never used with partial flushes.
	 */
	void (*sealed)(void *arg, uint64_t seg_no, uint64_t off, const void *buf, size_t len);
	void *sealed_arg;
	/*
	 * With sealed: the consumer may go on reading buf after sealed returns
	 * (hashing it on another thread while the write is in flight). The
	 * writer calls sealed_wait(sealed_arg, buf) before it refills a buffer
	 * it reported, and sealed_wait(sealed_arg, NULL) before it frees them;
	 * it returns once the consumer is done with buf (NULL: with every one).
	 * NULL: buf is the consumer's only during the call.
	 */
	void (*sealed_wait)(void *arg, const void *buf);
	/*
	 * Snapshot: called before the segments grow past `reserved` bytes (as the
	 * quota counts them: headers and whole blocks) with the total wanted, a
	 * multiple of reserve_step capped at total_size; 0 grants it, a negative
	 * errno (-EDQUOT) fails the write. NULL: no reservation.
	 */
	int (*reserve)(void *arg, uint64_t need_total);
	void *reserve_arg;
	uint64_t reserved;	/* bytes already granted before the first call */
	uint64_t reserve_step;	/* granularity of the requests; 0: one block */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

/* What seg_writer_open found on disk and what the writer has done since. */
struct seg_writer_stats {
	uint64_t next_seq;	  /* one past the newest record stored (0 if none) */
	uint64_t ts_hwm;	  /* newest timestamp stored */
	uint64_t records, bytes;  /* appended by this writer */
	uint64_t blocks_written, bytes_written, syncs;
	uint64_t write_errors;	  /* failed writes/creates (each retried) */
	uint64_t segments_recycled;
	uint32_t nsegs, max_segs, nblocks;
	int error;		  /* current error condition (negative errno), 0 if healthy */
	bool direct;		  /* O_DIRECT in use */
};

int seg_writer_open(const struct seg_writer_opts *o, struct seg_writer **out);
/* Append one record (header as in the ring, payload of hdr->len - sizeof(*hdr) bytes). */
int seg_write_record(struct seg_writer *w, const struct rawcap_rec_hdr *hdr, const void *payload);
/*
 * Append a whole block of records already framed as written here: data
 * holds `used` bytes of nrec records (sequence numbers first_seq..last_seq,
 * newest timestamp max_ts, lengths summing to bytes) whose CRC-32C is
 * data_crc, e.g. a checked block of another segment directory. It gets a
 * block of its own (a partly filled block is written first) with this
 * writer's segment and block numbers and stream high-water mark; its data
 * is not summed again. -EINVAL if it cannot be one block.
 */
struct seg_block_in {
	const void *data;
	uint32_t used, nrec, data_crc;
	uint64_t first_seq, last_seq, max_ts, bytes;
};
int seg_write_block(struct seg_writer *w, const struct seg_block_in *in);
/*
 * Snapshot: lend a free block buffer (SEG_BLOCK_SIZE bytes, page aligned)
 * for the caller to read a block into, header first; NULL if none. A
 * seg_write_block whose data is that buffer's records (buffer + 64) takes
 * it back and writes it without a copy; until then the writer never uses
 * it, and seg_writer_close frees it.
 */
void *seg_writer_lend(struct seg_writer *w);
/* Flush buffered blocks and fdatasync. */
int seg_writer_sync(struct seg_writer *w);
/* Flush, seal the active segment, close. Returns the first error seen, if any. */
int seg_writer_close(struct seg_writer *w);

/*
 * Segment geometry for a storage size: blocks per segment and segment count.
 * -EINVAL if a FIFO of total bytes cannot hold two segments (min in *min_total).
 */
int seg_geometry(uint64_t total, uint64_t segment_size, bool fifo, uint32_t *nblocks,
		 uint32_t *nsegs, uint64_t *min_total);
/* Non-blocking upkeep: submit queued I/O, reap completions, retry after errors. */
int seg_writer_poll(struct seg_writer *w, uint64_t now_mono_ns);
/* Write the partly filled block (and fdatasync if sync); does not wait. */
int seg_writer_flush(struct seg_writer *w, bool sync);
/* Readable (EPOLLIN) while I/O completions wait to be reaped: for epoll. */
int seg_writer_fd(const struct seg_writer *w);
void seg_writer_get_stats(const struct seg_writer *w, struct seg_writer_stats *out);
/*
 * Recovery after a crash: the newest segment may have a hole (a block whose
 * write never landed) before blocks that did. If so, *seq is the first
 * sequence number lost in it; seg_writer_rewind() then restarts writing at
 * the hole, so records re-persisted from the previous ring fill it in order.
 */
bool seg_writer_hole(const struct seg_writer *w, uint64_t *seq);
int seg_writer_rewind(struct seg_writer *w);
/* Write and sync everything queued and wait for it (close does this too). */
int seg_writer_finish(struct seg_writer *w);
/* Switch blocking mode (recovery at start-up blocks, the live persister does not). */
void seg_writer_set_nonblock(struct seg_writer *w, bool nonblock);

#endif
