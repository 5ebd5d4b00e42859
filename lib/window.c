// SPDX-License-Identifier: MIT
/*
 * window.c - the reader record loop shared by rawcap-pcap, rawcap-snapshot,
 * rawcap-tap, rawcap-server and rawcap-forward (rawcap/window.h), as a step
 * a caller can drive from its own event loop (rawcap_window_step) and as a
 * blocking run.
 *
 * It owns what every exporting reader would otherwise repeat: resolving the
 * window, seeking (a time, a resume point, the live end, after priming a
 * pod join's metadata), telling the recycled part of a window from a quiet
 * one, validating zero-copy ring payloads before a sink sees them, the
 * filter, interface descriptions, loss and sequence gaps, replay pacing,
 * pausing for a sink's back-pressure, and the flush cadence of a stream.
 * Sinks only format and write.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rawcap/filter.h>
#include <rawcap/forward.h>
#include <rawcap/window.h>

#include "clock.h"

#include "cursor.h"
#include "seg_read.h"
#include "snapshot_int.h"
#include "window_block.h"
#include "window_cut.h"

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


int rawcap_iface_list(struct rawcap_cursor *c, struct rawcap_iface *out, size_t max)
{
	size_t n = 0;

	if (!c->has_ring)
		return 0;
	for (int i = 0; i < RING_IFACE_SLOTS && n < max; i++) {
		const struct ring_iface_slot *s = &c->ring.ifaces[i];
		uint32_t s1 = load_acquire(&s->seq);

		if (!s1 || (s1 & 1))
			continue;
		if (ring_iface_get(&c->ring, s->iface.ifindex, &out[n]) == 0)
			n++;
	}
	return (int)n;
}

static int window_open(const struct rawcap_window_opts *o, struct rawcap_cursor **c)
{
	struct rawcap_open_opts oo = {
		.sz = sizeof(oo),
		.ring = o->ring,
		.storage_dir = o->snapshot ? NULL : o->storage_dir,
		.snapshot = o->snapshot,
	};
	int err = rawcap_open_opts(&oo, c);

	/* capd is not running (no ring): the disk FIFO alone still holds history. */
	if (err == -ENOENT && oo.storage_dir) {
		oo.no_ring = true;
		err = rawcap_open_opts(&oo, c);
	}
	return err;
}

/* Oldest/newest held, and whether anything older than the oldest was ever recycled. */
static int window_held(struct rawcap_cursor *c, uint64_t *oldest, uint64_t *newest, bool *recycled)
{
	struct rawcap_ring_info ri;
	uint64_t hs, he, hts, hte;
	bool any = false;

	*oldest = UINT64_MAX;
	*newest = 0;
	*recycled = false;
	if (c->hist && history_bounds(c->hist, &hs, &he, &hts, &hte) == 0) {
		*oldest = hts;
		*newest = hte;
		*recycled = hs > 0 && c->hist_source == RAWCAP_SOURCE_DISK;
		any = true;
	}
	if (c->has_ring && rawcap_ring_info(c, &ri) == 0 && ri.oldest_ts_ns) {
		if (!any) {
			*oldest = ri.oldest_ts_ns;
			*recycled = ri.tail > 0 || ri.base_seq > 0;
		}
		if (ri.newest_ts_ns > *newest)
			*newest = ri.newest_ts_ns;
		any = true;
	}
	return any ? 0 : -ENODATA;
}

int rawcap_window_bounds(const struct rawcap_window_opts *o, uint64_t *oldest_ns,
			 uint64_t *newest_ns)
{
	struct rawcap_cursor *c;
	bool recycled;
	int err = window_open(o, &c);

	if (err)
		return err;
	err = window_held(c, oldest_ns, newest_ns, &recycled);
	rawcap_close(c);
	return err;
}

/* A hook's return: 0, a negative errno, or RAWCAP_SINK_PAUSE (end the step after this record). */
static int window_sink(struct rawcap_window *w, int ret)
{
	if (ret > 0)
		w->pause = true;
	return ret > 0 ? 0 : ret;
}

