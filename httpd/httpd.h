/* SPDX-License-Identifier: MIT */
/*
 * httpd.h - rawcap's HTTP servers, on libmicrohttpd (MHD): capd's /metrics
 * and /healthz, and any later node API. HTTP parsing is MHD's; this module
 * is the one place that sets MHD up the way every rawcap listener needs it:
 *
 *  - bounded: at most max_conns connections in all, max_conns_per_ip from one
 *    address, idle_timeout_s of silence closes a connection, conn_mem bytes
 *    per connection for the request line and headers (larger: 431/413);
 *  - a slow or idle client costs its own connection and nothing else: no
 *    call blocks, and a full table only delays new connections in the
 *    kernel's backlog until an idle one times out;
 *  - a route table (method + exact path) and response helpers, so a handler
 *    only builds a body;
 *  - request accounting (httpd_get_stats), for the caller's metrics.
 *
 * Two ways to run it. External loop (the default, what capd does): add
 * httpd_epoll_fd() to the caller's epoll set for EPOLLIN, call httpd_run()
 * when it is readable and whenever httpd_timeout_ms() has passed (it is 0
 * while MHD holds buffered work). Handlers then run on the caller's thread,
 * between its other work. Or own_thread: MHD serves from an internal thread
 * and handlers run there.
 *
 * Errors are negative errno values; log() (optional) gets one line per
 * problem, and MHD's own messages at most HTTPD_LOG_BURST per minute.
 */
#ifndef RAWCAP_HTTPD_H
#define RAWCAP_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTPD_LOG_BURST 10

struct httpd;
struct httpd_req; /* one request being answered; valid during the handler only */

/* Answer req with one of the httpd_reply*() calls and return 0, or return -errno (500). */
typedef int (*httpd_handler_fn)(void *arg, struct httpd_req *req);

struct httpd_route {
	const char *method; /* "GET" (which also answers HEAD), "PUT", ...; NULL ends the table */
	const char *path;   /* exact path, without the query string */
	httpd_handler_fn fn;
	size_t max_body; /* request body bytes accepted; 0: none (a longer body gets 413) */
};

struct httpd_opts {
	const char *listen; /* "ADDR:PORT" or "[ADDR6]:PORT", numeric (httpd_parse_listen) */
	const struct httpd_route *routes; /* ends with a route whose method is NULL */
	void *arg;			  /* passed to every handler */
	unsigned max_conns; /* 0: up to 4096, as far as RLIMIT_NOFILE allows (see httpd_start) */
	unsigned max_conns_per_ip; /* 0: half of max_conns */
	unsigned idle_timeout_s;   /* 0: 10 */
	size_t conn_mem;	   /* per connection for request line and headers; 0: 8 KiB */
	unsigned backlog;	   /* listen(2) backlog; 0: 128 */
	bool own_thread;	   /* MHD's internal thread instead of the caller's loop */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

struct httpd_stats {
	uint64_t connections; /* accepted */
	uint64_t open;	      /* open now */
	uint64_t requests;    /* answered */
	uint64_t by_class[6]; /* answered, by status class: [2] = 2xx ... [5] = 5xx */
	uint64_t timed_out;   /* requests ended by idle_timeout_s */
	uint64_t aborted;     /* requests ended by a client error or a closed connection */
	unsigned max_conns, max_conns_per_ip, idle_timeout_s;
};

/*
 * Parse a numeric listen address: "192.0.2.1:9469", "0.0.0.0:9469",
 * "[::1]:9469", "[::]:9469". The port must be 1..65535 in decimal.
 * 0 or -EINVAL; *len is the size of the address filled into *sa.
 */
int httpd_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len);

/*
 * Bind, listen and start serving. With max_conns 0 the soft RLIMIT_NOFILE is
 * raised towards its hard limit so that 4096 connections (plus 256 fds for
 * the rest of the process) fit; where it cannot be, max_conns is what fits.
 * Returns 0, -EINVAL (bad options or address), -EADDRINUSE etc. from bind,
 * or -ENOMEM / -EIO if MHD cannot start.
 */
int httpd_start(const struct httpd_opts *o, struct httpd **out);
/* Close every connection and the listening socket; NULL is a no-op. */
void httpd_stop(struct httpd *h);

/* External loop: the fd to watch for EPOLLIN, -1 with own_thread. */
int httpd_epoll_fd(const struct httpd *h);
/* External loop: accept, read, answer and close whatever is ready. Never blocks. 0 or -EIO. */
int httpd_run(struct httpd *h);
/* External loop: milliseconds until httpd_run() must run without an event; -1: no deadline. */
int httpd_timeout_ms(struct httpd *h);

/* The bound port (useful with port 0 in tests). */
int httpd_port(const struct httpd *h);
void httpd_get_stats(const struct httpd *h, struct httpd_stats *out);

/* In a handler: the request. */
const char *httpd_req_method(const struct httpd_req *req);
const char *httpd_req_path(const struct httpd_req *req);
/* A query argument ("?key=value") or header value; NULL if absent. */
const char *httpd_req_arg(const struct httpd_req *req, const char *key);
const char *httpd_req_header(const struct httpd_req *req, const char *name);
/* The request body (at most the route's max_body bytes); NULL and 0 if none. */
const void *httpd_req_body(const struct httpd_req *req, size_t *len);

/* In a handler: answer. type NULL means "text/plain; charset=utf-8". 0 or -ENOMEM/-EIO. */
int httpd_reply(struct httpd_req *req, unsigned status, const char *type, const void *body,
		size_t len);
/* As httpd_reply, but takes over body (malloc'd), which is freed after sending, or on error. */
int httpd_reply_take(struct httpd_req *req, unsigned status, const char *type, void *body,
		     size_t len);
/* A short text/plain body from a format. */
int httpd_reply_text(struct httpd_req *req, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* RAWCAP_HTTPD_H */
