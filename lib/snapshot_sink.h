/* SPDX-License-Identifier: MIT */
/*
 * snapshot_sink.h - the window sink of a snapshot create (snapshot_sink.c),
 * which snapshot.c plugs into the window loop and the segment writer.
 */
#ifndef RAWCAP_LIB_SNAPSHOT_SINK_H
#define RAWCAP_LIB_SNAPSHOT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/window.h>

#include "../storage/seg_writer.h"
#include "window_block.h"

#ifndef RAWCAP_HAVE_SEG_WRITER
/* storage/seg_writer.c is not in this tree yet: snapshots cannot be written. */
#define seg_writer_open(o, w)	  ((void)(o), *(w) = NULL, -ENOTSUP)
#define seg_write_record(w, h, p) ((void)(w), (void)(h), (void)(p), -ENOTSUP)
#define seg_write_block(w, in)	  ((void)(w), (void)(in), -ENOTSUP)
#define seg_writer_lend(w)	  ((void)(w), NULL)
#define seg_writer_close(w)	  ((void)(w), 0)
#endif

/* A synthesised record waiting for the next real one. */
struct snap_synth {
	uint16_t type; /* RAWCAP_REC_IFACE or RAWCAP_REC_LOSS */
	union {
		struct rawcap_iface ifc;
		struct rawcap_loss loss;
	} u;
};

struct snap_sink {
	struct seg_writer *sw;
	struct snap_synth *queued;
	size_t nqueued, cap;
	bool filtered;	   /* sequence gaps are not loss: say loss with records */
	uint64_t next_seq; /* one past the last real record written */
	uint64_t last_ts;
	uint64_t records, synthesised; /* real and synthesised records written */
	/* Whole-block copies of an unfiltered window (off: RAWCAP_SNAPSHOT_RECORD_PATH). */
	bool blocks;
	const struct rawcap_window *win; /* while the window runs */
	struct window_block block;	 /* being handed over, written at its last record */
	uint64_t block_next, block_left; /* its records still to be handed over */
	void *lent;			 /* the writer's buffer the window reads blocks into */
	/* Segments the writer left and fdatasync'd (.retired): the seal skips their fsync. */
	uint64_t *synced;
	size_t nsynced, synced_cap;
};

/* rawcap_sink callbacks; ctx is the struct snap_sink. */
int snap_sink_iface(void *ctx, const struct rawcap_iface *ifc);
int snap_sink_loss(void *ctx, uint32_t ifindex, uint64_t count, uint32_t cause);
int snap_sink_record(void *ctx, const struct rawcap_rec *rec);
/* After the window: write the loss noted after the last record. */
int snap_sink_finish(struct snap_sink *s);
/* seg_writer_opts.retired, arg the struct snap_sink: note seg_no as durable. */
void snap_retired(void *arg, uint64_t seg_no);
bool snap_sink_synced(const struct snap_sink *s, uint64_t seg_no);

#endif