/* Tell the sink about an interface unless it already has this exact description. */
static int window_iface(struct rawcap_window *w, const struct rawcap_iface *ifc)
{
	size_t i;

	for (i = 0; i < w->nifaces; i++)
		if (w->ifaces[i].ifindex == ifc->ifindex)
			break;
	if (i < w->nifaces && !memcmp(&w->ifaces[i], ifc, sizeof(*ifc)))
		return 0;
	if (i == w->nifaces) {
		if (w->nifaces == WINDOW_MAX_IFACES)
			return 0; /* the sink falls back to a bare description */
		w->nifaces++;
	}
	w->ifaces[i] = *ifc;
	return w->s->iface ? window_sink(w, w->s->iface(w->s->ctx, ifc)) : 0;
}

static int window_iface_lookup(struct rawcap_window *w, uint32_t ifindex)
{
	struct rawcap_iface ifc;

	for (size_t i = 0; i < w->nifaces; i++)
		if (w->ifaces[i].ifindex == ifindex)
			return 0;
	/* Remember misses: the ring's table is a linear scan, too slow per packet. */
	for (unsigned i = 0; i < w->nundescribed; i++)
		if (w->undescribed[i] == ifindex)
			return 0;
	if (rawcap_iface_get(w->c, ifindex, &ifc)) {
		w->undescribed[w->nundescribed++ % WINDOW_UNDESCRIBED] = ifindex;
		if (w->nundescribed > WINDOW_UNDESCRIBED)
			w->nundescribed = WINDOW_UNDESCRIBED;
		return 0;
	}
	return window_iface(w, &ifc);
}

/* Loss before the window (its lookback) is not the window's: start counting here. */
static void window_loss_baseline(struct rawcap_window *w)
{
	w->lost_seen = w->c->st.records_lost;
	history_damage(w->c->hist, &w->damage_seen, &w->damage_recs_seen);
}

/*
 * Records the cursor missed since the last record, and damaged blocks it
 * skipped: loss inside the window. A sequence gap is exact; a filtered
 * snapshot has gaps by design, so there only damage counts, as the records
 * the damaged blocks' headers listed (at least one per block). At the end of
 * the window only damage is looked at: a gap shows only at a next record.
 */
static int window_reader_loss(struct rawcap_window *w, bool at_end)
{
	uint64_t lost = w->c->st.records_lost; /* once per record: one counter, not the stats */
	uint64_t d, blocks, recs;
	uint32_t cause = RAWCAP_LOSS_READER;

	history_damage(w->c->hist, &blocks, &recs);
	d = lost - w->lost_seen;
	blocks -= w->damage_seen;
	recs -= w->damage_recs_seen;
	w->lost_seen = lost;
	w->damage_seen += blocks;
	w->damage_recs_seen += recs;
	if (w->res->snapshot_filtered || !w->inside || at_end)
		d = 0; /* a gap before the first record is where the window started */
	if (blocks) {
		cause = RAWCAP_LOSS_CORRUPT;
		d = d > recs ? d : recs > blocks ? recs : blocks;
		w->res->damaged_blocks += blocks;
	}
	if (!d)
		return 0;
	w->res->lost_reader += d;
	return w->s->loss ? window_sink(w, w->s->loss(w->s->ctx, 0, d, cause)) : 0;
}

static int window_packet(struct rawcap_window *w, const struct rawcap_rec *rec, bool *keep)
{
	struct rawcap_window_pkt p = {.rec = rec, .comment = ""};
	int err;

	p.pkt = rawcap_rec_pkt(rec, &p.data, &p.caplen);
	*keep = false;
	if (!p.pkt)
		return 0;
	err = w->filter ? rawcap_filter_match(w->filter, p.pkt, p.data, p.caplen, w->o->why,
					      w->o->whylen)
			: 1;
	if (err < 0)
		return err;
	if (!err) {
		w->res->filtered++;
		return 0;
	}
	if (w->o->select && !w->o->select(w->o->meta_arg, rec, p.pkt)) {
		w->res->unselected++;
		return 0;
	}
	*keep = true;
	err = window_iface_lookup(w, p.pkt->ifindex);
	if (err)
		return err;
	if (w->o->context &&
	    w->o->context(w->o->context_arg, rec, p.pkt, w->comment, sizeof(w->comment)))
		p.comment = w->comment;
	w->res->packets++;
	w->res->packet_bytes += p.caplen;
	return w->s->packet ? window_sink(w, w->s->packet(w->s->ctx, &p)) : 0;
}

