/* SPDX-License-Identifier: MIT */
/*
 * rawcap/rawcap.h - librawcap: read a node's capture, live and from history.
 *
 * A cursor follows one node's record stream: the shm ring that capd writes
 * (live), and optionally the disk FIFO behind it (history) or a snapshot.
 * Each cursor is private to its reader: readers never write shared state, so
 * a reader can never slow, block or corrupt capd or another reader. A reader
 * that falls behind is lapped: it resumes at the oldest record still held,
 * and the records it missed are counted exactly, by sequence number.
 *
 * Records are delivered zero-copy. A record's payload lives in memory that
 * capd may overwrite while the reader looks at it, so after using a payload
 * call rawcap_rec_valid(): if it returns false, discard whatever was derived
 * from the payload (it is already counted as lost). rawcap_next_copy() does
 * this for you. Header fields copied into struct rawcap_rec are always valid.
 *
 * All functions that can fail return a negative errno; none prints anything.
 * Thread safety: a cursor is used by one thread at a time; distinct cursors
 * are independent.
 *
 *	struct rawcap_cursor *c;
 *	struct rawcap_rec rec;
 *	int err = rawcap_open("default", &c);
 *	if (err) return err;
 *	rawcap_seek(c, RAWCAP_SEEK_OLDEST, 0);
 *	while ((err = rawcap_wait(c, 1000)) >= 0)
 *		while (rawcap_next(c, &rec) > 0)
 *			if (rec.type == RAWCAP_REC_PACKET && use(&rec) && !rawcap_rec_valid(c, &rec))
 *				undo(&rec);
 *	rawcap_close(c);
 */
#ifndef RAWCAP_RAWCAP_H
#define RAWCAP_RAWCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rawcap/format.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAWCAP_API __attribute__((visibility("default")))

struct rawcap_cursor;

struct rawcap_open_opts {
	size_t sz;		 /* sizeof(struct rawcap_open_opts): lets the struct grow */
	const char *ring;	 /* ring name (NULL: "default"); ignored with snapshot */
	const char *storage_dir; /* disk FIFO to read history from; NULL: ring only */
	const char *snapshot;	 /* snapshot directory, walked: read it instead of ring and disk */
	bool no_ring;		 /* history only: do not attach to the live ring */
};

/* Open a cursor on the live ring `name` (NULL: "default"), positioned at its newest end. */
RAWCAP_API int rawcap_open(const char *ring_name, struct rawcap_cursor **out);
RAWCAP_API int rawcap_open_opts(const struct rawcap_open_opts *opts, struct rawcap_cursor **out);
RAWCAP_API void rawcap_close(struct rawcap_cursor *c);

enum rawcap_seek {
	RAWCAP_SEEK_OLDEST = 1, /* the oldest record held (disk history first, if open) */
	RAWCAP_SEEK_NEWEST = 2, /* after the newest record: only what is written from now on */
	RAWCAP_SEEK_TIME = 3,	/* first record with timestamp >= value (ns since the epoch) */
	RAWCAP_SEEK_SEQ = 4,	/* the record with sequence number value, or the next one held */
};

/*
 * Reposition the cursor. Seeking does not count as loss: loss is what the
 * cursor misses between two records it delivers. Returns 0, or -ENOENT for
 * a TIME/SEQ target past the newest record (the cursor is then at the newest end).
 */
RAWCAP_API int rawcap_seek(struct rawcap_cursor *c, enum rawcap_seek whence, uint64_t value);

struct rawcap_rec {
	uint64_t seq;
	uint64_t ts_ns;
	uint16_t type;	    /* enum rawcap_rec_type; never RAWCAP_REC_PAD */
	uint16_t flags;
	uint32_t len;	    /* payload length (record length minus header) */
	const void *payload; /* zero-copy; see rawcap_rec_valid() */
	uint64_t pos;	    /* opaque position, for rawcap_rec_valid() */
	uint32_t source;    /* enum rawcap_source the record came from */
	uint32_t reserved;
};

enum rawcap_source {
	RAWCAP_SOURCE_RING = 1,
	RAWCAP_SOURCE_DISK = 2,
	RAWCAP_SOURCE_SNAPSHOT = 3,
};

/*
 * Deliver the next record. Returns 1 with *rec filled, 0 when there is
 * nothing newer yet (see rawcap_wait), or a negative errno: -EBADMSG when the
 * ring holds bytes that are not records (the cursor skips ahead, so calling
 * again makes progress), -ENODATA at the end of a bounded source (snapshot,
 * or history-only cursor).
 */
