// SPDX-License-Identifier: MIT
/*
 * k8s_stream.c - one resource's list-then-watch state machine on libcurl.
 *
 * LIST pages (limit/continue) until the list is whole, reporting objects
 * that are new or changed against the cache and, at the end, those that
 * vanished. A page is read item by item as it arrives (k8s_list.c), so
 * memory is bounded by the largest item, not the page, and an item over
 * max_event is skipped and counted while the rest of its page is kept. A
 * page that fails is asked for again with the same continue token, the
 * whole list again only after 3 failures or a 410 (the token expired).
 * Then WATCH from the list's resourceVersion with bookmarks; each
 * line is an event. A watch that ends cleanly (server timeout) is resumed
 * from the last resourceVersion seen; a 410 Gone, as a status or as an
 * ERROR event, starts a fresh LIST; anything else backs off with jitter.
 * Every byte that arrives is bounded before it is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "k8s_watch_int.h"

static const char *const res_paths[K8S_RES_NR] = {
	"/api/v1/pods",
	"/api/v1/namespaces",
	"/api/v1/services",
	"/apis/discovery.k8s.io/v1/endpointslices",
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud);
static void list_item(void *ctx, struct k8s_obj *obj);
static void list_skipped(void *ctx, int why, size_t bytes);

/* Log at most once a second per stream, so a failing server cannot flood stderr. */
static void stream_log(struct k8s_stream *s, uint64_t now, const char *what, const char *detail)
{
	if (!s->w->o.verbose && s->last_log_ns && now - s->last_log_ns < 1000000000ull)
		return;
	s->last_log_ns = now;
	k8s_log("%s %s: %s", k8s_res_name(s->res), what, detail);
}

int k8s_stream_init(struct k8s_watch *w, struct k8s_stream *s, enum k8s_res res)
{
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->res = res;
	s->phase = K8S_PH_LIST;
	k8s_cache_init(&s->cache, w->o.cache_bytes);
	s->easy = curl_easy_init();
	return s->easy ? 0 : -ENOMEM;
}

