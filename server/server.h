/* SPDX-License-Identifier: MIT */
/*
 * server.h - rawcap-server: the node API (docs/API.md) over librawcap,
 * served by httpd/ (libmicrohttpd, a thread per connection).
 *
 * What the files share: the server's configuration and counters, the JSON
 * answers (json.c), the query parser (query.c), and the handlers of each
 * group of endpoints (node.c, pcap.c, snapshots.c and its jobs.c).
 */
#ifndef RAWCAP_SERVER_H
#define RAWCAP_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "httpd.h"

#define SERVER_PROG	     "rawcap-server"
#define SERVER_MAX_EXPORTS   4
#define SERVER_MAX_QUERY     4096 /* bytes of query string names and values */
#define SERVER_MAX_BODY	     8192 /* bytes of a JSON request body */
#define SERVER_MAX_ARGS	     64
#define SERVER_MAX_HEADERS   8192 /* bytes of header names and values (431) */
#define SERVER_MAX_COUNTS    128 /* (endpoint, code) pairs counted for /metrics */
#define SERVER_RETRY_AFTER_S "5"
#define SERVER_EVICT_MS	     2000 /* a download whose client took nothing this long yields its slot */

struct server_count {
	const char *endpoint; /* the route's path pattern, or "other" */
	unsigned code;
	uint64_t n;
};

struct snap_job;
struct transfer;
struct download;

struct server {
	/* configuration, fixed after start */
	const char *listen, *ring, *storage, *snapshots;
	const char *control_dir; /* the dissection switch's directory, or NULL */
	bool dissection_initial; /* the switch while control_dir has no file */
	const char *tls_cert_file, *tls_key_file, *tls_ca_file, *token_file;
	const char *token_ro_file;		   /* a token that may GET only */
	char *tls_cert, *tls_key, *tls_ca, *token; /* their contents (creds.c) */
	char *token_ro;
	char node[256];
	unsigned max_exports;
	uint64_t snapshot_quota; /* bytes all snapshots may use; 0: unlimited */
	struct httpd *h;
	/* pcap exports running now (atomic) */
	int exports;
	/* requests by endpoint and code, for /metrics */
	pthread_mutex_t lock;
	struct server_count counts[SERVER_MAX_COUNTS];
	unsigned ncounts;
	/* snapshots being made or failed (snapshots.c), under lock; job_ended is signalled
	 * as each ends, stopping refuses new ones (at exit) */
	struct snap_job *jobs;
	pthread_cond_t job_ended;
	bool stopping;
	/* transfers to and from object storage (transfer.c), under lock */
	struct transfer *transfers;
	/* pcap downloads (pcap.c), under lock: DELETE of a snapshot being read is 409,
	 * and a new download may end one whose client takes nothing */
	struct download *downloads;
};

/* creds.c: read the TLS files and the token (0, or 2 after saying why); where HTTP may be served.
 */
int server_creds_load(struct server *s);
int server_check_listen(const struct server *s);
void server_creds_free(struct server *s);

/* json.c: answers. */
int server_reply_json(struct httpd_req *req, unsigned status, cJSON *body);
int server_reply_error(struct httpd_req *req, unsigned status, const char *code, const char *detail,
		       ...) __attribute__((format(printf, 4, 5)));
char *server_error_body(void *arg, unsigned status, const char *code, const char *detail,
			const char **type, size_t *len);
void server_json_u64(cJSON *o, const char *key, uint64_t v);
/* A request body as JSON; NULL if it is not JSON, or holds a NUL (raw or \u0000). */
cJSON *server_json_parse(const void *text, size_t len);
#define SERVER_JSON_BAD "the body is not a JSON object (without NUL characters)"
/* Every member of object o is one of keys, once (a typo must not pass unseen): 0, or
   -EINVAL with detail naming the member. */
int server_json_keys(const cJSON *o, const char *const *keys, size_t n, char *detail, size_t len);
/* KEY (RFC 3339 with nanoseconds) and KEY_ns; ts 0 gives nulls. */
void server_json_time(cJSON *o, const char *key, uint64_t ts_ns);
/* "20261130T074500Z": a time as it goes into a file name. */
const char *server_compact_time(uint64_t ts_ns, char *buf, size_t len);