static int window_record(struct rawcap_window *w, const struct rawcap_rec *rec)
{
	const struct rawcap_loss *l = rec->payload;
	bool keep = true;
	int err;

	switch (rec->type) {
	case RAWCAP_REC_PACKET:
		err = window_packet(w, rec, &keep);
		break;
	case RAWCAP_REC_IFACE:
		err = rec->len >= sizeof(struct rawcap_iface) ? window_iface(w, rec->payload) : 0;
		break;
	case RAWCAP_REC_LOSS:
		err = 0;
		if (rec->len < sizeof(*l))
			break;
		/* A snapshot's own note of records it missed while copying, or capd's loss. */
		if (l->cause == RAWCAP_LOSS_READER || l->cause == RAWCAP_LOSS_CORRUPT)
			w->res->lost_reader += l->count;
		else
			w->res->lost_upstream += rawcap_loss_units(l->cause, l->count);
		if (w->s->loss)
			err = window_sink(w, w->s->loss(w->s->ctx, l->ifindex, l->count, l->cause));
		break;
	default:
		err = 0;
	}
	if (err || !keep)
		return err;
	if (!w->res->records++) {
		w->res->first_ts_ns = rec->ts_ns;
		w->res->first_seq = rec->seq;
	}
	w->res->last_ts_ns = rec->ts_ns;
	w->res->last_seq = rec->seq;
	return w->s->record ? window_sink(w, w->s->record(w->s->ctx, rec)) : 0;
}

/*
 * Next record with a payload that stays valid until the following call,
 * except for packets outside the window, which the loop skips on their
 * header alone: their payload is not copied (payload NULL).
 */
static int window_next(struct rawcap_window *w, struct rawcap_rec *rec)
{
	for (;;) {
		int ret = rawcap_next(w->c, rec);

		if (ret <= 0 || rec->source != RAWCAP_SOURCE_RING)
			return ret;
		if (rec->len > RAWCAP_REC_MAX)
			continue;
		if (rec->type == RAWCAP_REC_PACKET &&
		    window_place(rec->ts_ns, w->res->from_ns, w->res->to_ns) != WINDOW_INSIDE) {
			rec->payload = NULL;
			return 1;
		}
		/* Ring payloads may be overwritten under us: copy, then validate. */
		memcpy(w->copy, rec->payload, rec->len);
		if (!rawcap_rec_valid(w->c, rec))
			continue;
		rec->payload = w->copy;
		return 1;
	}
}

static int window_flush(struct rawcap_window *w)
{
	w->last_flush_ns = clock_mono_ns();
	return w->s->flush ? window_sink(w, w->s->flush(w->s->ctx)) : 0;
}

static void window_progress(struct rawcap_window *w)
{
	uint64_t now;

	if (!w->o->progress || (w->res->records & 1023))
		return;
	now = clock_mono_ns();
	if (now - w->last_progress_ns < WINDOW_PROGRESS_NS)
		return;
	w->last_progress_ns = now;
	w->o->progress(w->o->progress_arg, w->res);
}

static bool window_stopped(const struct rawcap_window *w)
{
	return w->o->stop && *w->o->stop;
}

static int window_flush_ms(const struct rawcap_window *w)
{
	return w->o->flush_ms > 0 ? w->o->flush_ms : WINDOW_FLUSH_MS;
}

static void window_snapshot_check(struct rawcap_window *w);

/* The window is over (err 0) or failed: count what the end shows, flush, and stay done. */
static int window_finish(struct rawcap_window *w, int err)
{
	int ferr;

	if (!err)
		err = window_reader_loss(w, true);
	if (!err)
		window_snapshot_check(w);
	ferr = window_flush(w);
	w->done = true;
	w->err = err ? err : ferr;
	return w->err;
}

/*
 * Caught up with the newest record: end the window once no record inside it
 * can still come, else flush when idle for the flush interval and ask the
 * caller to wait (-EAGAIN).
 */
static int window_idle(struct rawcap_window *w)
{
	int err;

	if (w->source_ended || window_settled(rawcap_now_ns(), w->res->to_ns))
		return window_finish(w, 0);
	if (clock_mono_ns() - w->last_flush_ns >= (uint64_t)window_flush_ms(w) * 1000000u) {
		err = window_flush(w);
		if (err)
			return window_finish(w, err);
	}
	return -EAGAIN;
}

