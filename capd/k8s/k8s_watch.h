/* SPDX-License-Identifier: MIT */
/*
 * k8s_watch.h - capd's Kubernetes metadata source: watch the API server and
 * put pod, namespace, service and EndpointSlice records into the ring.
 *
 * A thread of its own (started after the privilege drop) lists, then
 * watches each resource from the list's resourceVersion, with bookmarks; a
 * 410 Gone leads to a fresh list, failures to jittered exponential backoff.
 * It never touches the ring: finished records go through a bounded queue
 * whose eventfd capd's event loop polls, and k8s_watch_drain(), called on
 * capd's writer thread, copies them into the ring. A slow or failing API
 * server therefore costs capture nothing, and a flood of events costs at
 * most the queue's bound (overflow is counted as RAWCAP_LOSS_META_QUEUE).
 *
 * capd wiring: capd_k8s_setup() in k8s_source.c does it all (create before
 * the privilege drop, thread started by the first tick, drain on readiness).
 */
#ifndef RAWCAP_K8S_WATCH_H
#define RAWCAP_K8S_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "k8s_json.h"

struct ring_writer;
struct k8s_watch;

struct k8s_watch_opts {
	const char *kubeconfig;	   /* NULL: in-cluster */
	const char *sa_dir;	   /* NULL: /var/run/secrets/kubernetes.io/serviceaccount */
	const char *node;	   /* NULL: $NODE_NAME */
	unsigned resources;	   /* mask of 1 << K8S_RES_*; 0 means all */
	size_t max_event;	   /* largest watch event line or list item (default 2 MiB) */
	size_t max_record;	   /* largest record (default 64 KiB; drain also checks the ring) */
	size_t queue_items;	   /* default 4096 */
	size_t queue_bytes;	   /* default 16 MiB */
	size_t cache_bytes;	   /* per resource, default 32 MiB */
	unsigned list_limit;	   /* items per list page, default 500 */
	unsigned resync_s;	   /* restate live objects every so often; 0: never (default 300) */
	unsigned watch_timeout_s;  /* server-side watch timeout, jittered up to 2x (default 300) */
	unsigned idle_timeout_s;   /* no byte for this long ends a watch (default 2x watch timeout) */
	unsigned connect_timeout_s; /* default 10 */
	unsigned backoff_min_ms;   /* default 500 */
	unsigned backoff_max_ms;   /* default 30000 */
	int verbose;		   /* log every event (tests), never secrets */
};

struct k8s_watch_stats {
	uint64_t events[K8S_RES_NR]; /* records queued, per resource */
	uint64_t lists, list_pages, watches, bookmarks;
	uint64_t gone;		/* 410s: each leads to a fresh list */
	uint64_t http_errors;	/* non-200 responses other than 410 */
	uint64_t conn_errors;	/* transport failures: refused, reset, TLS, timeout */
	uint64_t json_errors;	/* malformed lines or pages (skipped) */
	uint64_t oversized;	/* objects or lines over a bound (skipped) */
	uint64_t deleted_on_relist; /* objects a relist found gone */
	uint64_t syncs;		/* periodic restatements queued */
	uint64_t queued, dropped, written;
	uint64_t cache_full;
};

void k8s_watch_opts_default(struct k8s_watch_opts *o);

/*
 * Resolve the connection, read the CA, client certificate and key into memory
 * and set up the queue: no thread, no network. Call before the privilege drop
 * (the files may be readable by root only). Logs and returns -errno on failure.
 */
int k8s_watch_create(const struct k8s_watch_opts *o, struct k8s_watch **out);
/* Start the watcher thread (idempotent). Call after the privilege drop. */
int k8s_watch_run(struct k8s_watch *w);
/* create + run, for programs without a privilege drop (tests). */
int k8s_watch_start(const struct k8s_watch_opts *o, struct k8s_watch **out);
/* The fd to poll for EPOLLIN (an eventfd). */
int k8s_watch_fd(const struct k8s_watch *w);
/* The API server's URL (https://host:port), for the sandbox's network rules. */
const char *k8s_watch_server(const struct k8s_watch *w);
/*
 * Copy up to a batch of queued records into the ring (ring_reserve only: the
 * caller publishes and notifies, as capd's loop does per batch). Call on
 * readiness from capd's writer thread. Returns the number written; if more
 * remain the fd stays readable.
 */
int k8s_watch_drain(struct k8s_watch *w, struct ring_writer *rw);
/* Once a second: starts the thread if not yet running, logs a summary when error counters moved. */
void k8s_watch_tick(struct k8s_watch *w, struct ring_writer *rw, uint64_t now_ns);
/* Stop the thread, free everything (queued records are discarded). */
void k8s_watch_stop(struct k8s_watch *w);
void k8s_watch_get_stats(struct k8s_watch *w, struct k8s_watch_stats *out);

#endif