RAWCAP_API int rawcap_next(struct rawcap_cursor *c, struct rawcap_rec *rec);

/*
 * True if rec's payload was not overwritten up to now. A false return counts
 * the record as lost. Cheap: one fence and one load.
 */
RAWCAP_API bool rawcap_rec_valid(struct rawcap_cursor *c, const struct rawcap_rec *rec);

/*
 * rawcap_next() plus a validated copy of the payload into buf (cap bytes).
 * rec->payload then points into buf. Returns as rawcap_next(), or -EMSGSIZE
 * if a payload is larger than cap (that record is skipped and counted).
 */
RAWCAP_API int rawcap_next_copy(struct rawcap_cursor *c, struct rawcap_rec *rec, void *buf,
				size_t cap);

/*
 * Block until a record may be available or timeout_ms passes (-1: forever).
 * Does not spin: sleeps on a futex that capd bumps per batch. Returns 1 if
 * data is available, 0 on timeout, -EINTR if a signal arrived. Notices a capd
 * restart (new ring generation) and reattaches.
 */
RAWCAP_API int rawcap_wait(struct rawcap_cursor *c, int timeout_ms);

struct rawcap_stats {
	uint64_t records;	 /* delivered */
	uint64_t bytes;		 /* payload bytes delivered */
	uint64_t records_lost;	 /* missed, by sequence numbers (lapped, torn, corrupt) */
	uint64_t times_lapped;	 /* how often the writer overtook this cursor */
	uint64_t torn_discarded; /* records rawcap_rec_valid() rejected (part of records_lost) */
	uint64_t corrupt;	 /* damaged ring bytes or disk blocks skipped */
	uint64_t generations;	 /* ring generations seen (restarts of capd + 1) */
};

RAWCAP_API void rawcap_get_stats(const struct rawcap_cursor *c, struct rawcap_stats *out);

/* Figures from the ring's header, for rawcap-stat and monitoring. */
struct rawcap_ring_info {
	uint64_t generation;
	uint64_t created_ns;
	uint64_t data_size;
	uint64_t head, tail;	/* positions: bytes written since creation, oldest held */
	uint64_t base_seq;	/* first sequence number of this generation */
	uint64_t next_seq;	/* sequence number the next record gets */
	uint64_t oldest_ts_ns;	/* 0 if the ring is empty */
	uint64_t newest_ts_ns;
	uint64_t heartbeat_ns;	/* capd refreshes it every second while alive */
	uint64_t records, bytes, packets, packet_bytes, wraps;
	uint64_t loss[16];	/* units lost upstream, by enum rawcap_loss_cause */
	uint32_t writer_pid;
	uint32_t retired;	/* a newer capd replaced this ring */
};

RAWCAP_API int rawcap_ring_info(struct rawcap_cursor *c, struct rawcap_ring_info *out);

/*
 * A loss cause (enum rawcap_loss_cause, or RAWCAP_LOSS_READER from
 * rawcap/window.h) as a short identifier for metrics labels and scripts
 * ("kernel_drop", "corrupt", "reader"), or as a phrase for people ("kernel
 * socket ring full"). NULL for a cause this library does not know. The one
 * table behind capd's capd_lost_total, rawcap-stat and the pcapng comments.
 */
RAWCAP_API const char *rawcap_loss_cause_name(uint32_t cause);
RAWCAP_API const char *rawcap_loss_cause_text(uint32_t cause);

/*
 * Is capd writing the ring? Judged once, here, for every reader: the state
 * capd left (stopped cleanly, or replaced the ring), whether any process
 * still holds the ring's writer lock (the kernel drops it when capd dies,
 * however it dies), and the age of its heartbeat (beaten every second; the
 * smaller of the wall-clock and monotonic ages, so a clock step fakes
 * neither). Returns an enum rawcap_writer_state and the heartbeat's age in
 * *silent_ns, or -ENODATA for a cursor without a ring. A cursor that follows
 * keeps waiting through any of them: rawcap_wait() picks up a restarted capd.
 */