/*
 * The records between the last one read and rec that the cursor missed,
 * inside the window after its first record (a gap before it is where the
 * window started): to the gap hook, with their sequence numbers.
 */
static int window_seq_gap(struct rawcap_window *w, uint64_t first_seq, uint64_t count)
{
	uint32_t reason = w->resuming ? RAWCAP_STREAM_GAP_RECYCLED : RAWCAP_STREAM_GAP_LAPPED;
	uint64_t blocks, recs;

	if (!count || !w->o->gap || (!w->inside && !w->resuming && !w->skipping))
		return 0;
	history_damage(w->c->hist, &blocks, &recs);
	if (w->skipping)
		reason = RAWCAP_STREAM_GAP_SKIPPED;
	else if (w->res->snapshot_filtered && !w->resuming && blocks == w->damage_seen)
		reason = RAWCAP_STREAM_GAP_SKIPPED; /* what the snapshot's filter left out */
	return window_sink(w, w->o->gap(w->o->gap_arg, first_seq, count, reason));
}

/* One record from the cursor: the hooks, the window cut, loss, the sink. */
static int window_one(struct rawcap_window *w, const struct rawcap_rec *rec)
{
	uint64_t gap_first = w->next_seq, gap = 0;
	enum window_place place;
	int err;

	if (w->has_seq && rec->seq > w->next_seq)
		gap = rec->seq - w->next_seq;
	if (!w->has_seq || rec->seq >= w->next_seq)
		w->next_seq = rec->seq + 1;
	w->has_seq = true;
	/*
	 * Said at the record that shows it, inside the window or not: the first
	 * record after a resume point may lie outside it, and the gap before it
	 * is still what was recycled.
	 */
	err = window_seq_gap(w, gap_first, gap);
	w->resuming = w->skipping = false;
	if (err)
		return err;
	if (rec->type == RAWCAP_REC_META && w->o->meta)
		w->o->meta(w->o->meta_arg, rec);
	if (rec->ts_ns < w->res->from_ns && w->o->meta_lookback_ns)
		window_loss_baseline(w); /* loss in the lookback is not the window's */
	place = window_place(rec->ts_ns, w->res->from_ns, w->res->to_ns);
	if (place != WINDOW_INSIDE) {
		/* Interface descriptions outside the window still describe packets in it. */
		if (rec->type == RAWCAP_REC_IFACE && rec->len >= sizeof(struct rawcap_iface))
			return window_iface(w, rec->payload);
		/* Only packets end the window: other records may carry other clocks. */
		if (place == WINDOW_END && rec->type == RAWCAP_REC_PACKET)
			return window_finish(w, 0);
		return 0;
	}
	err = window_reader_loss(w, false);
	w->inside = true;
	if (!err)
		err = window_record(w, rec);
	window_progress(w);
	if (!err && w->o->flush_ms > 0 &&
	    clock_mono_ns() - w->last_flush_ns >= (uint64_t)w->o->flush_ms * 1000000u)
		err = window_flush(w);
	return err;
}

/*
 * Pacing (opts.pace): is rec due yet, at pace times the speed it was
 * captured at, counted from the first record paced? If not, keep it for the
 * next step. Only records inside the window are paced.
 */
static bool window_due(struct rawcap_window *w, const struct rawcap_rec *rec)
{
	uint64_t now, due;

	if (w->o->pace <= 0 ||
	    window_place(rec->ts_ns, w->res->from_ns, w->res->to_ns) != WINDOW_INSIDE)
		return true;
	now = clock_mono_ns();
	if (!w->pace_mono0) {
		w->pace_mono0 = now;
		w->pace_ts0 = rec->ts_ns;
	}
	due = w->pace_mono0 + (rec->ts_ns > w->pace_ts0
				       ? (uint64_t)((double)(rec->ts_ns - w->pace_ts0) / w->o->pace)
				       : 0);
	if (now >= due)
		return true;
	w->held = *rec; /* its payload (w->copy, or history's) stays until the next read */
	w->has_held = true;
	w->held_due_ns = due;
	return false;
}

/* Next record: the one pacing held back, else the cursor's. */
static int window_take(struct rawcap_window *w, struct rawcap_rec *rec)
{
	if (!w->has_held)
		return window_next(w, rec);
	*rec = w->held;
	w->has_held = false;
	return 1;
}