/* node.c */
int server_node_get(void *arg, struct httpd_req *req);
int server_healthz_get(void *arg, struct httpd_req *req);
int server_metrics_get(void *arg, struct httpd_req *req);
void server_count_answer(void *arg, const struct httpd_route *route, unsigned status);

/* snapshots.c */
int server_snapshot_post(void *arg, struct httpd_req *req);
int server_snapshot_list(void *arg, struct httpd_req *req);
int server_snapshot_get(void *arg, struct httpd_req *req);
int server_snapshot_delete(void *arg, struct httpd_req *req);
int server_snapshot_verify(void *arg, struct httpd_req *req);
int server_snapshot_pcap(void *arg, struct httpd_req *req);
/* Name held by a snapshot on disk, a job or a download running; s->lock held. */
bool server_snapshot_taken(struct server *s, const char *name);
/* The snapshot exists on disk and is not being made: else answered 404 or 409. */
bool server_snapshot_ready(struct httpd_req *req, struct server *s, const char *name, int *err);
/* The snapshots already use --snapshot-quota: answered 507. */
bool server_snapshot_quota_full(struct server *s, struct httpd_req *req, int *err);
/* Before the first job: job_ended, waited on with CLOCK_MONOTONIC. */
void server_snapshot_jobs_init(struct server *s);
/* At exit: cancel every snapshot job and wait (at most wait_s) until each has removed its
 * staging directory; says how many, and any that did not end. */
void server_snapshot_jobs_stop(struct server *s, unsigned wait_s);
/* Take one of --max-exports' slots, else answer 429. */
bool server_export_slot(struct server *s, struct httpd_req *req, int *err);

/* transfer.c: POST /v1/snapshots/NAME/upload, POST /v1/snapshots/download. */
int server_transfer_upload(void *arg, struct httpd_req *req);
int server_transfer_download(void *arg, struct httpd_req *req);
/* A transfer of name is running; s->lock held. */
bool server_transfer_busy(struct server *s, const char *name);
/* The last transfer of name as its "transfer" object; NULL if none. */
cJSON *server_transfer_json(struct server *s, const char *name);
/* snap with transfer attached; if snap is NULL, a download running or failed stands for it. */
cJSON *server_transfer_attach(cJSON *snap, cJSON *transfer, const char *name);
/* Add the downloads running or failed (not on disk) to a list of snapshots. */
void server_transfer_pending(struct server *s, cJSON *list);
/* Is a snapshot called name in list already? */
bool server_json_listed(const cJSON *list, const char *name);
/* Forget name's ended transfer (*download: it was a download); -EBUSY while it runs. */
int server_transfer_forget(struct server *s, const char *name, bool *download);
/* Cancel every transfer and wait for them (at exit). */
void server_transfers_stop(struct server *s);

/* dissection.c */
struct rawcap_dissection;
int server_dissection_get(void *arg, struct httpd_req *req);
int server_dissection_put(void *arg, struct httpd_req *req);
int server_dissection_state(const struct server *s, struct rawcap_dissection *st);
void server_dissection_json(cJSON *o, const struct rawcap_dissection *st);
/* forwarder.c: what rawcap-forward says it does, beside the state *want asked for. */
void server_forwarder_json(const struct server *s, cJSON *parent,
			   const struct rawcap_dissection *want);

/* pcap.c */
int server_pcap_get(void *arg, struct httpd_req *req);
/* A snapshot to download from: its directory and the window it was made of. */
struct server_snapshot_src {
	const char *dir, *name;
	uint64_t from_ns, to_ns; /* the window it was made of */
	uint64_t held_from_ns;	 /* from_ns, or where a partial one's missing part ends */
	bool uncaptured;	 /* that part lies before capture began: nothing was lost */
};
/* GET /v1/pcap's answer from snap (NULL: ring + disk FIFO); snap's window is the default. */
int server_pcap_download(struct server *s, struct httpd_req *req,
			 const struct server_snapshot_src *snap);
/* Is snapshot name being downloaded? s->lock held. */
bool server_snapshot_read_by(struct server *s, const char *name);

#endif /* RAWCAP_SERVER_H */
