// SPDX-License-Identifier: MIT
/*
 * window.c - the reader record loop shared by rawcap-pcap, rawcap-snapshot,
 * rawcap-tap, rawcap-server and rawcap-forward (rawcap/window.h), as a step
 * a caller can drive from its own event loop (rawcap_window_step) and the
 * wait between steps; window_open.c opens a window and runs it blocking.
 *
 * A step owns what every exporting reader would otherwise repeat per
 * record: validating zero-copy ring payloads before a sink sees them, the
 * window cut, the filter, interface descriptions, loss and sequence gaps,
 * replay pacing, pausing for a sink's back-pressure, and the flush cadence
 * of a stream. Sinks only format and write.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <rawcap/filter.h>
#include <rawcap/forward.h>
#include <rawcap/window.h>

#include "clock.h"

#include "cursor.h"
#include "window_cut.h"
#include "window_int.h"

/* A hook's return: 0, a negative errno, or RAWCAP_SINK_PAUSE (end the step after this record). */
static int window_sink(struct rawcap_window *w, int ret)
{
	if (ret > 0)
		w->pause = true;
	return ret > 0 ? 0 : ret;
}

/* Tell the sink about an interface unless it already has this exact description. */
int window_iface(struct rawcap_window *w, const struct rawcap_iface *ifc)
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

/* The window is over (err 0) or failed: count what the end shows, flush, and stay done. */
/* Segments the history could not read (another format version): for the report. */
static void window_foreign(struct rawcap_window *w)
{
	struct history_foreign f;

	history_get_foreign(w->c->hist, &f);
	w->res->foreign_segments = f.segments;
	w->res->foreign_first_seg_no = f.first_seg_no;
	w->res->foreign_version = f.version;
}

int window_finish(struct rawcap_window *w, int err)
{
	int ferr;

	if (!err)
		err = window_reader_loss(w, true);
	if (!err)
		window_snapshot_check(w);
	window_foreign(w);
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
