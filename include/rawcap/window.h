/* SPDX-License-Identifier: MIT */
/*
 * rawcap/window.h - the reader loop every exporting reader shares: open a
 * cursor (ring, disk FIFO or snapshot), seek to a start time, deliver the
 * records of a time window (or follow the live end), apply a filter, keep
 * track of interfaces and loss, and hand the result to a sink.
 *
 * rawcap-pcap and rawcap-server plug in the pcap/pcapng sink
 * (rawcap_pcap_sink), the snapshotter a segment-file sink, rawcap-tap a sink
 * that prints metadata records, and each rawcap-forward receiver the pcap
 * sink or its msgpack frames, stepped from the forwarder's poll loop with
 * pacing and back-pressure. A sink is a set of callbacks; any of them may
 * be NULL.
 *
 * Loss is reported, never hidden: records the cursor missed (lapped,
 * damaged) and loss records written upstream reach sink->loss before the
 * next packet; the part of the window that was already recycled before the
 * export started is returned in the result.
 */
#ifndef RAWCAP_WINDOW_H
#define RAWCAP_WINDOW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rawcap/rawcap.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAWCAP_LOSS_READER 0 /* cause for records the reading cursor missed */

struct rawcap_window_pkt {
	const struct rawcap_rec *rec;
	const struct rawcap_pkt *pkt;
	const uint8_t *data;
	uint32_t caplen;
	const char *comment; /* from the context hook; "" when it has nothing */
};

struct rawcap_sink {
	void *ctx;
	/* An interface is described (before its first packet, and on changes). */
	int (*iface)(void *ctx, const struct rawcap_iface *ifc);
	/* A packet inside the window that passed the filter. */
	int (*packet)(void *ctx, const struct rawcap_window_pkt *p);
	/* count units lost (cause: enum rawcap_loss_cause or RAWCAP_LOSS_READER) before what
	 * follows. */
	int (*loss)(void *ctx, uint32_t ifindex, uint64_t count, uint32_t cause);
	/* Every record kept, in native framing (packets after the filter), for copying sinks. */
	int (*record)(void *ctx, const struct rawcap_rec *rec);
	/* Write out buffered output: at the end, and in follow mode when idle. */
	int (*flush)(void *ctx);
};

/*
 * Context hook: write a comment for a packet into buf (cap bytes, NUL
 * terminated) and return its length, 0 for none. rawcap_meta_join_attach()
 * sets it to name each packet's pods, namespaces and processes.
 */
typedef size_t (*rawcap_context_fn)(void *arg, const struct rawcap_rec *rec,
				    const struct rawcap_pkt *pkt, char *buf, size_t cap);

struct rawcap_window_result;
typedef void (*rawcap_progress_fn)(void *arg, const struct rawcap_window_result *sofar);