static void drop_headers(struct k8s_stream *s)
{
	/* the Authorization header holds the token: wipe it before freeing */
	for (struct curl_slist *l = s->hdrs; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
}

void k8s_stream_fini(struct k8s_stream *s)
{
	if (s->easy)
		curl_easy_cleanup(s->easy);
	s->easy = NULL;
	drop_headers(s);
	free(s->buf);
	s->buf = NULL;
	k8s_list_free(&s->scan);
	k8s_cache_clear(&s->cache);
}

static int build_url(struct k8s_stream *s, char *url, size_t len)
{
	struct k8s_watch *w = s->w;
	char sel[600] = "", *esc;
	int n;

	if (s->res == K8S_RES_POD) {
		esc = curl_easy_escape(s->easy, w->conn.node, 0);
		if (!esc)
			return -ENOMEM;
		snprintf(sel, sizeof(sel), "&fieldSelector=spec.nodeName%%3D%s", esc);
		curl_free(esc);
	}
	if (s->phase == K8S_PH_LIST) {
		char cont[K8S_CONT_MAX * 3 + 16] = "";

		if (s->cont[0]) {
			esc = curl_easy_escape(s->easy, s->cont, 0);
			if (!esc)
				return -ENOMEM;
			snprintf(cont, sizeof(cont), "&continue=%s", esc);
			curl_free(esc);
		}
		n = snprintf(url, len, "%s%s?limit=%u%s%s", w->conn.server, res_paths[s->res],
			     w->o.list_limit, sel, cont);
	} else {
		unsigned t = w->o.watch_timeout_s;

		t += (unsigned)(w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull) %
		     (t + 1);
		esc = curl_easy_escape(s->easy, s->rv, 0);
		if (!esc)
			return -ENOMEM;
		n = snprintf(url, len,
			     "%s%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s"
			     "&timeoutSeconds=%u%s",
			     w->conn.server, res_paths[s->res], esc, t, sel);
		curl_free(esc);
	}
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static void set_blob(CURL *e, CURLoption file_opt, CURLoption blob_opt, const struct k8s_blob *b)
{
	if (b->data) {
		struct curl_blob blob = { .data = b->data, .len = b->len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(e, blob_opt, &blob);
	} else if (b->file) {
		curl_easy_setopt(e, file_opt, b->file);
	}
}

static int set_headers(struct k8s_stream *s)
{
	struct k8s_conn *c = &s->w->conn;
	struct curl_slist *l;

	drop_headers(s);
	l = curl_slist_append(NULL, "Accept: application/json");
	if (l && c->token) {
		size_t n = strlen(c->token) + 32;
		char *h = malloc(n);
		struct curl_slist *l2 = NULL;

		if (h) {
			snprintf(h, n, "Authorization: Bearer %s", c->token);
			l2 = curl_slist_append(l, h);
			explicit_bzero(h, n);
			free(h);
		}
		if (!l2) {
			curl_slist_free_all(l);
			return -ENOMEM;
		}
	}
	if (!l)
		return -ENOMEM;
	s->hdrs = l;
	return 0;
}

static void set_options(struct k8s_stream *s, const char *url)
{
	struct k8s_watch *w = s->w;
	CURL *e = s->easy;

	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "rawcap-capd");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)w->o.connect_timeout_s);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)w->o.idle_timeout_s);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (s->phase == K8S_PH_LIST)
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
	set_blob(e, CURLOPT_CAINFO, CURLOPT_CAINFO_BLOB, &w->conn.ca);
	set_blob(e, CURLOPT_SSLCERT, CURLOPT_SSLCERT_BLOB, &w->conn.cert);
	set_blob(e, CURLOPT_SSLKEY, CURLOPT_SSLKEY_BLOB, &w->conn.key);
	if (w->conn.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

int k8s_stream_start(struct k8s_stream *s, uint64_t now)
{
	char url[K8S_CONT_MAX * 3 + 1024];
	int err;

	k8s_conn_refresh_token(&s->w->conn);
	err = build_url(s, url, sizeof(url));
	if (!err)
		err = set_headers(s);
	if (err) {
		stream_log(s, now, "cannot build request", strerror(-err));
		return err;
	}
	set_options(s, url);
	s->len = 0;
	s->skipping = false;
	s->relist = false;
	s->bad_page = false;
	if (s->phase == K8S_PH_LIST)
		k8s_list_begin(&s->scan, s->res, &s->w->lim, list_item, list_skipped, s);
	s->http = 0;
	s->started_ns = now;
	if (s->phase == K8S_PH_LIST && !s->cont[0]) {
		s->list_gen++;
		K8S_STAT_ADD(s->w, lists, 1);
	}
	K8S_STAT_ADD(s->w, list_pages, s->phase == K8S_PH_LIST);
	K8S_STAT_ADD(s->w, watches, s->phase == K8S_PH_WATCH);
	if (curl_multi_add_handle(s->w->multi, s->easy) != CURLM_OK)
		return -ENOMEM;
	s->active = true;
	return 0;
}

static int buf_append(struct k8s_stream *s, const char *p, size_t n, size_t max)
{
	if (s->len + n > max)
		return -E2BIG;
	if (k8s_buf_reserve(&s->buf, &s->cap, s->len + n + 1, max + 1))
		return -ENOMEM;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = 0;
	return 0;
}

/* One complete watch event line. */
static void watch_line(struct k8s_stream *s, const char *line, size_t len)
{
	struct k8s_watch *w = s->w;
	struct k8s_obj obj;
	int err;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	err = k8s_json_event(s->res, line, len, &w->lim, &obj);
	if (err == -E2BIG) {
		K8S_STAT_ADD(w, oversized, 1);
		stream_log(s, clock_mono_ns(), "watch", "object over the size bounds, skipped");
		return;
	}
	if (err) {
		K8S_STAT_ADD(w, json_errors, 1);
		stream_log(s, clock_mono_ns(), "watch", "malformed event line, skipped");
		return;
	}
	switch (obj.ev) {
	case K8S_EV_BOOKMARK:
		K8S_STAT_ADD(w, bookmarks, 1);
		break;
	case K8S_EV_ERROR:
		if (obj.err_code == 410)
			s->relist = true;
		else
			K8S_STAT_ADD(w, http_errors, 1);
		break;
	case K8S_EV_DELETED:
		k8s_cache_del(&s->cache, obj.uid);
		k8s_emit(w, &obj, obj.ev);
		break;
	default:
		if (k8s_cache_put(&s->cache, &obj, s->list_gen) == -ENOSPC)
			K8S_STAT_ADD(w, cache_full, 1);
		k8s_emit(w, &obj, obj.ev);
	}
	if (obj.rv[0] && obj.ev != K8S_EV_ERROR)
		memcpy(s->rv, obj.rv, sizeof(s->rv));
	k8s_obj_free(&obj);
}

/* Split arriving bytes into lines; a line over max_event is skipped whole. */
static int watch_data(struct k8s_stream *s, const char *p, size_t n)
{
	while (n && !s->relist) {
		const char *nl = memchr(p, '\n', n);
		size_t chunk = nl ? (size_t)(nl - p) : n;

		if (!s->skipping && buf_append(s, p, chunk, s->w->o.max_event)) {
			s->skipping = true;
			s->len = 0;
			K8S_STAT_ADD(s->w, oversized, 1);
			stream_log(s, clock_mono_ns(), "watch", "event line over max_event, skipped");
		}
		if (nl) {
			if (!s->skipping)
				watch_line(s, s->buf, s->len);
			s->skipping = false;
			s->len = 0;
			chunk++;
		}
		p += chunk;
		n -= chunk;
	}
	/* a 410 ERROR event: end this watch now, the done handler relists */
	return s->relist ? -ECANCELED : 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct k8s_stream *s = ud;
	size_t n = size * nmemb;

	if (!s->http)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->http);
	if (s->http != 200) {
		buf_append(s, ptr, n, K8S_ERRBODY_MAX); /* a Status body, kept for nothing but bounds */
		return n;
	}
	if (s->phase == K8S_PH_WATCH) {
		if (s->fails) /* data flows again: the next failure starts a fresh backoff */
			s->fails = 0;
		return watch_data(s, ptr, n) ? 0 : n;
	}
	if (k8s_list_feed(&s->scan, ptr, n)) {
		s->bad_page = true; /* not a list page: stop reading it */
		return 0;
	}
	return n;
}

