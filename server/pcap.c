// SPDX-License-Identifier: MIT
/*
 * pcap.c - GET /v1/pcap: a time window of this node's capture, streamed as
 * pcapng or pcap.
 *
 * The body is exactly what rawcap-pcap writes to a pipe for the same window
 * and options: the same librawcap export (rawcap_pcap_export: window loop,
 * pod join, pcap sink), run on a thread of its own that writes into the
 * connection's stream (httpd_reply_stream), which hands each flushed span of
 * the pcap writer to MHD without a copy of its own. The writer's buffer and
 * the connection's bound the memory of a download whatever the window's
 * size, a slow client slows only its own export, and a client that leaves
 * stops the export at once: the next write fails with -EPIPE and the window
 * loop's stop flag is up.
 * At most max_exports run at once. One more takes the place of a download
 * whose client has taken nothing for SERVER_EVICT_MS (it ends truncated, as
 * if its client had left), else gets 429: clients that stop reading cannot
 * hold every slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rawcap/meta.h>
#include <rawcap/pcap.h>
#include <rawcap/rawcap.h>
#include <rawcap/snapshot.h>
#include <rawcap/window.h>

#include "query.h"
#include "server.h"

struct download {
	struct server *s;
	/* A snapshot to read instead of ring + FIFO: its directory and window. */
	const struct server_snapshot_src *snap;
	char *snapshot;
	char snap_name[RAWCAP_SNAP_NAME_MAX + 1];
	struct httpd_stream *st;
	struct server_query q; /* owns the filter and the pod join */
	struct rawcap_window_opts w;
	char why[320];	       /* the run's own words when the errno alone does not say */
	struct download *next; /* in s->downloads while listed */
	bool listed;
	bool streaming; /* st is the client's stream: may be ended for another (under lock) */
	bool recycled;	/* what lies before the oldest record held was captured, then lost */
};

bool server_snapshot_read_by(struct server *s, const char *name)
{
	for (struct download *e = s->downloads; e; e = e->next)
		if (e->snap_name[0] && !strcmp(e->snap_name, name))
			return true;
	return false;
}

/*
 * List e among the downloads. A snapshot's (name) must still be there:
 * DELETE checks the list and deletes under the same lock, so from here on
 * the snapshot's files stay until e is freed (a reader whose files vanished
 * ended early and cleanly: a short file that said nothing of it).
 */
static bool download_list(struct download *e, const char *name)
{
	struct rawcap_snapshot_info info;
	bool there = true;

	if (name)
		snprintf(e->snap_name, sizeof(e->snap_name), "%s", name);
	pthread_mutex_lock(&e->s->lock);
	if (name)
		there = !rawcap_snapshot_show(e->s->snapshots, name, &info);
	if (there) {
		e->next = e->s->downloads;
		e->s->downloads = e;
		e->listed = true;
	}
	pthread_mutex_unlock(&e->s->lock);
	return there;
}

/* Before its stream ends: the list never names a stream that may be freed. */
static void download_unlist(struct download *e)
{
	if (!e->listed)
		return;
	pthread_mutex_lock(&e->s->lock);
	for (struct download **p = &e->s->downloads; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			break;
		}
	pthread_mutex_unlock(&e->s->lock);
	e->listed = false;
}

static void download_set_streaming(struct download *e, bool on)
{
	pthread_mutex_lock(&e->s->lock);
	e->streaming = on;
	pthread_mutex_unlock(&e->s->lock);
}

/*
 * Every slot is taken: end the download whose client has taken nothing the
 * longest, if that is SERVER_EVICT_MS or more, and wait (a second at most)
 * for its thread to give the slot back. true if a slot is free.
 */
static bool download_evict(struct server *s)
{
	uint64_t worst = SERVER_EVICT_MS, ms;
	struct download *victim = NULL;

	pthread_mutex_lock(&s->lock);
	for (struct download *e = s->downloads; e; e = e->next)
		if (e->streaming && (ms = httpd_stream_stalled_ms(e->st)) >= worst) {
			worst = ms;
			victim = e;
		}
	if (victim)
		httpd_stream_abort(victim->st);
	pthread_mutex_unlock(&s->lock);
	if (!victim)
		return false;
	fprintf(stderr,
		SERVER_PROG ": a download whose client took nothing for %llu ms ended "
			    "to make room for another\n",
		(unsigned long long)worst);
	for (int i = 0; i < 100; i++) {
		if ((unsigned)__atomic_load_n(&s->exports, __ATOMIC_RELAXED) <= s->max_exports)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	}
	return false;
}