static int window_seek_start(struct rawcap_window *w);

/*
 * Before a resume point or the live end with a pod join: feed the
 * metadata stamped in the lookback to o->meta, a record per call, then
 * seek to the start.
 */
static int window_prime(struct rawcap_window *w)
{
	struct rawcap_rec rec;
	int ret = window_next(w, &rec);

	if (ret == -EBADMSG || ret == -EMSGSIZE)
		return 0;
	if (ret < 0 && ret != -ENODATA)
		return ret;
	if (ret > 0 && rec.ts_ns < w->prime_to_ns) {
		if (rec.type == RAWCAP_REC_META && rec.payload)
			w->o->meta(w->o->meta_arg, &rec);
		return 0;
	}
	w->priming = false;
	ret = window_seek_start(w);
	w->lost_seen = w->c->st.records_lost; /* loss in the lookback is not the window's */
	return ret;
}

int rawcap_window_step(struct rawcap_window *w, unsigned budget, bool *done)
{
	uint64_t records0 = w->res->records;
	struct rawcap_rec rec;
	int ret = 0;

	w->pause = false;
	for (unsigned n = 0; !w->done && n < (budget ? budget : 1) && !w->pause; n++) {
		if (window_stopped(w)) {
			window_finish(w, 0);
			break;
		}
		if (w->priming) {
			ret = window_prime(w);
			if (ret < 0)
				window_finish(w, ret);
			continue;
		}
		ret = window_take(w, &rec);
		if (ret == -EBADMSG || ret == -EMSGSIZE)
			continue; /* skipped and counted by the cursor */
		if (ret == -ENODATA) {
			window_finish(w, 0);
			break;
		}
		if (ret < 0) {
			window_finish(w, ret);
			break;
		}
		if (ret == 0) {
			ret = window_idle(w);
			break;
		}
		if (!window_due(w, &rec)) {
			ret = -EAGAIN;
			break;
		}
		ret = window_one(w, &rec);
		if (ret < 0 && !w->done)
			window_finish(w, ret);
	}
	*done = w->done;
	if (w->done)
		return w->err ? w->err : (int)(w->res->records - records0);
	if (ret == -EAGAIN && w->res->records == records0)
		return -EAGAIN; /* with progress, report it: the next step says to wait */
	return (int)(w->res->records - records0);
}

int rawcap_window_due_ms(const struct rawcap_window *w)
{
	uint64_t now;

	if (!w->has_held)
		return -1;
	now = clock_mono_ns();
	return w->held_due_ns <= now ? 0 : (int)((w->held_due_ns - now) / 1000000 + 1);
}

int rawcap_window_resume(struct rawcap_window *w, bool live)
{
	int err;

	w->pace_mono0 = 0; /* pacing restarts at the next record */
	if (!live || w->done || w->priming)
		return 0; /* priming ends by seeking the start: the newest, live */
	w->has_held = false;
	err = rawcap_seek(w->c, RAWCAP_SEEK_NEWEST, 0);
	w->skipping = w->has_seq;
	return err == -ENOENT || err == -ENODATA ? 0 : err;
}

bool rawcap_window_last_seq(const struct rawcap_window *w, uint64_t *seq)
{
	if (!w->has_seq)
		return false;
	*seq = w->next_seq - 1;
	return true;
}

int rawcap_window_wait(struct rawcap_window *w, int timeout_ms)
{
	char line[256];
	int err;

	if (w->done)
		return 0;
	if (w->has_held) { /* paced: sleep until the held record is due */
		int due = rawcap_window_due_ms(w);

		if (poll(NULL, 0, timeout_ms < 0 || due < timeout_ms ? due : timeout_ms) < 0)
			return -errno;
		return 0;
	}
	err = rawcap_wait(w->c, timeout_ms);
	if (err == -ENODATA) {
		w->source_ended = true; /* the next step ends the window */
		err = 0;
	}
	if (w->o->follow && w->o->notice && rawcap_writer_news(w->c, line, sizeof(line)))
		w->o->notice(w->o->notice_arg, line);
	return err < 0 ? err : 0;
}

