/* SPDX-License-Identifier: MIT */
/*
 * k8s_watch_int.h - the watcher's state, shared by k8s_watch.c (thread,
 * queue, drain) and k8s_stream.c (one resource's list/watch state machine).
 */
#ifndef RAWCAP_K8S_WATCH_INT_H
#define RAWCAP_K8S_WATCH_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>

#include "k8s_cache.h"
#include "k8s_config.h"
#include "k8s_list.h"
#include "k8s_queue.h"
#include "k8s_watch.h"

#define K8S_CONT_MAX 4096
#define K8S_ERRBODY_MAX (64 * 1024)

enum k8s_phase { K8S_PH_LIST, K8S_PH_WATCH };

struct k8s_stream {
	struct k8s_watch *w;
	enum k8s_res res;
	CURL *easy;
	struct curl_slist *hdrs;
	enum k8s_phase phase;
	bool active;	     /* a request is in flight */
	bool relist;	     /* the stream said 410: list again when it ends */
	bool bad_page;	     /* the list page in flight is not one: aborted */
	unsigned page_fails; /* consecutive failures of the page at cont */
	uint64_t started_ns; /* monotonic start of the request in flight */
	uint64_t next_ns;    /* monotonic time the next request may start */
	unsigned fails;	     /* consecutive failures, for backoff */
	uint32_t list_gen;
	char rv[K8S_RV_MAX]; /* resourceVersion to watch from */
	char cont[K8S_CONT_MAX];
	struct k8s_list_scan scan; /* the list page in flight, item by item */
	char *buf;		   /* the partial watch line, or an error body */
	size_t len, cap;
	bool skipping;	     /* discarding an oversized watch line */
	long http;	     /* response code of the request in flight */
	uint64_t last_log_ns;
	struct k8s_cache cache;
};

struct k8s_watch {
	struct k8s_watch_opts o;
	struct k8s_json_limits lim;
	struct k8s_conn conn;
	struct k8s_queue q;
	CURLM *multi;
	pthread_t thread;
	bool started;
	int stop; /* atomic */
	struct k8s_stream s[K8S_RES_NR];
	uint64_t next_sync_ns;
	size_t sync_pos;
	int sync_res; /* resource being restated, -1 if none */
	uint64_t rng;
	struct k8s_watch_stats st; /* updated with __atomic ops */
	uint64_t logged_errors;	   /* tick: error total last logged */
};

#define K8S_STAT_ADD(w, field, n) __atomic_fetch_add(&(w)->st.field, (n), __ATOMIC_RELAXED)

void k8s_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* k8s_stream.c */
int k8s_stream_init(struct k8s_watch *w, struct k8s_stream *s, enum k8s_res res);
void k8s_stream_fini(struct k8s_stream *s);
int k8s_stream_start(struct k8s_stream *s, uint64_t now);
void k8s_stream_done(struct k8s_stream *s, CURLcode res, uint64_t now);
/* Queue the record for obj with event ev (k8s_watch.c). */
void k8s_emit(struct k8s_watch *w, const struct k8s_obj *obj, enum k8s_ev ev);

#endif