static void download_free(struct download *e)
{
	download_unlist(e);
	__atomic_fetch_sub(&e->s->exports, 1, __ATOMIC_RELAXED);
	server_query_free(&e->q);
	free(e->snapshot);
	free(e);
}

static int download_write(void *arg, const void *buf, size_t len)
{
	return httpd_stream_write(arg, buf, len);
}

static void *download_main(void *arg)
{
	struct download *e = arg;
	struct rawcap_pcap_opts po = {
		.sz = sizeof(po),
		.format = e->q.format,
		.snaplen = e->q.snaplen,
		.write_fn = download_write,
		.write_arg = e->st,
	};
	struct rawcap_window_result res;
	struct rawcap_pcap *w = NULL;
	int err = rawcap_pcap_export(&e->w, -1, &po, &w, &res), cerr = w ? rawcap_pcap_close(w) : 0;

	if (err && err != -EPIPE)
		fprintf(stderr, SERVER_PROG ": export of %s: %s\n",
			e->snapshot ? e->snapshot : e->s->ring,
			e->why[0] ? e->why : rawcap_strerror(err));
	download_unlist(e); /* read: a DELETE after the body's end finds it gone */
	httpd_stream_end(e->st, !err && !cerr);
	download_free(e);
	return NULL;
}

/* The headers that say which part of the window is held, and the file's name. */
static int pcap_headers(struct httpd_req *req, const struct download *e, uint64_t oldest,
			uint64_t newest)
{
	const struct server *s = e->s;
	const struct server_query *q = &e->q;
	char t[64], a[32], b[32], name[400];
	int err = 0;

	snprintf(name, sizeof(name), "attachment; filename=\"%s_%s_%s.%s\"", s->node,
		 server_compact_time(q->from_ns, a, sizeof(a)),
		 server_compact_time(q->to_ns, b, sizeof(b)),
		 q->format == RAWCAP_PCAP_PCAPNG ? "pcapng" : "pcap");
	err |= httpd_req_set_header(req, "Content-Disposition", name);
	err |= httpd_req_set_header(req, "X-Rawcap-Node", s->node);
	err |= httpd_req_set_header(req, "X-Rawcap-Window-From",
				    rawcap_format_time(q->from_ns, t, sizeof(t)));
	err |= httpd_req_set_header(req, "X-Rawcap-Window-To",
				    rawcap_format_time(q->to_ns, t, sizeof(t)));
	if (oldest && oldest < q->to_ns && newest >= q->from_ns) {
		err |= httpd_req_set_header(
			req, "X-Rawcap-Held-From",
			rawcap_format_time(oldest > q->from_ns ? oldest : q->from_ns, t,
					   sizeof(t)));
		err |= httpd_req_set_header(
			req, "X-Rawcap-Held-To",
			rawcap_format_time(newest < q->to_ns ? newest : q->to_ns, t, sizeof(t)));
	}
	if (oldest > q->from_ns) {
		err |= httpd_req_set_header(req, "X-Rawcap-Missing-From",
					    rawcap_format_time(q->from_ns, t, sizeof(t)));
		err |= httpd_req_set_header(
			req, "X-Rawcap-Missing-To",
			rawcap_format_time(oldest < q->to_ns ? oldest : q->to_ns, t, sizeof(t)));
		/* the words of a snapshot manifest's missing_reason */
		err |= httpd_req_set_header(req, "X-Rawcap-Missing-Reason",
					    e->recycled ? RAWCAP_MISSING_RECYCLED
							: RAWCAP_MISSING_UNCAPTURED);
	}
	return err ? -ENOMEM : 0;
}

/*
 * Start the export of e's window into a streamed answer. 1 when the export
 * thread runs: e is the thread's from then on (it may be freed already, so
 * the caller must not read it); 0 when the answer is queued without one;
 * or a negative errno.
 */
