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
	const char *dir;	/* created if missing (mode 0750) */
	uint64_t total_size;	/* FIFO: storage size; snapshot: quota (0 = unlimited) */
	uint64_t segment_size;	/* 0: derived from total_size */
	bool fifo;		/* recycle the oldest segment when full */
	bool direct_io;		/* try O_DIRECT, fall back (logged once) where refused */
	int gid;		/* group for readers, -1 to keep */
	uint64_t sync_interval_ns; /* fdatasync cadence; 0 = only on close */
};

int seg_writer_open(const struct seg_writer_opts *o, struct seg_writer **out);
/* Append one record (header as in the ring, payload of hdr->len - sizeof(*hdr) bytes). */
int seg_write_record(struct seg_writer *w, const struct rawcap_rec_hdr *hdr, const void *payload);
/* Flush buffered blocks and fdatasync. */
int seg_writer_sync(struct seg_writer *w);
/* Flush, seal the active segment, close. Returns the first error seen, if any. */
int seg_writer_close(struct seg_writer *w);

#endif