/*
 * Which part of [from, to) lies before the oldest record held: recycled
 * before we got to it (missing), or before capture began (uncaptured).
 */
static void window_missing(struct rawcap_window *w, uint64_t oldest, uint64_t newest, bool recycled)
{
	struct rawcap_window_result *r = w->res;
	uint64_t end;

	r->held_oldest_ns = oldest;
	r->held_newest_ns = newest;
	if (!r->from_ns || oldest <= r->from_ns)
		return;
	end = oldest < r->to_ns ? oldest : r->to_ns;
	if (recycled) {
		r->missing_from_ns = r->from_ns;
		r->missing_to_ns = end;
	} else {
		r->uncaptured_from_ns = r->from_ns;
		r->uncaptured_to_ns = end;
	}
}

/* A snapshot knows what it lacked when it was made, and how many packets it holds. */
static void window_snapshot_info(struct rawcap_window *w)
{
	struct snap_manifest m;
	struct rawcap_window_result *r = w->res;
	const struct rawcap_snapshot_info *in = &m.info;

	if (snap_manifest_load(w->o->snapshot, &m))
		return;
	r->snapshot_filtered = in->filter[0] != '\0';
	r->snapshot_packets = in->packets;
	w->snap_from_ns = in->from_ns;
	w->snap_to_ns = in->to_ns;
	if (in->partial && in->missing_to_ns > r->from_ns && in->missing_from_ns < r->to_ns) {
		uint64_t from = in->missing_from_ns > r->from_ns ? in->missing_from_ns : r->from_ns;
		uint64_t to = in->missing_to_ns < r->to_ns ? in->missing_to_ns : r->to_ns;

		if (in->uncaptured) {
			r->uncaptured_from_ns = from;
			r->uncaptured_to_ns = to;
		} else {
			r->missing_from_ns = from;
			r->missing_to_ns = to;
		}
	}
	snap_manifest_free(&m);
}

/* Read over a snapshot's whole window, every packet it lists must have come out. */
static void window_snapshot_check(struct rawcap_window *w)
{
	struct rawcap_window_result *r = w->res;
	uint64_t read = r->packets + r->filtered + r->unselected;

	if (!w->o->snapshot || !r->snapshot_packets || window_stopped(w) ||
	    r->from_ns > w->snap_from_ns || r->to_ns < w->snap_to_ns)
		return;
	if (read < r->snapshot_packets)
		r->snapshot_short = r->snapshot_packets - read;
}

static int window_start(struct rawcap_window *w)
{
	const struct rawcap_window_opts *o = w->o;
	struct rawcap_window_result *r = w->res;
	struct rawcap_iface *ifs = w->ifaces;
	uint64_t oldest, newest, now = rawcap_now_ns();
	bool recycled;
	int n, err = 0;

	/* Follow from the live end: the window starts now, unless a start position says where. */
	r->from_ns = o->from_ns ? o->from_ns : o->follow && !o->snapshot && !o->start ? now : 0;
	r->to_ns = o->to_ns ? o->to_ns : (o->follow || o->snapshot ? UINT64_MAX : now);
	if (window_held(w->c, &oldest, &newest, &recycled) == 0) {
		window_missing(w, oldest, newest, recycled && !o->snapshot);
		if (o->snapshot) /* what the snapshot lacked comes from its manifest */
			r->uncaptured_from_ns = r->uncaptured_to_ns = 0;
	}
	if (o->snapshot)
		window_snapshot_info(w);
	/* Describe the ring's interfaces up front: classic pcap picks its link type from them. */
	n = rawcap_iface_list(w->c, ifs + WINDOW_MAX_IFACES, WINDOW_MAX_IFACES);
	for (int i = 0; i < n; i++)
		if ((err = window_iface(w, &ifs[WINDOW_MAX_IFACES + i])))
			return err;
	if (o->start != RAWCAP_WINDOW_START_FROM && o->meta && o->meta_lookback_ns) {
		/* A pod join reads the metadata before the start first (window_prime). */
		w->prime_to_ns = r->from_ns ? r->from_ns : now;
		err = w->prime_to_ns > o->meta_lookback_ns
			      ? rawcap_seek(w->c, RAWCAP_SEEK_TIME,
					    w->prime_to_ns - o->meta_lookback_ns)
			      : rawcap_seek(w->c, RAWCAP_SEEK_OLDEST, 0);
		w->priming = !err;
		if (!err)
			return 0;
		if (err != -ENOENT && err != -ENODATA)
			return err;
	}
	return window_seek_start(w);
}

