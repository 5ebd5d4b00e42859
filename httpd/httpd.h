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
 *  - a route table (method + path, a path segment "*" matching any one
 *    segment) and response helpers, so a handler only builds a body;
 *  - request accounting (httpd_get_stats, and a per-route hook), for the
 *    caller's metrics;
 *  - for a node API (all optional): HTTPS, client certificates and bearer
 *    tokens (compared in constant time) checked before any work; query
 *    strings bounded in bytes and
 *    arguments (414) and bodies per route (413), errors in the caller's
 *    format (error_body), and bodies streamed from another thread
 *    (httpd_reply_stream), a client that leaves ending the stream at once.
 *
 * Three ways to run it. External loop (the default, what capd does): add
 * httpd_epoll_fd() to the caller's epoll set for EPOLLIN, call httpd_run()
 * when it is readable and whenever httpd_timeout_ms() has passed (it is 0
 * while MHD holds buffered work). Handlers then run on the caller's thread,
 * between its other work. Or own_thread: MHD serves from an internal thread
 * and handlers run there. Or thread_per_conn (a node API): each connection
 * has its own thread (at most max_conns), so a handler may take its time and
 * a streamed body may wait for its writer without holding up anyone else.
 *
 * Errors are negative errno values; log() (optional) gets one line per
 * problem, and MHD's own messages at most HTTPD_LOG_BURST per minute.
 */
#ifndef RAWCAP_HTTPD_H
#define RAWCAP_HTTPD_H

#include <signal.h>
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
	/*
	 * Path without the query string: exact, except that a segment "*"
	 * matches any one non-empty segment ("/v1/snapshots/ * /verify" without
	 * the spaces); the handler reads them with httpd_req_param().
	 */
	const char *path;
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
	unsigned header_timeout_s; /* a request's headers and body, from the connection's start
				      or the previous request's end; 0: only idle_timeout_s.
				      With the caller's loop, httpd_run() enforces it (once a
				      second) */
	size_t conn_mem;	   /* per connection for request line and headers; 0: 8 KiB */
	unsigned backlog;	   /* listen(2) backlog; 0: 128 */
	bool own_thread;	   /* MHD's internal thread instead of the caller's loop */
	bool thread_per_conn;	   /* a thread per connection (implies own_thread) */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	/* Query string: at most max_query bytes of names and values, max_args arguments (414). */
	size_t max_query;  /* 0: no limit beyond conn_mem */
	unsigned max_args; /* 0: no limit */
	/*
	 * Header names and values: at most max_headers bytes and 100 fields
	 * (431); 0: conn_mem bounds them (beyond it MHD answers 431 itself).
	 */
	size_t max_headers;
	/*
	 * HTTPS: certificate chain and private key, PEM text (not file names).
	 * tls_ca (PEM): clients may present a certificate it signed; token: a
	 * secret sent as "Authorization: Bearer TOKEN". With either set, every
	 * request needs one of them, checked before its body is read or a route
	 * runs (401 otherwise; counted in refused). token_ro: a secret
	 * that admits GET and HEAD only; any other method with it is 403.
	 */
	const char *tls_cert, *tls_key, *tls_ca, *token, *token_ro;
	/*
	 * The body of the errors httpd gives itself (404, 405, 413, 414, 500)
	 * and of httpd_reply_error(): code is a short identifier
	 * ("not_found"), detail a sentence. Returns a malloc'd body of *len
	 * bytes and its type in *type; NULL (or no hook): a text/plain line.
	 */
	char *(*error_body)(void *arg, unsigned status, const char *code, const char *detail,
			    const char **type, size_t *len);
	/* Called with each answer given: the route (NULL if none matched) and the status. */
	void (*answered)(void *arg, const struct httpd_route *route, unsigned status);
};