struct rawcap_window_opts {
	size_t sz;		 /* sizeof(struct rawcap_window_opts) */
	const char *ring;	 /* NULL: "default" */
	const char *storage_dir; /* disk FIFO, or NULL */
	const char *snapshot;	 /* snapshot directory: read it instead */
	uint64_t from_ns;	 /* 0: oldest held (follow: now) */
	uint64_t to_ns;		 /* 0: now when the export starts (follow: never) */
	bool follow;		 /* keep delivering new records until *stop or to_ns */
	const char *filter;	 /* pcap filter expression, or NULL */
	int flush_ms;		 /* follow/stream: flush at least this often when idle; 0: 200 */
	volatile sig_atomic_t *stop; /* set from a signal handler to end the loop */
	rawcap_context_fn context;
	void *context_arg;
	rawcap_progress_fn progress; /* called about once a second */
	void *progress_arg;
	/*
	 * Pod awareness (rawcap/meta.h; rawcap_meta_join_attach() sets these):
	 * meta sees every metadata record the loop meets, in stream order,
	 * including those of the meta_lookback_ns before from_ns; select, after
	 * the filter, drops a packet when it returns false (counted in unselected).
	 */
	int (*meta)(void *arg, const struct rawcap_rec *rec);
	bool (*select)(void *arg, const struct rawcap_rec *rec, const struct rawcap_pkt *pkt);
	void *meta_arg;
	uint64_t meta_lookback_ns;
	/*
	 * Follow mode: called with one line of news about capd
	 * (rawcap_writer_news(): it stopped, was killed, hangs, is back) while
	 * the loop keeps waiting for records. Optional.
	 */
	void (*notice)(void *arg, const char *line);
	void *notice_arg;
	/*
	 * Where the run says, in one line, why it failed when the errno alone
	 * does not (a bad filter, -EINVAL). NULL allowed.
	 */
	char *why;
	size_t whylen;
	/*
	 * Appended fields (sz tells the window whether a caller has them;
	 * older callers get them zeroed).
	 *
	 * Sequence gaps inside the window: count records from first_seq on
	 * that the cursor missed (lapped, damaged, recycled), said before the
	 * next record, with a reason from enum rawcap_stream_gap_reason
	 * (rawcap/forward.h): RAWCAP_STREAM_GAP_LAPPED, or
	 * RAWCAP_STREAM_GAP_SKIPPED for a filtered snapshot's gaps by design
	 * (which are not loss). It is called as well as sink->loss (which gets
	 * the reader loss without sequence numbers, as the pcap sink wants);
	 * a sink that frames gaps itself (rawcap-forward's msgpack GAP frame)
	 * sets this. Returns as a sink hook (0, a negative errno, or
	 * RAWCAP_SINK_PAUSE). Optional.
	 */
	int (*gap)(void *arg, uint64_t first_seq, uint64_t count, uint32_t reason);
	void *gap_arg;
	/*
	 * Where the cursor starts (from_ns and to_ns still cut the window):
	 * RAWCAP_WINDOW_START_FROM (0) at from_ns as above;
	 * RAWCAP_WINDOW_START_SEQ at the record numbered start_seq, a resume
	 * point: records from start_seq on that are no longer held reach the
	 * gap hook before the first record, reason RAWCAP_STREAM_GAP_RECYCLED;
	 * RAWCAP_WINDOW_START_NEWEST after the newest record (live: only what
	 * is written from now on). With either of these, from_ns 0 sets no
	 * lower bound (follow does not start the window at now), and a meta
	 * hook with meta_lookback_ns first gets the metadata stamped in the
	 * lookback before from_ns (0: the time of opening), read in the first
	 * steps, before the cursor moves to the start.
	 */
	int start;
	uint64_t start_seq;
	/*
	 * Replay pacing: deliver records at pace times the speed they were
	 * captured at (1: real time), counted from the first record inside
	 * the window (and again after rawcap_window_resume()); 0: as fast as
	 * the sink takes them. A record not yet due is kept, and the step
	 * returns -EAGAIN; rawcap_window_due_ms() says when it is due.
	 */
	double pace;
};
enum { RAWCAP_WINDOW_START_FROM = 0, RAWCAP_WINDOW_START_SEQ = 1, RAWCAP_WINDOW_START_NEWEST = 2 };
/* The size of struct rawcap_window_opts before the appended fields. */
#define RAWCAP_WINDOW_OPTS_SZ0 offsetof(struct rawcap_window_opts, gap)

struct rawcap_window_result {
	uint64_t records;		  /* records handed to the sink */
	uint64_t packets;		  /* packets handed to the sink */
	uint64_t packet_bytes;		  /* their captured bytes */
	uint64_t filtered;		  /* packets the filter rejected */
	uint64_t lost_reader;		  /* records missed by the cursor inside the window */
	uint64_t lost_upstream;		  /* units lost upstream, from loss records in the window */
	uint64_t first_ts_ns, last_ts_ns; /* of the records delivered */
	uint64_t first_seq, last_seq;
	uint64_t from_ns, to_ns; /* the window as resolved (to_ns UINT64_MAX: open) */
	uint64_t held_oldest_ns; /* oldest record held when the export started */
	uint64_t missing_from_ns, missing_to_ns; /* recycled part of the window; equal: none */
	bool snapshot_filtered;	 /* source is a filtered snapshot (gaps are not loss) */
	uint64_t held_newest_ns; /* newest record held when the export started; 0: none */
	/*
	 * Part of the window before the oldest record held when nothing was ever
	 * recycled: capture had not begun, so nothing is missing; equal: none.
	 */
	uint64_t uncaptured_from_ns, uncaptured_to_ns;
	uint64_t unselected;	 /* packets the select hook (pod selection) dropped */
	uint64_t damaged_blocks; /* damaged disk FIFO or snapshot blocks skipped (in lost_reader) */
	uint64_t snapshot_packets; /* snapshot source: packets its manifest lists */
	/* A snapshot read over its whole window: listed packets that were not read. */
	uint64_t snapshot_short;
	/*
	 * Disk FIFO segment files in another segment format version (an older or
	 * newer rawcap wrote them): not read, so their records are not in the
	 * window; the lowest-numbered one's number and format.
	 */
	uint64_t foreign_segments, foreign_first_seg_no;
	uint32_t foreign_version;
};