static int pcap_start(struct httpd_req *req, struct download *e)
{
	const char *type = e->q.format == RAWCAP_PCAP_PCAPNG ? "application/x-pcapng"
							     : "application/vnd.tcpdump.pcap";
	pthread_attr_t at;
	pthread_t t;
	int err = httpd_reply_stream(req, 200, type, &e->st);

	if (err)
		return err;
	e->w = (struct rawcap_window_opts){
		.sz = sizeof(e->w),
		.ring = e->s->ring,
		.storage_dir = e->snapshot ? NULL : e->s->storage,
		.snapshot = e->snapshot,
		.from_ns = e->q.from_ns,
		.to_ns = e->q.to_ns,
		.filter = e->q.filter && *e->q.filter ? e->q.filter : NULL,
		.stop = httpd_stream_stop_flag(e->st),
		.why = e->why,
		.whylen = sizeof(e->why),
	};
	rawcap_meta_join_attach(e->q.pods, &e->w, true);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	download_set_streaming(e, true);
	err = -pthread_create(&t, &at, download_main, e);
	pthread_attr_destroy(&at);
	if (err) { /* the answer is queued: its body ends truncated */
		fprintf(stderr, SERVER_PROG ": export thread: %s\n", strerror(-err));
		download_set_streaming(e, false);
		httpd_stream_end(e->st, false);
		e->st = NULL;
		return 0;
	}
	return 1;
}

/* Parse and check the request: 0, or answered with an error (*answered). */
static int pcap_prepare(struct httpd_req *req, struct download *e, uint64_t *oldest,
			uint64_t *newest, bool *answered)
{
	struct rawcap_window_opts wo = {.sz = sizeof(wo),
					.ring = e->s->ring,
					.storage_dir = e->snapshot ? NULL : e->s->storage,
					.snapshot = e->snapshot};
	char why[320];
	int err = httpd_req_args(req, server_query_arg, &e->q);

	*answered = true;
	if (err == -EINVAL)
		return server_reply_error(req, 400, "bad_query", "%s", e->q.detail);
	if (err)
		return err;
	err = rawcap_window_held(&wo, oldest, newest, &e->recycled);
	if (err == -ENODATA)
		*oldest = *newest = 0;
	else if (err && e->snapshot)
		return server_reply_error(req, 500, "snapshot_unreadable", "snapshot %s: %s",
					  e->snapshot, rawcap_strerror(err));
	else if (err)
		return server_reply_error(req, 503, "no_ring", "%s",
					  rawcap_ring_explain(e->s->ring, err, why, sizeof(why)));
	if (e->snap) {
		/*
		 * A snapshot holds its whole window, packets or not, but for the
		 * part its manifest says was missing: judge by that, not by
		 * where its first and last records happen to fall.
		 */
		server_query_default_window(&e->q, e->snap->from_ns, e->snap->to_ns);
		*oldest = e->snap->held_from_ns;
		*newest = e->snap->to_ns;
		e->recycled = !e->snap->uncaptured;
	}
	err = server_query_finish(&e->q, *oldest);
	if (err == -EINVAL)
		return server_reply_error(req, 400, "bad_query", "%s", e->q.detail);
	*answered = !!err;
	return err;
}

int server_pcap_get(void *arg, struct httpd_req *req)
{
	return server_pcap_download(arg, req, NULL);
}

int server_pcap_download(struct server *s, struct httpd_req *req,
			 const struct server_snapshot_src *snap)
{
	const char *snapshot = snap ? snap->dir : NULL;
	struct download *e = calloc(1, sizeof(*e));
	uint64_t oldest = 0, newest = 0;
	bool answered = false;
	int err;

	if (!e)
		return -ENOMEM;
	e->s = s;
	e->snap = snap; /* for pcap_prepare only: the caller's */
	if (snapshot && !(e->snapshot = strdup(snapshot))) {
		free(e);
		return -ENOMEM;
	}
	__atomic_fetch_add(&s->exports, 1, __ATOMIC_RELAXED);
	if (!download_list(e, snap ? snap->name : NULL)) {
		download_free(e);
		return server_reply_error(req, 404, "not_found", "no snapshot %s", snap->name);
	}
	err = server_query_init(&e->q, rawcap_now_ns());
	if (!err)
		err = pcap_prepare(req, e, &oldest, &newest, &answered);
	if (!err && !answered &&
	    (unsigned)__atomic_load_n(&s->exports, __ATOMIC_RELAXED) > s->max_exports &&
	    !download_evict(s)) {
		httpd_req_set_header(req, "Retry-After", SERVER_RETRY_AFTER_S);
		err = server_reply_error(req, 429, "too_many_exports",
					 "%u exports are running, the most --max-exports allows",
					 s->max_exports);
		answered = true;
	}
	if (!err && !answered)
		err = pcap_headers(req, e, oldest, newest);
	if (!err && !answered) {
		err = pcap_start(req, e);
		if (err > 0) /* the export thread owns e */
			return 0;
	}
	download_free(e);
	return err;
}