/* Put the cursor where o->start says (after priming, if any). */
static int window_seek_start(struct rawcap_window *w)
{
	const struct rawcap_window_opts *o = w->o;
	const struct rawcap_window_result *r = w->res;
	int err;

	if (o->start == RAWCAP_WINDOW_START_SEQ) {
		err = rawcap_seek(w->c, RAWCAP_SEEK_SEQ, o->start_seq);
		w->next_seq = o->start_seq;
		w->has_seq = w->resuming = true;
	} else if (o->start == RAWCAP_WINDOW_START_NEWEST)
		err = rawcap_seek(w->c, RAWCAP_SEEK_NEWEST, 0);
	else if (!r->from_ns)
		err = o->snapshot ? 0 : rawcap_seek(w->c, RAWCAP_SEEK_OLDEST, 0);
	else
		err = rawcap_seek(w->c, RAWCAP_SEEK_TIME,
				  o->meta && o->meta_lookback_ns < r->from_ns
					  ? r->from_ns - o->meta_lookback_ns
					  : r->from_ns);
	if (err == -ENOENT || err == -ENODATA)
		err = 0; /* nothing that new yet: the cursor waits at the newest end */
	return err;
}

static void window_free(struct rawcap_window *w)
{
	if (!w)
		return;
	rawcap_close(w->c);
	rawcap_filter_free(w->filter);
	free(w->ifaces);
	free(w->copy);
	free(w);
}

/*
 * The window keeps copies of the caller's options and sink. Its result is
 * res when given (rawcap_window_run: hooks that hold the caller's result see
 * it filled as the window goes), else its own.
 */
static struct rawcap_window *window_new(const struct rawcap_window_opts *o,
					const struct rawcap_sink *s,
					struct rawcap_window_result *res)
{
	struct rawcap_window *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	memcpy(&w->opts, o, o->sz); /* fields the caller's opts lack stay zero */
	w->opts.sz = sizeof(w->opts);
	w->sink = *s;
	w->o = &w->opts;
	w->s = &w->sink;
	w->res = res ? res : &w->result;
	w->ifaces = calloc(2 * WINDOW_MAX_IFACES, sizeof(*w->ifaces));
	w->copy = malloc(RAWCAP_REC_MAX);
	if (!w->ifaces || !w->copy) {
		window_free(w);
		return NULL;
	}
	return w;
}

/*
 * Compile the filter, open the source, resolve the window and seek to its
 * start. A bad filter is said in why (the compiler's message).
 */
static int window_begin(struct rawcap_window *w, char *why, size_t whylen)
{
	const char *filter = w->o->filter;
	int err;

	if (filter && *filter) {
		err = rawcap_filter_new(filter, &w->filter, why, whylen);
		if (err)
			return err;
	}
	err = window_open(w->o, &w->c);
	if (err)
		return err;
	w->last_flush_ns = w->last_progress_ns = clock_mono_ns();
	/* Damage met while seeking may hold the window's first records: count it. */
	history_damage(w->c->hist, &w->damage_seen, &w->damage_recs_seen);
	err = window_start(w);
	w->lost_seen = w->c->st.records_lost;
	if (err)
		window_finish(w, err);
	return err;
}

/* Check the options, make the window and begin it; *wp is NULL only when none was made. */
static int window_make(const struct rawcap_window_opts *o, const struct rawcap_sink *s,
		       struct rawcap_window_result *res, struct rawcap_window **wp, char *why,
		       size_t whylen)
{
	*wp = NULL;
	if (why && whylen)
		*why = '\0';
	if (!o || o->sz < RAWCAP_WINDOW_OPTS_SZ0 || o->sz > sizeof(*o) || !s ||
	    (o->snapshot && o->follow) ||
	    (o->sz > RAWCAP_WINDOW_OPTS_SZ0 &&
	     (o->start < RAWCAP_WINDOW_START_FROM || o->start > RAWCAP_WINDOW_START_NEWEST)))
		return -EINVAL;
	*wp = window_new(o, s, res);
	return *wp ? window_begin(*wp, why, whylen) : -ENOMEM;
}