/*
 * Run the window. Returns 0 when the window was delivered (check
 * missing_*_ns, lost_* and snapshot_short for a partial result, or let
 * rawcap_window_report() say it), or a negative errno:
 * opening the source, a bad filter (-EINVAL, said in o->why), or the
 * first error a sink callback returned (e.g. -EPIPE when a stream's reader left).
 */
RAWCAP_API int rawcap_window_run(const struct rawcap_window_opts *o, const struct rawcap_sink *s,
				 struct rawcap_window_result *res);

/*
 * The same loop as a step, for a caller that drives it from its own event
 * loop (an HTTP server's content callback, a forwarder's poll loop):
 *
 *	struct rawcap_window *w;
 *	bool done = false;
 *	int n, err = rawcap_window_open(&o, &sink, &w, why, sizeof(why));
 *
 *	while (!err && !done) {
 *		n = rawcap_window_step(w, 256, &done);
 *		if (n == -EAGAIN)
 *			rawcap_window_wait(w, 200); (or poll your own fds)
 *		else if (n < 0)
 *			err = n;
 *	}
 *	rawcap_window_report(stderr, "prog", rawcap_window_result(w));
 *	rawcap_window_close(w);
 *
 * rawcap_window_run() is exactly this loop. The window keeps its state
 * between steps (cursor, interfaces described, loss counted); it copies o
 * and s at open, so they need not outlive the call, but what they point to
 * does: the sink's ctx, the hooks' args, *stop. The strings (ring,
 * storage_dir, snapshot, filter) are read only during open.
 *
 * A sink hook returns 0, a negative errno (ends the window with that
 * error), or RAWCAP_SINK_PAUSE: the record was taken, and the step returns
 * after finishing it. A caller that wants "about N bytes of output now"
 * lets its sink write into its buffer and return RAWCAP_SINK_PAUSE once the
 * buffer holds N bytes; the next step goes on with the next record.
 */
#define RAWCAP_SINK_PAUSE 1

struct rawcap_window;

/*
 * Check o (sz must be sizeof(struct rawcap_window_opts); snapshot and follow
 * exclude each other), compile the filter, open the source, resolve the
 * window and seek to its start; interfaces the ring describes reach
 * s->iface now. Returns 0 and the window in *w, or a negative errno with
 * *w NULL and a message in why (whylen bytes, NUL terminated; why may be
 * NULL): -EINVAL for bad options or a bad filter (the compiler's message),
 * -ENOENT / -EACCES / ... opening the source, -ENOMEM, or the error the
 * iface hook returned.
 */
RAWCAP_API int rawcap_window_open(const struct rawcap_window_opts *o, const struct rawcap_sink *s,
				  struct rawcap_window **w, char *why, size_t whylen);

/*
 * Deliver records to the sink: read at most budget records from the source
 * (0 counts as 1; records outside the window and skipped damaged ones
 * count), and return early when a hook returned RAWCAP_SINK_PAUSE. Never
 * blocks. Returns the number of records handed to the sink in this step
 * (>= 0, the record hook's count), -EAGAIN when it is caught up with the
 * newest record and the window is still open (follow mode, or a window
 * whose end is within RAWCAP_REORDER_NS of now): wait, with
 * rawcap_window_wait() or your own timer, then step again. Or a negative
 * errno: the source's read error or the first error a sink hook returned.
 *
 * *done becomes true when the window is over (its end reached, the source
 * exhausted, *o->stop set, or an error): the end-of-window loss is then
 * counted, the sink flushed, and rawcap_window_result() is final. Later
 * calls return 0 (or the same error) with *done true. In follow mode the
 * sink is flushed when idle for o->flush_ms, checked at each step that
 * finds nothing new.
 */
RAWCAP_API int rawcap_window_step(struct rawcap_window *w, unsigned budget, bool *done);

/*
 * Block up to timeout_ms (-1: no limit) until the source may have new
 * records (capd published, or the timeout passed); in follow mode, pass
 * capd's news to o->notice. 0, or a negative errno: -EINTR when a signal
 * interrupted the wait (the next step ends the window if *o->stop is set).
 */
RAWCAP_API int rawcap_window_wait(struct rawcap_window *w, int timeout_ms);

/*
 * Back-pressure: a caller with a bounded output queue steps only while the
 * queue has room for a whole record and its framing, and its hooks (gap,
 * iface, packet, loss, record) return RAWCAP_SINK_PAUSE once the room is
 * less than that. The record in hand is finished and the next stays in
 * the source: a stalled consumer stops reading, capd overwrites what it
 * did not read, and the sequence gap reaches the gap hook (and reader
 * loss sink->loss) when stepping goes on.
 *
 * Pacing (o->pace): ms until the record the window holds back is due (0:
 * now), or -1 when none is held; a caller polling its own descriptors
 * uses it as its timeout. rawcap_window_wait() sleeps until it is due.
 */
