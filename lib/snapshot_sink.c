// SPDX-License-Identifier: MIT
/*
 * snapshot_sink.c - the window sink of a snapshot create (snapshot.c): every
 * kept record, in native framing, into the segment writer. A disk block
 * that an unfiltered window passes on whole (lib/window_block.h) is written
 * as one block, from the writer's buffer the window read it into, with its
 * own data CRC.
 *
 * What the window says outside any record it copies - interfaces described
 * from the ring's table (capd's own record lies before the window), and
 * records lost or damaged while copying a filtered window (whose sequence
 * gaps are not loss) - is written as synthesised IFACE and LOSS records
 * (RAWCAP_REC_F_SYNTH) just ahead of the next record, carrying its sequence
 * number: the snapshot describes its own interfaces and loss after the ring
 * is gone, and real sequence numbers stay unique and increasing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/seg_format.h"
#include "snapshot_sink.h"

static struct snap_synth *snap_queue(struct snap_sink *s, uint16_t type)
{
	if (s->nqueued == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct snap_synth *n = realloc(s->queued, ncap * sizeof(*n));

		if (!n)
			return NULL;
		s->queued = n;
		s->cap = ncap;
	}
	memset(&s->queued[s->nqueued], 0, sizeof(s->queued[0]));
	s->queued[s->nqueued].type = type;
	return &s->queued[s->nqueued++];
}

int snap_sink_iface(void *ctx, const struct rawcap_iface *ifc)
{
	struct snap_synth *q = snap_queue(ctx, RAWCAP_REC_IFACE);

	if (!q)
		return -ENOMEM;
	q->u.ifc = *ifc;
	return 0;
}

/* Reader-side loss (cause READER or CORRUPT); loss records from capd are copied as they are. */
int snap_sink_loss(void *ctx, uint32_t ifindex, uint64_t count, uint32_t cause)
{
	struct snap_sink *s = ctx;
	struct snap_synth *q;

	if (!s->filtered || (cause != RAWCAP_LOSS_READER && cause != RAWCAP_LOSS_CORRUPT))
		return 0; /* an unfiltered snapshot's sequence gap says it exactly */
	q = snap_queue(s, RAWCAP_REC_LOSS);
	if (!q)
		return -ENOMEM;
	q->u.loss = (struct rawcap_loss){.count = count, .cause = cause, .ifindex = ifindex};
	return 0;
}

/* Write what is queued, marked synthesised, with sequence number seq (the next record's). */
static int snap_flush_synth(struct snap_sink *s, uint64_t seq, uint64_t ts)
{
	for (size_t i = 0; i < s->nqueued; i++) {
		const struct snap_synth *q = &s->queued[i];
		size_t len = q->type == RAWCAP_REC_IFACE ? sizeof(q->u.ifc) : sizeof(q->u.loss);
		struct rawcap_rec_hdr h = {
			.len = (uint32_t)(sizeof(h) + len),
			.type = q->type,
			.flags = RAWCAP_REC_F_SYNTH,
			.seq = seq,
			.ts_ns = ts,
		};
		int err = seg_write_record(s->sw, &h, &q->u);

		if (err)
			return err;
		s->synthesised++;
	}
	s->nqueued = 0;
	return 0;
}

/*
 * The block handed over in full: write it whole. The window is done with its
 * buffer, so a block read into the buffer lent from the writer is written
 * from there, and the window gets another for the blocks that follow.
 */
static int snap_block_write(struct snap_sink *s)
{
	const struct seg_blk_hdr *h = s->block.hdr;
	struct seg_block_in in = {
		.data = h + 1,
		.used = h->used,
		.nrec = h->nrec,
		.data_crc = h->data_crc,
		.first_seq = h->first_seq,
		.last_seq = h->last_seq,
		.max_ts = s->block.max_ts,
		.bytes = s->block.bytes,
	};
	int err = seg_write_block(s->sw, &in);

	if (err)
		return err;
	if ((const void *)h == s->lent) {
		s->lent = seg_writer_lend(s->sw);
		window_lend(s->win, s->lent);
	}
	return 0;
}

