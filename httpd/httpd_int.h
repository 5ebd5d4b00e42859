/* SPDX-License-Identifier: MIT */
/*
 * httpd_int.h - what the files of httpd/ share: the server, the request,
 * answers and their headers. httpd.c routes and accounts, httpd_reply.c
 * reads requests and answers them, httpd_stream.c streams bodies,
 * httpd_auth.c checks credentials, httpd_limits.c what a request may send.
 */
#ifndef RAWCAP_HTTPD_INT_H
#define RAWCAP_HTTPD_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#include "httpd.h"

#define HTTPD_TEXT	 "text/plain; charset=utf-8"
#define HTTPD_MAX_PARAMS 4

/* Headers of one answer, copied. */
struct httpd_hdrs {
	unsigned n;
	char *name[HTTPD_MAX_HEADERS], *value[HTTPD_MAX_HEADERS];
};

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_opts o;
	int lfd, port;
	struct httpd_stats st; /* counters: relaxed atomics */
	uint64_t log_window_ns;
	unsigned log_count;
	uint64_t log_dropped;
	int stopping; /* atomic: httpd_stop() has begun */
	/* header_timeout_s (httpd_deadline.c): connections awaiting headers, the watchdog */
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	struct httpd_watch *watch;
	pthread_t wthread;
	bool wrunning, wstop;
};

struct httpd_req {
	struct httpd *h;
	struct MHD_Connection *conn;
	const struct httpd_route *route;
	const char *method, *path;
	char *body;
	size_t body_len;
	char *params[HTTPD_MAX_PARAMS]; /* what the route's "*" segments matched */
	struct httpd_hdrs hdrs;		/* for the answer */
	bool path_known; /* some route has this path (405 rather than 404) */
	bool http10;	 /* an HTTP/1.0 request: answer as HTTP/1.0 */
	bool replied;
	bool too_large; /* the body outgrew route->max_body: the rest is dropped, then 413 */
};

void httpd_stat_add(uint64_t *c, int64_t n);

/* httpd_deadline.c: the time a request's headers may take (header_timeout_s). */
int httpd_deadline_start(struct httpd *h);
void httpd_deadline_stop(struct httpd *h);
void httpd_deadline_opened(struct httpd *h, struct MHD_Connection *conn, void **ctx);
void httpd_deadline_closed(struct httpd *h, void **ctx);
void httpd_deadline_set(struct httpd *h, struct MHD_Connection *conn, bool met);
/* The caller's loop (no watchdog thread): shut down connections past their deadline; how many. */
unsigned httpd_deadline_run(struct httpd *h);

void httpd_hdrs_free(struct httpd_hdrs *hh);

/* Queue resp with status on req's connection (MHD's thread); consumes resp. */
int httpd_queue(struct httpd_req *req, unsigned status, const char *type,
		struct MHD_Response *resp);

/*
 * httpd_limits.c: httpd_refuse_early() checks a request whose headers are in
 * (true: refused and answered, *err the answer's outcome); httpd_body()
 * takes a piece of its body; httpd_reply_too_large() answers 413 and closes.
 */
bool httpd_refuse_early(struct httpd_req *req, int *err);
int httpd_body(struct httpd_req *req, const char *data, size_t n);
int httpd_reply_too_large(struct httpd_req *req);

/* httpd_auth.c: 0 if req may proceed, else 401 with an error code and a sentence. */
unsigned httpd_auth_check(const struct httpd_req *req, const char **code, const char **detail);

/* httpd_stream.c: the MHD side of a stream; NULL when out of memory. */
struct MHD_Response *httpd_stream_response(struct httpd *h, struct httpd_stream **out);

#endif /* RAWCAP_HTTPD_INT_H */
