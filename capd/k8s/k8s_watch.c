// SPDX-License-Identifier: MIT
/*
 * k8s_watch.c - the watcher thread, its hand-off queue and the drain into
 * the ring (see k8s_watch.h for how capd uses it).
 *
 * One thread drives all four resources with one curl multi handle and
 * sleeps in curl_multi_poll() between events (at most a second, to start
 * backed-off requests on time), so an idle or unreachable API server costs
 * no CPU. It restates cached objects every resync_s, paced by the queue's
 * room so a restatement never crowds out live events.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rawcap/format.h>

#include "clock.h"
#include "k8s_watch_int.h"
#include "ring_writer.h"

#define DRAIN_BATCH 256
#define SYNC_STEP   64

void k8s_log(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "capd: k8s: %s\n", msg);
}

void k8s_watch_opts_default(struct k8s_watch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_event = 2u << 20; /* etcd stores objects up to 1.5 MiB: every real one fits */
	o->max_record = 64u << 10;
	o->queue_items = 4096;
	o->queue_bytes = 16u << 20;
	o->cache_bytes = 32u << 20;
	o->list_limit = 500;
	o->resync_s = 300;
	o->watch_timeout_s = 300;
	o->connect_timeout_s = 10;
	o->backoff_min_ms = 500;
	o->backoff_max_ms = 30000;
}

void k8s_emit(struct k8s_watch *w, const struct k8s_obj *obj, enum k8s_ev ev)
{
	uint8_t *rec;
	size_t len;
	int err;

	err = k8s_record_build(obj, ev, w->o.max_record, &rec, &len);
	if (err) {
		K8S_STAT_ADD(w, oversized, 1);
		return;
	}
	if (w->o.verbose)
		k8s_log("%s %s %s rv=%s", k8s_res_name(obj->res), k8s_ev_name(ev), obj->uid,
			obj->rv);
	if (k8s_queue_push(&w->q, k8s_res_meta_kind(obj->res), clock_real_ns(), rec, len))
		K8S_STAT_ADD(w, dropped, 1);
	else
		K8S_STAT_ADD(w, queued, 1);
	K8S_STAT_ADD(w, events[obj->res], 1);
	K8S_STAT_ADD(w, syncs, ev == K8S_EV_SYNC);
	free(rec);
}

static void sync_one(void *ctx, struct k8s_centry *e)
{
	k8s_emit(ctx, &e->obj, K8S_EV_SYNC);
}

/* Restate cached objects a step at a time while the queue has room. */
static void sync_step(struct k8s_watch *w, uint64_t now)
{
	size_t room;

	if (!w->o.resync_s)
		return;
	if (w->sync_res < 0) {
		if (now < w->next_sync_ns)
			return;
		w->next_sync_ns = now + w->o.resync_s * 1000000000ull;
		w->sync_res = 0;
		w->sync_pos = 0;
	}
	pthread_mutex_lock(&w->q.lock);
	room = w->q.items < w->q.max_items / 2 ? w->q.max_items / 2 - w->q.items : 0;
	pthread_mutex_unlock(&w->q.lock);
	while (room && w->sync_res < K8S_RES_NR) {
		struct k8s_stream *s = &w->s[w->sync_res];
		size_t n = s->easy ? k8s_cache_walk(&s->cache, &w->sync_pos,
						     room < SYNC_STEP ? room : SYNC_STEP, sync_one, w)
				   : 0;

		room = n < room ? room - n : 0;
		if (!s->easy || w->sync_pos >= K8S_CACHE_BUCKETS) {
			w->sync_res++;
			w->sync_pos = 0;
		}
	}
	if (w->sync_res >= K8S_RES_NR)
		w->sync_res = -1;
}

static int poll_timeout_ms(struct k8s_watch *w, uint64_t now)
{
	uint64_t t = 1000000000ull;

	for (int i = 0; i < K8S_RES_NR; i++) {
		struct k8s_stream *s = &w->s[i];

		if (s->easy && !s->active)
			t = s->next_ns <= now ? 0 : (s->next_ns - now < t ? s->next_ns - now : t);
	}
	if (w->sync_res >= 0)
		t = t < 100000000ull ? t : 100000000ull; /* pace a restatement in progress */
	return (int)(t / 1000000ull);
}

static void finish_transfers(struct k8s_watch *w, uint64_t now)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(w->multi, &left)))
		if (m->msg == CURLMSG_DONE) {
			struct k8s_stream *s = NULL;

			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			if (s)
				k8s_stream_done(s, m->data.result, now);
		}
}

static void *watch_thread(void *arg)
{
	struct k8s_watch *w = arg;
	int running;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = clock_mono_ns();

		for (int i = 0; i < K8S_RES_NR; i++) {
			struct k8s_stream *s = &w->s[i];

			if (s->easy && !s->active && now >= s->next_ns && k8s_stream_start(s, now))
				s->next_ns = now + 1000000000ull;
		}
		sync_step(w, now);
		curl_multi_perform(w->multi, &running);
		finish_transfers(w, clock_mono_ns());
		curl_multi_poll(w->multi, NULL, 0, poll_timeout_ms(w, clock_mono_ns()), NULL);
	}
	return NULL;
}

static void watch_free(struct k8s_watch *w)
{
	for (int i = 0; i < K8S_RES_NR; i++) {
		if (w->s[i].active)
			curl_multi_remove_handle(w->multi, w->s[i].easy);
		k8s_stream_fini(&w->s[i]);
	}
	if (w->multi)
		curl_multi_cleanup(w->multi);
	k8s_queue_destroy(&w->q);
	k8s_conn_free(&w->conn);
	free(w);
}