enum rawcap_writer_state {
	RAWCAP_WRITER_RUNNING = 0, /* capd holds the ring and beats */
	RAWCAP_WRITER_STOPPED = 1, /* capd exited cleanly (SIGTERM) */
	RAWCAP_WRITER_GONE = 2,	   /* capd was killed or crashed: no process holds the ring */
	RAWCAP_WRITER_HUNG = 3,	   /* capd holds the ring, but beat last more than 5 s ago */
	RAWCAP_WRITER_RETIRED = 4, /* capd replaced the ring; the cursor moves to the new one */
};
RAWCAP_API int rawcap_writer_state(struct rawcap_cursor *c, uint64_t *silent_ns);
/* One line for the user: "capd is not running: it was killed or crashed (...)". Returns buf. */
RAWCAP_API const char *rawcap_writer_describe(int state, uint64_t silent_ns, char *buf, size_t len);
/*
 * For readers that follow: 1 and a line in buf when capd's state changed
 * since the last call ("capd is not running: it was killed or crashed (...);
 * waiting for it to restart", later "capd is running again (...)"), else 0.
 * Looks at most once a second; call it whenever rawcap_wait() returns.
 */
RAWCAP_API int rawcap_writer_news(struct rawcap_cursor *c, char *buf, size_t len);
/*
 * Why rawcap_open()/rawcap_open_opts() failed with err for ring, as one line
 * naming the object: a missing ring, permissions, or an object under the
 * ring's name that capd did not make (another user's file, a FIFO, a
 * symlink: refused, never read). Returns buf.
 */
RAWCAP_API const char *rawcap_ring_explain(const char *ring, int err, char *buf, size_t len);

/* Describe interface ifindex from the ring's interface table or IFACE records seen. */
RAWCAP_API int rawcap_iface_get(struct rawcap_cursor *c, uint32_t ifindex,
				struct rawcap_iface *out);

/* Views into a validated record. NULL/0 if the record is not of that type or too short. */
RAWCAP_API const struct rawcap_pkt *rawcap_rec_pkt(const struct rawcap_rec *rec,
						   const uint8_t **data, uint32_t *caplen);

/*
 * Parsing shared by capd and every reader (never printing).
 * Sizes, as Kubernetes quantities: "4096", "64k"/"64K" (x1000), "256M", "1G", "1T"
 * (powers of 1000), "64Ki", "256Mi", "1Gi", "1Ti" (powers of 1024); "B" suffix allowed.
 * Times: RFC 3339 ("2026-11-26T10:02:00Z", offsets and fractions allowed); a
 * date and time as logs and Wireshark print it, UTC unless a zone follows
 * ("2026-11-26 10:02:00", "2026-11-26 10:02", "2026-11-26 10:02:00.5 UTC",
 * "... +0200"); a time of now_ns's day in UTC ("10:02", "10:02:30.5"); unix
 * seconds with fraction ("1790000000.5"); "now"; or relative to now_ns ("-5m",
 * "-90s", "-1h30m", "+10s").
 * Durations: "5m", "90s", "1h30m", "250ms".
 */
RAWCAP_API int rawcap_parse_size(const char *s, uint64_t *out);
RAWCAP_API int rawcap_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns);
RAWCAP_API int rawcap_parse_duration(const char *s, uint64_t *out_ns);
/*
 * Every parser returns 0, -EINVAL (not of an accepted form) or -ERANGE (a
 * value that does not fit: a size or duration past 2^64 - 1, a time before
 * 1970 or after 2554-07-21T23:34:33Z). rawcap_parse_hint() gives the one
 * line a usage error prints after the bad value: why, and the forms accepted;
 * its err may also be -EDOM, for a caller that needs more than zero (a
 * window's --last, its --from/--to) and got zero.
 */
enum rawcap_parse_kind {
	RAWCAP_PARSE_SIZE,
	RAWCAP_PARSE_TIME,
	RAWCAP_PARSE_DURATION,
};
RAWCAP_API const char *rawcap_parse_hint(enum rawcap_parse_kind kind, int err);
/* "bad WHAT 'VALUE': " and the hint, into buf (what NULL: "size", "time" or "duration"). */
RAWCAP_API const char *rawcap_parse_error(enum rawcap_parse_kind kind, int err, const char *what,
					  const char *value, char *buf, size_t len);
/* Format ns since the epoch as RFC 3339 UTC with nanoseconds; returns buf. */
RAWCAP_API const char *rawcap_format_time(uint64_t ts_ns, char *buf, size_t len);
RAWCAP_API uint64_t rawcap_now_ns(void);

RAWCAP_API const char *rawcap_version(void);

