/* SPDX-License-Identifier: MIT */
/*
 * history.h - a bounded, already-written record stream behind the live ring:
 * the disk FIFO's segments, or a snapshot's. librawcap's cursor reads history
 * first and hands over to the ring at the first sequence number the ring
 * still holds, so one cursor runs from the oldest record on disk to the
 * newest in the ring without a seam.
 *
 * Records returned here live in the history's own buffers (never in shared
 * memory), so they stay valid until the next call.
 */
#ifndef RAWCAP_LIB_HISTORY_H
#define RAWCAP_LIB_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rawcap/rawcap.h>

struct history;

/*
 * Open the segments in dir (read-only). -ENOENT, -EACCES, -ENOTDIR, -ELOOP
 * (a symbolic link: not followed), -EBADMSG. Entries named like segments
 * that are not regular files owned by the directory's owner or root are
 * never read (storage/safe_open.h).
 */
int history_open(const char *dir, struct history **out);
/* The same, for a directory that must be owned by root or by owner. */
int history_open_owned(const char *dir, uid_t owner, struct history **out);
/* The same for dir relative to the directory atfd (AT_FDCWD: the current one). */
int history_openat(int atfd, const char *dir, struct history **out);
void history_close(struct history *h);

/* Position at oldest / a time / a sequence number. -ENOENT if past the newest record held. */
int history_seek(struct history *h, enum rawcap_seek whence, uint64_t value);

/*
 * Next record: 1 and *rec (source RAWCAP_SOURCE_DISK), 0 at the newest record
 * persisted so far (more may come), negative errno on failure. Damaged blocks
 * are skipped and counted in *corrupt; the records they held show up as a
 * sequence gap to the caller.
 */
int history_next(struct history *h, struct rawcap_rec *rec, uint64_t *corrupt);

/*
 * Oldest and newest sequence numbers held, and the timestamps of the oldest
 * record and the newest high-water mark, or -ENODATA if empty (-ENOMEM).
 * The oldest block, read and checked for its records' times, is kept for a
 * seek that starts there to deliver without reading it again.
 */
int history_bounds(struct history *h, uint64_t *oldest_seq, uint64_t *newest_seq,
		   uint64_t *oldest_ts, uint64_t *newest_ts);

/*
 * A sealed history has no writer appending to it (a snapshot, or a disk FIFO
 * read while capd is not running): an invalid block followed by valid ones
 * is always damage, skipped and counted. Unsealed (the default), such a gap
 * close to the end of the newest segment may be writes still in flight, and
 * history_next stops before it (returns 0) instead.
 */
void history_set_sealed(struct history *h, bool sealed);
/*
 * After history_next returned 0 at such a gap: give up waiting for it, count
 * it as damage and continue after it. 0, or -ENOENT if no gap is pending.
 * For a cursor whose ring no longer holds the records the gap lacks.
 */
int history_skip_hole(struct history *h);
/*
 * Segment files of the last listing whose intact header names another
 * segment format version (written by an older or newer rawcap): not read,
 * and so not in any window; the caller says so instead of "nothing held".
 */
struct history_foreign {
	uint64_t segments;     /* how many */
	uint64_t first_seg_no; /* the lowest-numbered one */
	uint32_t version;      /* its format version */
};
void history_get_foreign(const struct history *h, struct history_foreign *out);
/* Damaged blocks skipped since open, and the records their intact headers listed. */
void history_damage(const struct history *h, uint64_t *blocks, uint64_t *records);

/*
 * The loaded block, when rec (just returned by history_next) is its first
 * record: the checked header, followed in memory by its `used` bytes of
 * records, whose CRC-32C is the header's data_crc. NULL for any other
 * record. Valid until the next call on h. For whole-block copies.
 */
struct seg_blk_hdr;
const struct seg_blk_hdr *history_block(const struct history *h, const struct rawcap_rec *rec);
/*
 * Load the next blocks into buf (SEG_BLOCK_SIZE bytes; NULL: the history's
 * own buffer) from the next block load on: the block being read stays
 * where it is. buf stays the caller's, never freed here; the caller may
 * take it (and lend another) once the block in it has been read to its end.
 */
void history_lend(struct history *h, void *buf);

#endif