int rawcap_window_open(const struct rawcap_window_opts *o, const struct rawcap_sink *s,
		       struct rawcap_window **wp, char *why, size_t whylen)
{
	int err = window_make(o, s, NULL, wp, why, whylen);

	if (err) {
		if (why && whylen && !*why)
			snprintf(why, whylen, "%s", strerror(-err));
		window_free(*wp);
		*wp = NULL;
	}
	return err;
}

const struct rawcap_window_result *rawcap_window_result(const struct rawcap_window *w)
{
	return w->res;
}

void rawcap_window_close(struct rawcap_window *w)
{
	window_free(w);
}

/* Would window_one hand r to the sink's record hook with no other hook called first? */
static bool window_passes_whole(const struct rawcap_window *w, const struct rawcap_rec_hdr *r)
{
	const struct rawcap_pkt *p = (const void *)(r + 1);

	if ((r->flags & RAWCAP_REC_F_SYNTH) ||
	    window_place(r->ts_ns, w->res->from_ns, w->res->to_ns) != WINDOW_INSIDE)
		return false;
	if (r->type == RAWCAP_REC_IFACE)
		return false; /* may describe an interface first: left to the record path */
	if (r->type != RAWCAP_REC_PACKET)
		return true;
	if (r->len < sizeof(*r) + sizeof(*p))
		return false; /* not a packet to the loop: dropped */
	for (size_t i = 0; i < w->nifaces; i++)
		if (w->ifaces[i].ifindex == p->ifindex)
			return true;
	/* Known to be described nowhere, and never forgotten while the list has room. */
	for (unsigned i = 0; i < w->nundescribed && w->nundescribed < WINDOW_UNDESCRIBED; i++)
		if (w->undescribed[i] == p->ifindex)
			return true;
	return false; /* the loop would look its interface up first */
}

bool window_whole_block(const struct rawcap_window *w, const struct rawcap_rec *rec,
			struct window_block *b)
{
	const struct rawcap_window_opts *o = w->o;
	const struct rawcap_rec_hdr *r;
	uint64_t seq;
	uint32_t off = 0;

	/*
	 * Not o->stop: a stop can end the window inside a whole block, which
	 * only the snapshot sink takes, and a stopped snapshot is cancelled
	 * (discarded), never sealed.
	 */
	if (!w->c->in_history || rec->source == RAWCAP_SOURCE_RING || w->filter || o->select ||
	    o->meta || o->gap || o->context || o->pace > 0 || o->flush_ms > 0 || w->has_held ||
	    w->priming)
		return false;
	b->hdr = history_block(w->c->hist, rec);
	if (!b->hdr || b->hdr->first_seq != rec->seq)
		return false;
	b->max_ts = b->bytes = 0;
	for (seq = rec->seq; seg_blk_rec(b->hdr, &off, &r); seq++) {
		if (r->seq != seq || !window_passes_whole(w, r))
			return false;
		if (r->ts_ns > b->max_ts)
			b->max_ts = r->ts_ns;
		b->bytes += r->len;
	}
	return seq - 1 == b->hdr->last_seq;
}

void window_lend(const struct rawcap_window *w, void *buf)
{
	if (w->c->hist)
		history_lend(w->c->hist, buf);
}

int window_run_self(const struct rawcap_window_opts *o, const struct rawcap_sink *s,
		    struct rawcap_window_result *res, const struct rawcap_window **self)
{
	struct rawcap_window *w;
	bool done = false;
	int err;

	memset(res, 0, sizeof(*res));
	err = window_make(o, s, res, &w, o ? o->why : NULL, o ? o->whylen : 0);
	if (!w)
		return err;
	if (self)
		*self = w;
	while (!err && !done) {
		err = rawcap_window_step(w, WINDOW_RUN_BUDGET, &done);
		if (err == -EAGAIN)
			rawcap_window_wait(w, window_flush_ms(w)); /* -EINTR: the next step sees *stop */
		if (err == -EAGAIN || err > 0)
			err = 0;
	}
	if (self)
		*self = NULL;
	window_free(w);
	return err;
}

int rawcap_window_run(const struct rawcap_window_opts *o, const struct rawcap_sink *s,
		      struct rawcap_window_result *res)
{
	return window_run_self(o, s, res, NULL);
}