/* The window hands over each record of a block copied whole: count it. */
static int snap_block_rest(struct snap_sink *s, const struct rawcap_rec *rec)
{
	if (rec->seq != s->block_next || s->nqueued)
		return -EPROTO; /* the window broke its promise (window_block.h) */
	s->block_next++;
	s->records++;
	s->next_seq = rec->seq + 1;
	s->last_ts = rec->ts_ns;
	return --s->block_left ? 0 : snap_block_write(s);
}

/* rec opens a disk block the window passes on whole: take it as one. 1 if so. */
static int snap_block_copy(struct snap_sink *s, const struct rawcap_rec *rec)
{
	int err;

	if (!s->blocks || !s->win)
		return 0;
	if (!s->lent) { /* from the next block on, the window reads into the writer's buffers */
		s->lent = seg_writer_lend(s->sw);
		window_lend(s->win, s->lent);
	}
	if (!window_whole_block(s->win, rec, &s->block))
		return 0;
	err = snap_flush_synth(s, rec->seq, rec->ts_ns);
	if (err)
		return err;
	s->block_next = rec->seq;
	s->block_left = s->block.hdr->nrec;
	err = snap_block_rest(s, rec);
	return err ? err : 1;
}

int snap_sink_record(void *ctx, const struct rawcap_rec *rec)
{
	struct snap_sink *s = ctx;
	struct rawcap_rec_hdr h = {
		.len = (uint32_t)sizeof(h) + rec->len,
		.type = rec->type,
		.flags = rec->flags,
		.seq = rec->seq,
		.ts_ns = rec->ts_ns,
	};
	const struct snap_synth *last = s->nqueued ? &s->queued[s->nqueued - 1] : NULL;
	int err;

	if (s->block_left)
		return snap_block_rest(s, rec);
	/* An IFACE record the window just described is written as itself. */
	if (rec->type == RAWCAP_REC_IFACE && last && last->type == RAWCAP_REC_IFACE &&
	    rec->len >= sizeof(last->u.ifc) &&
	    !memcmp(&last->u.ifc, rec->payload, sizeof(last->u.ifc)))
		s->nqueued--;
	err = snap_block_copy(s, rec);
	if (err)
		return err < 0 ? err : 0;
	err = snap_flush_synth(s, rec->seq, rec->ts_ns);
	if (!err)
		err = seg_write_record(s->sw, &h, rec->payload);
	if (err)
		return err;
	s->records++;
	s->next_seq = rec->seq + 1;
	s->last_ts = rec->ts_ns;
	return 0;
}

/* Loss noted after the last record: written with the number that record's successor gets. */
int snap_sink_finish(struct snap_sink *s)
{
	size_t n = 0;

	if (s->block_left)
		return -EPROTO; /* a block copied whole was not handed over in full */
	for (size_t i = 0; i < s->nqueued; i++)
		if (s->queued[i].type == RAWCAP_REC_LOSS)
			s->queued[n++] = s->queued[i];
	s->nqueued = n; /* descriptions of nothing that follows are not needed */
	return snap_flush_synth(s, s->next_seq, s->last_ts);
}

/* seg_writer_opts.retired: seg_no's data and size are durable (on the copying thread). */
void snap_retired(void *arg, uint64_t seg_no)
{
	struct snap_sink *s = arg;

	if (s->nsynced == s->synced_cap) {
		size_t ncap = s->synced_cap ? s->synced_cap * 2 : 64;
		uint64_t *n = realloc(s->synced, ncap * sizeof(*n));

		if (!n)
			return; /* the seal fsyncs it, as any file not listed */
		s->synced = n;
		s->synced_cap = ncap;
	}
	s->synced[s->nsynced++] = seg_no;
}

/* Did the writer report seg_no durable (snap_retired)? */
bool snap_sink_synced(const struct snap_sink *s, uint64_t seg_no)
{
	for (size_t i = 0; i < s->nsynced; i++)
		if (s->synced[i] == seg_no)
			return true;
	return false;
}