struct httpd_stats {
	uint64_t connections; /* accepted */
	uint64_t open;	      /* open now */
	uint64_t requests;    /* answered */
	uint64_t by_class[6]; /* answered, by status class: [2] = 2xx ... [5] = 5xx */
	uint64_t timed_out;   /* requests ended by idle_timeout_s */
	uint64_t aborted;     /* requests ended by a client error or a closed connection */
	unsigned max_conns, max_conns_per_ip, idle_timeout_s;
	uint64_t streamed_bytes; /* body bytes of streamed answers handed to the connections */
	uint64_t streams;	 /* streamed answers running now */
	uint64_t refused;	 /* requests refused for want of credentials (401, 403) */
};

/*
 * Parse a numeric listen address: "192.0.2.1:9469", "0.0.0.0:9469",
 * "[::1]:9469", "[::]:9469". The port must be 1..65535 in decimal.
 * 0 or -EINVAL; *len is the size of the address filled into *sa.
 */
int httpd_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len);
/* Is this listen address (httpd_parse_listen's forms) on loopback: 127.0.0.0/8, ::1? */
bool httpd_listen_is_loopback(const char *s);

/*
 * Bind, listen and start serving. With max_conns 0 the soft RLIMIT_NOFILE is
 * raised towards its hard limit so that 4096 connections (plus 256 fds for
 * the rest of the process) fit; where it cannot be, max_conns is what fits.
 * Returns 0, -EINVAL (bad options or address), -EADDRINUSE etc. from bind,
 * -ENOTSUP (TLS asked of an MHD without it), or -ENOMEM / -EIO if MHD
 * cannot start (with TLS: also a certificate or key it cannot use).
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
/*
 * Every query argument in the order sent, repeats included; value NULL for
 * "?key" without "=". Stops at the first nonzero return of fn and returns it.
 */
int httpd_req_args(const struct httpd_req *req,
		   int (*fn)(void *arg, const char *key, const char *value), void *arg);
/* The path segment the route's i-th "*" matched (0-based); NULL if none. */
const char *httpd_req_param(const struct httpd_req *req, unsigned i);
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
/* An error answer, its body from httpd_opts.error_body. */
int httpd_reply_error(struct httpd_req *req, unsigned status, const char *code,
		      const char *detail);
/*
 * A header for the answer about to be given (Location, Retry-After, ...),
 * copied. At most HTTPD_MAX_HEADERS per answer. 0, -ENOSPC or -ENOMEM.
 */
#define HTTPD_MAX_HEADERS 16
int httpd_req_set_header(struct httpd_req *req, const char *name, const char *value);

/*
 * Streamed answers (thread_per_conn): in a handler, answer status with a
 * body that another thread writes (chunked for HTTP/1.1, up to the close for
 * HTTP/1.0). httpd_stream_write() lends buf to the connection and returns
 * once MHD has copied all of it into the connection's send buffer, with no
 * buffer in between (that buffer is what conn_mem leaves free, nearly all of
 * it: a write that fits costs one hand-over and one send); it fails
 * with -EPIPE once the client has gone or the server stops: the writer's cue
 * to stop its work (httpd_stream_stop_flag() says the same to a loop that
 * polls a flag, e.g. rawcap_window_opts.stop). httpd_stream_end() ends the
 * body, given once by the writer: complete false closes the connection
 * without the chunked terminator, so that the client sees a truncated body.
 * Headers set with httpd_req_set_header() go out before the body.
 */
struct httpd_stream;
int httpd_reply_stream(struct httpd_req *req, unsigned status, const char *type,
		       struct httpd_stream **out);
int httpd_stream_write(struct httpd_stream *s, const void *buf, size_t len);
volatile sig_atomic_t *httpd_stream_stop_flag(struct httpd_stream *s);
void httpd_stream_end(struct httpd_stream *s, bool complete);
/*
 * How long the writer has waited for the client to take any byte (0 when it
 * is not waiting); and ending a stream whose client takes nothing, to give
 * its place to another: the writer's pending and later writes fail with
 * -EPIPE (as when the client leaves), the body ends truncated.
 */
uint64_t httpd_stream_stalled_ms(struct httpd_stream *s);
void httpd_stream_abort(struct httpd_stream *s);

#endif /* RAWCAP_HTTPD_H */
