// SPDX-License-Identifier: MIT
/*
 * window_open.c - opening a window of the reader loop (rawcap/window.h):
 * check the options, compile the filter, open the source (ring, ring + disk
 * FIFO, or snapshot), resolve the window and tell the recycled part of it
 * from a quiet one (or take what a snapshot lacked from its manifest),
 * describe the ring's interfaces, and seek the start (a time, a resume
 * point, the live end, after priming a pod join's metadata); then the
 * blocking run over window.c's steps, and closing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/filter.h>
#include <rawcap/window.h>

#include "clock.h"

#include "cursor.h"
#include "snapshot_int.h"
#include "window_block.h"
#include "window_int.h"

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

int rawcap_window_held(const struct rawcap_window_opts *o, uint64_t *oldest_ns,
		       uint64_t *newest_ns, bool *recycled)
{
	struct rawcap_cursor *c;
	int err = window_open(o, &c);

	if (err)
		return err;
	err = window_held(c, oldest_ns, newest_ns, recycled);
	rawcap_close(c);
	return err;
}

int rawcap_window_bounds(const struct rawcap_window_opts *o, uint64_t *oldest_ns,
			 uint64_t *newest_ns)
{
	bool recycled;

	return rawcap_window_held(o, oldest_ns, newest_ns, &recycled);
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
void window_snapshot_check(struct rawcap_window *w)
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
int window_seek_start(struct rawcap_window *w)
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