static void list_item(void *ctx, struct k8s_obj *obj)
{
	struct k8s_stream *s = ctx;
	struct k8s_centry *e = k8s_cache_get(&s->cache, obj->uid);
	enum k8s_ev ev = K8S_EV_ADDED;

	if (e && !strcmp(e->obj.rv, obj->rv)) {
		e->gen = s->list_gen; /* unchanged since we last said so */
		return;
	}
	if (e)
		ev = K8S_EV_MODIFIED;
	if (k8s_cache_put(&s->cache, obj, s->list_gen) == -ENOSPC)
		K8S_STAT_ADD(s->w, cache_full, 1);
	k8s_emit(s->w, obj, ev);
}

/* An item of the page was left out: over max_event, or not a valid object. */
static void list_skipped(void *ctx, int why, size_t bytes)
{
	struct k8s_stream *s = ctx;
	char detail[128];

	if (why == -E2BIG) {
		K8S_STAT_ADD(s->w, oversized, 1);
		snprintf(detail, sizeof(detail),
			 "an object of %zu bytes over the size bounds, skipped", bytes);
	} else {
		K8S_STAT_ADD(s->w, json_errors, 1);
		snprintf(detail, sizeof(detail), "a malformed object, skipped");
	}
	stream_log(s, clock_mono_ns(), "list", detail);
}

