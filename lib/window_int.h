/* SPDX-License-Identifier: MIT */
/*
 * window_int.h - the state of a window (struct rawcap_window), shared by
 * its files: window.c (the per-record loop, a step at a time),
 * window_open.c (check the options, open the source, resolve the window,
 * seek its start; the blocking run) and window_block.c (whole disk blocks
 * for the snapshot sink).
 */
#ifndef RAWCAP_LIB_WINDOW_INT_H
#define RAWCAP_LIB_WINDOW_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rawcap/window.h>

#include "cursor.h"

#define WINDOW_FLUSH_MS	   200
#define WINDOW_MAX_IFACES  RING_IFACE_SLOTS
#define WINDOW_PROGRESS_NS 1000000000ull
#define WINDOW_UNDESCRIBED 16
#define WINDOW_RUN_BUDGET  1024 /* records per step of rawcap_window_run() */

struct rawcap_window {
	const struct rawcap_window_opts *o; /* &opts */
	const struct rawcap_sink *s;	    /* &sink */
	struct rawcap_window_result *res;   /* &result */
	struct rawcap_window_opts opts;
	struct rawcap_sink sink;
	struct rawcap_window_result result;
	struct rawcap_cursor *c;
	struct rawcap_filter *filter;
	struct rawcap_iface *ifaces; /* described to the sink so far */
	size_t nifaces;
	uint32_t undescribed[WINDOW_UNDESCRIBED]; /* ifindexes nothing describes (yet) */
	unsigned nundescribed;
	uint64_t lost_seen; /* cursor's records_lost already reported */
	uint64_t damage_seen, damage_recs_seen; /* history's damaged blocks already reported */
	uint64_t snap_from_ns, snap_to_ns;	/* snapshot source: the window its manifest lists */
	uint8_t *copy;	    /* validated copy of a ring payload */
	char comment[512];
	uint64_t last_flush_ns, last_progress_ns;
	bool pause;	   /* a sink hook returned RAWCAP_SINK_PAUSE during this step */
	bool source_ended; /* rawcap_wait(): nothing more can come */
	bool done;
	int err;	   /* the error that ended the window, returned again by later steps */
	bool has_seq;	   /* a record was read (or a resume point set): next_seq is set */
	bool resuming;	   /* START_SEQ: a gap before the first record is what was recycled */
	bool skipping;	   /* rawcap_window_resume(live): the next gap was skipped on purpose */
	bool inside;	   /* a record inside the window was read: gaps from now on are loss */
	uint64_t next_seq; /* the sequence number that follows the last record read */
	bool priming;	   /* reading the metadata lookback before a resume or live start */
	uint64_t prime_to_ns;
	/* pacing (opts.pace): a record read but not yet due, kept for the next step */
	struct rawcap_rec held;
	bool has_held;
	uint64_t held_due_ns, pace_ts0, pace_mono0; /* CLOCK_MONOTONIC ns, record ns */
};

static inline bool window_stopped(const struct rawcap_window *w)
{
	return w->o->stop && *w->o->stop;
}

static inline int window_flush_ms(const struct rawcap_window *w)
{
	return w->o->flush_ms > 0 ? w->o->flush_ms : WINDOW_FLUSH_MS;
}


/* window.c */
int window_iface(struct rawcap_window *w, const struct rawcap_iface *ifc);
int window_finish(struct rawcap_window *w, int err);

/* window_open.c */
int window_seek_start(struct rawcap_window *w);
void window_snapshot_check(struct rawcap_window *w);

#endif