static void opts_fix(struct k8s_watch_opts *o)
{
	if (!o->resources)
		o->resources = (1u << K8S_RES_NR) - 1;
	if (!o->idle_timeout_s)
		o->idle_timeout_s = 2 * o->watch_timeout_s + 30;
	if (!o->backoff_min_ms)
		o->backoff_min_ms = 1;
	if (o->backoff_max_ms < o->backoff_min_ms)
		o->backoff_max_ms = o->backoff_min_ms;
	if (!o->list_limit)
		o->list_limit = 500;
	if (!o->connect_timeout_s)
		o->connect_timeout_s = 10;
}

static int watch_init(struct k8s_watch *w)
{
	char err[256];
	int r;

	opts_fix(&w->o);
	w->lim.max_line = w->o.max_event;
	w->lim.max_record = w->o.max_record;
	w->sync_res = -1;
	w->rng = clock_real_ns() ^ (uint64_t)getpid() << 32;
	w->q.efd = -1;
	r = k8s_conn_resolve(w->o.kubeconfig, w->o.sa_dir, w->o.node, &w->conn, err, sizeof(err));
	if (r) {
		k8s_log("%s", err);
		return r;
	}
	r = k8s_queue_init(&w->q, w->o.queue_items, w->o.queue_bytes);
	if (r) {
		k8s_log("cannot create the metadata queue: %s", strerror(-r));
		return r;
	}
	w->multi = curl_multi_init();
	if (!w->multi)
		return -ENOMEM;
	for (int i = 0; i < K8S_RES_NR; i++)
		if (w->o.resources & (1u << i)) {
			r = k8s_stream_init(w, &w->s[i], i);
			if (r)
				return r;
		}
	w->next_sync_ns = clock_mono_ns() + w->o.resync_s * 1000000000ull;
	return 0;
}

int k8s_watch_create(const struct k8s_watch_opts *o, struct k8s_watch **out)
{
	struct k8s_watch *w;
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		k8s_log("cannot initialise libcurl");
		return -ENOMEM;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->o = *o;
	r = watch_init(w);
	if (r) {
		watch_free(w);
		return r;
	}
	*out = w;
	return 0;
}

int k8s_watch_run(struct k8s_watch *w)
{
	int r;

	if (w->started)
		return 0;
	r = -pthread_create(&w->thread, NULL, watch_thread, w);
	if (r) {
		k8s_log("cannot start the watcher thread: %s", strerror(-r));
		return r;
	}
	w->started = true;
	k8s_log("watching %s as node %s", w->conn.server, w->conn.node);
	return 0;
}

int k8s_watch_start(const struct k8s_watch_opts *o, struct k8s_watch **out)
{
	int r = k8s_watch_create(o, out);

	if (r)
		return r;
	r = k8s_watch_run(*out);
	if (r)
		k8s_watch_stop(*out);
	return r;
}

const char *k8s_watch_server(const struct k8s_watch *w)
{
	return w->conn.server;
}

int k8s_watch_fd(const struct k8s_watch *w)
{
	return w->q.efd;
}

int k8s_watch_drain(struct k8s_watch *w, struct ring_writer *rw)
{
	uint64_t dropped = 0;
	struct k8s_qitem *it = k8s_queue_pop(&w->q, DRAIN_BATCH, &dropped);
	int n = 0;

	while (it) {
		struct k8s_qitem *next = it->next;
		void *p = it->len <= ring_max_payload(rw)
				  ? ring_reserve(rw, RAWCAP_REC_META, it->kind, it->ts_ns, it->len)
				  : NULL;

		if (p) {
			memcpy(p, it->data, it->len);
			n++;
		} else {
			ring_count_loss(rw, RAWCAP_LOSS_TRUNCATED, 1);
		}
		free(it);
		it = next;
	}
	if (dropped)
		ring_count_loss(rw, RAWCAP_LOSS_META_QUEUE, dropped);
	K8S_STAT_ADD(w, written, (uint64_t)n);
	return n;
}

static uint64_t error_total(const struct k8s_watch_stats *st)
{
	return st->http_errors + st->conn_errors + st->json_errors + st->oversized + st->dropped +
	       st->gone;
}

void k8s_watch_tick(struct k8s_watch *w, struct ring_writer *rw, uint64_t now_ns)
{
	struct k8s_watch_stats st;
	uint64_t errs;

	(void)now_ns;
	(void)rw;
	if (!w->started && k8s_watch_run(w))
		return; /* logged; tried again next second */
	k8s_watch_get_stats(w, &st);
	errs = error_total(&st);
	if (errs == w->logged_errors)
		return;
	w->logged_errors = errs;
	k8s_log("errors so far: http %llu, connection %llu, json %llu, oversized %llu, "
		"410 gone %llu, queue drops %llu",
		(unsigned long long)st.http_errors, (unsigned long long)st.conn_errors,
		(unsigned long long)st.json_errors, (unsigned long long)st.oversized,
		(unsigned long long)st.gone, (unsigned long long)st.dropped);
}

void k8s_watch_stop(struct k8s_watch *w)
{
	if (!w)
		return;
	if (w->started) {
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
		curl_multi_wakeup(w->multi);
		pthread_join(w->thread, NULL);
	}
	watch_free(w);
}

void k8s_watch_get_stats(struct k8s_watch *w, struct k8s_watch_stats *out)
{
	const uint64_t *src = (const uint64_t *)&w->st;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