RAWCAP_API int rawcap_window_due_ms(const struct rawcap_window *w);

/*
 * The caller stopped stepping for a while (a pause) and goes on: pacing
 * restarts at the next record. live: drop what was not read and go on at
 * the newest record; the records skipped reach the gap hook before the
 * next record as one gap, reason RAWCAP_STREAM_GAP_SKIPPED (on purpose,
 * not loss). 0 or the cursor's negative errno.
 */
RAWCAP_API int rawcap_window_resume(struct rawcap_window *w, bool live);

/*
 * The sequence number of the last record read, delivered or not (a
 * START_SEQ window: start_seq - 1 before any); false when none was read.
 */
RAWCAP_API bool rawcap_window_last_seq(const struct rawcap_window *w, uint64_t *seq);

/* The result so far (final once a step set *done); valid until rawcap_window_close(). */
RAWCAP_API const struct rawcap_window_result *rawcap_window_result(const struct rawcap_window *w);

/* Close the source and free w (NULL: nothing). Does not flush: step until done for that. */
RAWCAP_API void rawcap_window_close(struct rawcap_window *w);

/*
 * Say on f, one line each and prefixed "prog: ", what the export of r lacks
 * or why it is empty: the recycled part of the window, the part before
 * capture began, loss and damaged blocks inside it, packets a snapshot lists
 * but did not yield, and for an empty result what was held and what the
 * window, filter and selection matched. Returns true when the result is
 * partial: something captured inside the window is not in the output (the
 * exit status 1 of every rawcap reader). A window that merely reaches
 * before capture began, or holds nothing, is complete. f NULL: print nothing,
 * return the verdict.
 */
RAWCAP_API bool rawcap_window_report(FILE *f, const char *prog,
				     const struct rawcap_window_result *r);

struct rawcap_meta_join;
/*
 * After a run with a pod selection (rawcap_meta_join_attach): if the capture
 * held no Kubernetes pod metadata for the window (and its lookback), the
 * selection could not be evaluated; say so on f and return true (a failure,
 * exit status 1). False when there is no selection or metadata was seen.
 */
RAWCAP_API bool rawcap_window_report_pods(FILE *f, const char *prog, struct rawcap_meta_join *j);

/* Oldest and newest timestamps held by ring + disk FIFO (or a snapshot). -ENODATA if empty. */
RAWCAP_API int rawcap_window_bounds(const struct rawcap_window_opts *o, uint64_t *oldest_ns,
				    uint64_t *newest_ns);
/*
 * The same, and whether anything older than oldest was recycled (captured,
 * then overwritten): false when capture began at oldest, so a window reaching
 * before it lacks nothing that existed ("before capture").
 */
RAWCAP_API int rawcap_window_held(const struct rawcap_window_opts *o, uint64_t *oldest_ns,
				  uint64_t *newest_ns, bool *recycled);

/* List up to max interfaces the cursor's ring describes; returns how many. */
RAWCAP_API int rawcap_iface_list(struct rawcap_cursor *c, struct rawcap_iface *out, size_t max);

struct rawcap_pcap;
/* The pcap/pcapng writer as a window sink (loss becomes drop counts and comments). */
struct rawcap_pcap_sink_state {
	struct rawcap_pcap *w;
	char comment[512];
	uint64_t pending_reader_loss;
};
RAWCAP_API void rawcap_pcap_sink(struct rawcap_pcap_sink_state *st, struct rawcap_pcap *w,
				 struct rawcap_sink *out);

struct rawcap_pcap_opts;
/*
 * The export every pcap-writing reader shares (rawcap-pcap, rawcap-server):
 * open a writer on fd (or po->write_fn) with po, run the window o into it
 * through the pcap sink, and leave the writer in *w for the caller to
 * inspect (rawcap_pcap_skipped) and close; *w is NULL only when the writer
 * could not be opened. The interface statistics blocks are stamped with
 * the window's end (not the time of closing), so that the same window and
 * options give the same bytes. Returns as rawcap_window_run(), or the
 * writer's error from opening.
 */
RAWCAP_API int rawcap_pcap_export(const struct rawcap_window_opts *o, int fd,
				  const struct rawcap_pcap_opts *po, struct rawcap_pcap **w,
				  struct rawcap_window_result *res);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_WINDOW_H */