/*
 * Open path for a reader's output ("-", /dev/stdout, /dev/fd/1: standard
 * output, returned as 1).
 * It must be a regular file or the null device (1:3, as tcpdump -w /dev/null):
 * a symbolic link is not followed (-ELOOP), a FIFO, socket or other device is refused (-EBADFD; write to standard output to
 * feed a pipe), a directory too (-EISDIR). A new file gets mode 0640; an
 * existing one is truncated and loses any access by "other", or is refused
 * (-EPERM) where this user may not change its mode. Returns the fd, or
 * -errno with what was wrong in why (if not NULL).
 */
RAWCAP_API int rawcap_output_open(const char *path, char *why, size_t whylen);
/*
 * Whether rawcap_output_open() and _create() take path for standard output
 * (fd 1): "-", /dev/stdout, /dev/fd/1 or /proc/self/fd/1. For a caller's own
 * checks (binary to a terminal, an output that is also an input). New in
 * RAWCAP_0.2.
 */
RAWCAP_API bool rawcap_output_is_stdout(const char *path);
/*
 * rawcap_output_open(), and *created says whether the file is new (made by
 * this call), so a reader that fails before its first packet can take it
 * back with rawcap_output_failed(). A file that was there is not emptied:
 * the fd is a temporary file beside it (.NAME-XXXXXX), which
 * rawcap_output_commit() renames over it once the export has succeeded, and
 * rawcap_output_failed() renames (packets) or removes (none); call one of
 * them before closing the fd. The temporary is locked while it is written;
 * those of exports killed outright are removed by the next create of the
 * same name (lib/output_tmp.c). (A file of another user's, one with other
 * hard links, or one in a directory this user cannot add to is emptied in
 * place instead, as rawcap_output_open() does.)
 */
RAWCAP_API int rawcap_output_create(const char *path, bool *created, char *why, size_t whylen);
/*
 * rawcap_output_create() for an output read while it grows (--follow): a
 * file that was there is emptied in place at once, as tcpdump -w does, so
 * whoever reads the name sees the export as it is written; nothing is to
 * commit (rawcap_output_commit() is a no-op on it). *created as above.
 */
RAWCAP_API int rawcap_output_create_live(const char *path, bool *created, char *why,
					 size_t whylen);
/*
 * rawcap_output_create() for an output that may also be an input (merge -o
 * one of the files merged): a file that was there is only ever written
 * beside, and read meanwhile as it was; where it would be emptied in place
 * instead it is refused (-EBUSY, why says so) and left as it was. New in
 * RAWCAP_0.2.
 */
RAWCAP_API int rawcap_output_create_beside(const char *path, bool *created, char *why,
					   size_t whylen);
/*
 * The export into fd (from rawcap_output_create) is done: its temporary
 * file, if it has one, replaces the old file. 0 or -errno (the old file
 * stays then); fd stays open either way.
 */
RAWCAP_API int rawcap_output_commit(int fd);
/*
 * rawcap_output_commit(), and what went wrong said to err ("PROG: ..."):
 * the old file left as it was (a write or sync failed), or kept and the
 * export beside it under a name given (the name now names something else:
 * a link, a directory, another file; or the rename failed). 0 or -errno.
 */
RAWCAP_API int rawcap_output_finish(FILE *err, const char *prog, const char *path, int fd);
/*
 * A write into fd (from rawcap_output_create) failed with err (a full disk):
 * what it holds is not the export, so it never replaces the old file
 * (rawcap_output_failed and _finish remove it). The pcap writer says so
 * itself; a caller writing fd by other means calls this.
 */
RAWCAP_API void rawcap_output_broken(int fd, int err);
/*
 * After a failed export into fd (opened by rawcap_output_create): a file it
 * created that holds no packet is removed (if path still names it); one
 * that holds packets is kept and said (to err, "PROG: ...") to be partial;
 * a file that was there is left as it was, or replaced by a partial export
 * that holds packets (as rawcap_output_finish; said either way); one
 * emptied in place is said to hold no packet now. Not for standard output
 * (fd 1, under any name rawcap_output_is_stdout() takes).
 */
RAWCAP_API void rawcap_output_failed(FILE *err, const char *prog, const char *path, int fd,
				     bool created, uint64_t packets);
/*
 * strerror(-err) in rawcap's words where rawcap gives an errno a meaning:
 * -ELOOP is a symbolic link rawcap does not follow, -EBADFD a FIFO, socket
 * or device where a regular file was expected.
 */
RAWCAP_API const char *rawcap_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_RAWCAP_H */
