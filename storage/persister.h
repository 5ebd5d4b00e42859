/* SPDX-License-Identifier: MIT */
/*
 * persister.h - capd's disk FIFO writer: follows the ring it owns and
 * persists every published record into segment storage (seg_writer.h).
 *
 * It runs on capd's one writer thread and never blocks it: the ring is read
 * from the persister's own position like a reader would, records are copied
 * into block buffers and written with io_uring. If I/O cannot keep up or
 * fails, the ring laps the persister: the records lost to disk are counted
 * (RAWCAP_LOSS_PERSIST_LAPPED, or RAWCAP_LOSS_DISK_ERROR while writes fail)
 * and a LOSS record saying so is written to the ring, and so to disk.
 *
 * capd's calls, in order:
 *	persister_open(&opts, &p)          recover the disk position
 *	ring_prev_open() + persister_recover_prev(p, &prev)   if an old ring exists
 *	ring_writer_create(.base_seq = persister_next_seq(p))
 *	ring_prev_retire(&prev)
 *	persister_attach(p, &ring); epoll_ctl(ADD, persister_fd(p))
 *	loop: after every ring_publish(): persister_pump(p, &ring)
 *	      when persister_fd(p) is readable and on the 1 s tick: persister_pump(p, &ring)
 *	persister_close(p)                 flush and fdatasync (after the last publish)
 */
#ifndef RAWCAP_PERSISTER_H
#define RAWCAP_PERSISTER_H

#include <stdbool.h>
#include <stdint.h>

#include "ring_prev.h"
#include "ring_writer.h"

struct persister;

struct persister_opts {
	const char *dir;	   /* storage directory, created 0750 if missing */
	uint64_t size;		   /* total storage size (--storage-size), >= two segments */
	uint64_t segment_size;	   /* 0: derived (size / 16, at most 256 MiB) */
	bool direct_io;		   /* O_DIRECT where the file system allows it */
	uint64_t sync_interval_ns; /* durability: fdatasync this often; 0: never (close only) */
	int uid, gid;		   /* owner (capd's user) and readers' group; -1 keeps */
	bool reg_buffers;	   /* io_uring registered buffers */
	const char *holder;	   /* named to a second writer of dir, e.g. "ring default" */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

struct persister_stats {
	uint64_t records, bytes;     /* persisted (queued to disk) */
	uint64_t lapped_records;     /* lost to disk because the ring overtook us */
	uint64_t disk_error_records; /* lost to disk while writes were failing */
	uint64_t lapped_events;
	uint64_t recovered_records; /* persisted from the previous ring at start-up */
	uint64_t blocks_written, bytes_written, syncs, write_errors, segments_recycled;
	uint64_t behind_bytes; /* ring bytes published but not yet persisted */
	uint32_t nsegs, max_segs;
	int error; /* current disk error condition, 0 if healthy */
	bool direct;
};

/* Logs one clear line and returns -EINVAL if size cannot hold two segments. */
int persister_open(const struct persister_opts *o, struct persister **out);
/* The sequence number the (new) ring must start at: continues what is on disk. */
uint64_t persister_next_seq(const struct persister *p);
/*
 * Persist what the previous capd's ring holds and the disk does not (after a
 * crash: the shm object outlives the process). Blocks until written.
 */
int persister_recover_prev(struct persister *p, const struct ring_prev *prev);
/* Start following w from the first record this generation writes. */
int persister_attach(struct persister *p, struct ring_writer *w);
/* Readable when I/O completes: call persister_pump. */
int persister_fd(const struct persister *p);
/* Copy newly published records into blocks, submit writes, reap, retry. Never blocks. */
void persister_pump(struct persister *p, struct ring_writer *w);
void persister_get_stats(const struct persister *p, struct persister_stats *out);
/* Persist everything published, fdatasync, close (final figures in *st if not NULL). */
int persister_close(struct persister *p, struct ring_writer *w, struct persister_stats *st);

#endif