static void list_gone(void *ctx, struct k8s_centry *e)
{
	struct k8s_stream *s = ctx;

	K8S_STAT_ADD(s->w, deleted_on_relist, 1);
	k8s_emit(s->w, &e->obj, K8S_EV_DELETED);
}

/* A whole list page arrived with 200: its items are in. Returns 0 or -EBADMSG. */
static int list_page(struct k8s_stream *s)
{
	char rv[K8S_RV_MAX], cont[K8S_CONT_MAX];
	int err = k8s_list_end(&s->scan, rv, sizeof(rv), cont, sizeof(cont));

	if (err)
		return err;
	s->page_fails = 0;
	memcpy(s->cont, cont, sizeof(s->cont));
	if (s->cont[0])
		return 0;
	k8s_list_free(&s->scan); /* the list is whole: give its buffers back */
	k8s_cache_sweep(&s->cache, s->list_gen, list_gone, s);
	memcpy(s->rv, rv, sizeof(s->rv));
	s->phase = K8S_PH_WATCH;
	return 0;
}

static uint64_t backoff_ns(struct k8s_stream *s)
{
	struct k8s_watch *w = s->w;
	uint64_t d = w->o.backoff_min_ms;
	unsigned i;

	for (i = 1; i < s->fails && d < w->o.backoff_max_ms; i++)
		d *= 2;
	if (d > w->o.backoff_max_ms)
		d = w->o.backoff_max_ms;
	/* "equal jitter": half fixed, half random, so retries of many nodes spread out */
	w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
	d = d / 2 + (w->rng >> 33) % (d / 2 + 1);
	return d * 1000000ull;
}

static void fail(struct k8s_stream *s, uint64_t now, const char *what, const char *detail)
{
	s->fails++;
	s->next_ns = now + backoff_ns(s);
	/* a failed page is asked for again; after 3 failures, the whole list */
	if (s->phase == K8S_PH_LIST && s->cont[0] && ++s->page_fails >= 3) {
		s->cont[0] = 0;
		s->page_fails = 0;
	}
	stream_log(s, now, what, detail);
}

static void gone(struct k8s_stream *s, uint64_t now)
{
	K8S_STAT_ADD(s->w, gone, 1);
	stream_log(s, now, "410 Gone", "resourceVersion too old, listing again");
	s->phase = K8S_PH_LIST;
	s->rv[0] = 0;
	s->cont[0] = 0;
	s->page_fails = 0;
	s->next_ns = now;
}

void k8s_stream_done(struct k8s_stream *s, CURLcode res, uint64_t now)
{
	char detail[96];

	curl_multi_remove_handle(s->w->multi, s->easy);
	s->active = false;
	drop_headers(s);
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->http);
	if (s->http == 410 || s->relist)
		return gone(s, now);
	if (s->bad_page) {
		K8S_STAT_ADD(s->w, json_errors, 1);
		return fail(s, now, "list", "malformed list page");
	}
	if (res != CURLE_OK) {
		K8S_STAT_ADD(s->w, conn_errors, 1);
		return fail(s, now, s->phase == K8S_PH_LIST ? "list" : "watch",
			    curl_easy_strerror(res));
	}
	if (s->http != 200) {
		K8S_STAT_ADD(s->w, http_errors, 1);
		snprintf(detail, sizeof(detail), "HTTP status %ld", s->http);
		return fail(s, now, s->phase == K8S_PH_LIST ? "list" : "watch", detail);
	}
	if (s->phase == K8S_PH_LIST) {
		if (list_page(s)) {
			K8S_STAT_ADD(s->w, json_errors, 1);
			return fail(s, now, "list", "malformed list page");
		}
		s->fails = 0;
	}
	/* next page, first watch, or a watch the server timed out; a server that
	 * ends every watch at once still gets at most one request a second */
	s->next_ns = now;
	if (s->phase == K8S_PH_WATCH && now < s->started_ns + 1000000000ull)
		s->next_ns = s->started_ns + 1000000000ull;
}
