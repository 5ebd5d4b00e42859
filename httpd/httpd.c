// SPDX-License-Identifier: MIT
/*
 * httpd.c - libmicrohttpd set up once for every rawcap HTTP listener
 * (httpd.h): limits, credentials first, routing, accounting.
 *
 * MHD does the HTTP. What is ours: the listening socket (bound here so that
 * errors name the address), the limits passed to MHD, the checks made when
 * a request's headers are in and on its body (httpd_limits.c),
 * the route lookup, and counters kept with relaxed atomics so that
 * httpd_get_stats() is safe from another thread in own_thread mode.
 * Answers are built in httpd_reply.c, streams in httpd_stream.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "httpd_int.h"

#define HTTPD_MAX_CONNS	    4096
#define HTTPD_FD_RESERVE    256 /* fds the rest of the process keeps beside connections */
#define HTTPD_IDLE_S	    10
#define HTTPD_CONN_MEM	    8192
#define HTTPD_BACKLOG	    128
#define HTTPD_LOG_WINDOW_NS (60ull * 1000000000ull)
#define HTTPD_MHD_OPTS	    16

void httpd_stat_add(uint64_t *c, int64_t n)
{
	__atomic_fetch_add(c, (uint64_t)n, __ATOMIC_RELAXED);
}

/* Raise the soft fd limit towards the hard one so that want connections fit; what fits. */
static unsigned httpd_fit_conns(unsigned want)
{
	rlim_t need = (rlim_t)want + HTTPD_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return want;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur =
			rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return want;
	return rl.rlim_cur > 2 * HTTPD_FD_RESERVE ? (unsigned)(rl.rlim_cur - HTTPD_FD_RESERVE)
						  : (unsigned)(rl.rlim_cur / 2);
}

/* MHD's messages (a refused connection, a malformed request): a burst per minute at most. */
static void httpd_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	char msg[256];
	size_t n;

	if (!h->o.log)
		return;
	if (now - h->log_window_ns >= HTTPD_LOG_WINDOW_NS) {
		if (h->log_dropped)
			h->o.log("httpd: %llu more messages in the last minute not shown",
				 (unsigned long long)h->log_dropped);
		h->log_window_ns = now;
		h->log_count = 0;
		h->log_dropped = 0;
	}
	if (h->log_count++ >= HTTPD_LOG_BURST) {
		h->log_dropped++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	h->o.log("httpd: %s", msg);
}

static void httpd_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		httpd_stat_add(&h->st.connections, 1);
		httpd_stat_add(&h->st.open, 1);
		httpd_deadline_opened(h, conn, socket_context);
	} else {
		httpd_deadline_closed(h, socket_context);
		httpd_stat_add(&h->st.open, -1);
	}
}

static void httpd_req_free(struct httpd_req *req)
{
	free(req->body);
	for (int i = 0; i < HTTPD_MAX_PARAMS; i++)
		free(req->params[i]);
	httpd_hdrs_free(&req->hdrs);
	free(req);
}

static void httpd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			    enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	struct httpd_req *req = *con_cls;

	httpd_deadline_set(h, conn, false); /* the next request's headers */
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		httpd_stat_add(&h->st.timed_out, 1);
	else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
		 toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
		httpd_stat_add(&h->st.aborted, 1);
	if (req) {
		httpd_req_free(req);
		*con_cls = NULL;
	}
}

/* A method answers a route if it is the route's, or HEAD for a GET route. */
static bool httpd_method_ok(const struct httpd_route *r, const char *method)
{
	return !strcmp(r->method, method) ||
	       (!strcmp(method, MHD_HTTP_METHOD_HEAD) && !strcmp(r->method, MHD_HTTP_METHOD_GET));
}

/*
 * Does path match pattern, segment by segment, a "*" segment standing for
 * any one non-empty segment? With params, record what each "*" matched.
 */
static bool httpd_path_match(const char *pattern, const char *path, char **params)
{
	unsigned n = 0;

	while (*pattern && *path) {
		const char *pe = strchrnul(pattern, '/'), *se = strchrnul(path, '/');

		if (pe - pattern == 1 && *pattern == '*') {
			if (se == path || n == HTTPD_MAX_PARAMS)
				return false;
			if (params && !(params[n] = strndup(path, (size_t)(se - path))))
				return false;
			n++;
		} else if (pe - pattern != se - path || memcmp(pattern, path, (size_t)(se - path))) {
			return false;
		}
		pattern = pe;
		path = se;
		if (*pattern != *path)
			return false;
		if (*pattern)
			pattern++, path++;
	}
	return !*pattern && !*path;
}

/* The route for the request's path and method; req->path_known tells a 405 from a 404. */
static void httpd_route_find(struct httpd_req *req)
{
	req->path_known = false;
	for (const struct httpd_route *r = req->h->o.routes; r->method; r++) {
		if (!httpd_path_match(r->path, req->path, NULL))
			continue;
		req->path_known = true;
		if (httpd_method_ok(r, req->method)) {
			req->route = r;
			httpd_path_match(r->path, req->path, req->params);
			return;
		}
	}
}

/* Answer a request whose headers and body (if any) have arrived. */
static int httpd_answer(struct httpd_req *req)
{
	char detail[256];
	int err;

	if (!req->route) {
		snprintf(detail, sizeof(detail), req->path_known ? "method %s not allowed on %s"
								 : "no such path: %s%s",
			 req->path_known ? req->method : req->path,
			 req->path_known ? req->path : "");
		return httpd_reply_error(req,
					 req->path_known ? MHD_HTTP_METHOD_NOT_ALLOWED
							 : MHD_HTTP_NOT_FOUND,
					 req->path_known ? "method_not_allowed" : "not_found", detail);
	}
	err = req->route->fn(req->h->o.arg, req);
	if (!err && req->replied)
		return 0;
	snprintf(detail, sizeof(detail), "internal error: %s", strerror(err ? -err : EIO));
	return httpd_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", detail);
}

static struct httpd_req *httpd_req_new(struct httpd *h, struct MHD_Connection *conn,
				       const char *url, const char *method, const char *version)
{
	struct httpd_req *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->h = h;
	req->conn = conn;
	req->method = method;
	req->path = url;
	req->http10 = !strcmp(version, MHD_HTTP_VERSION_1_0);
	httpd_route_find(req);
	return req;
}

/*
 * MHD calls this first when the headers are in (we check and route), then
 * with each piece of body, then once more with none: the request is
 * complete and is answered. Answering only then keeps keep-alive
 * connections reusable.
 */
static enum MHD_Result httpd_access(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct httpd_req *req = *con_cls;
	int err = 0;

	if (!req) {
		req = httpd_req_new(cls, conn, url, method, version);
		if (!req)
			return MHD_NO;
		*con_cls = req;
		if (!httpd_refuse_early(req, &err))
			return MHD_YES;
		httpd_deadline_set(cls, conn, true);
		return err ? MHD_NO : MHD_YES;
	}
	if (*upload_size) {
		err = httpd_body(req, upload_data, *upload_size);
		*upload_size = 0;
		return err ? MHD_NO : MHD_YES;
	}
	httpd_deadline_set(cls, conn, true); /* the whole request is in */
	if (req->replied)
		return MHD_YES;
	if (req->too_large)
		return httpd_reply_too_large(req) ? MHD_NO : MHD_YES;
	return httpd_answer(req) ? MHD_NO : MHD_YES;
}

static int httpd_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/*
 * Percent-decoding of the path and the query's arguments, in place, as
 * MHD's own except that "%00" stays as it is: MHD's decoded NUL ended the
 * path, so "/v1/snapshots/a%00x/verify" was routed as "/v1/snapshots/a".
 */
static size_t httpd_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *out = s;
	int hi, lo;

	(void)cls, (void)conn;
	for (char *in = s; *in; out++) {
		if (in[0] == '%' && (hi = httpd_hex(in[1])) >= 0 && (lo = httpd_hex(in[2])) >= 0 &&
		    (hi | lo)) {
			*out = (char)(hi << 4 | lo);
			in += 3;
		} else {
			*out = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

static int httpd_bind(struct httpd *h)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int one = 1, err;

	if (httpd_parse_listen(h->o.listen, &sa, &len))
		return -EINVAL;
	h->lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0)
		return -errno;
	setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->lfd, (struct sockaddr *)&sa, len) ||
	    listen(h->lfd, (int)(h->o.backlog ? h->o.backlog : HTTPD_BACKLOG)))
		goto fail;
	len = sizeof(sa);
	if (getsockname(h->lfd, (struct sockaddr *)&sa, &len))
		goto fail;
	h->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						 : ((struct sockaddr_in *)&sa)->sin_port);
	return 0;
fail:
	err = -errno;
	close(h->lfd);
	h->lfd = -1;
	return err;
}

static void httpd_defaults(struct httpd *h)
{
	struct httpd_opts *o = &h->o;

	if (!o->max_conns)
		o->max_conns = httpd_fit_conns(HTTPD_MAX_CONNS);
	if (!o->max_conns_per_ip)
		o->max_conns_per_ip = o->max_conns > 1 ? o->max_conns / 2 : 1;
	if (!o->idle_timeout_s)
		o->idle_timeout_s = HTTPD_IDLE_S;
	if (!o->conn_mem)
		o->conn_mem = HTTPD_CONN_MEM;
	h->st.max_conns = o->max_conns;
	h->st.max_conns_per_ip = o->max_conns_per_ip;
	h->st.idle_timeout_s = o->idle_timeout_s;
}

static void httpd_free(struct httpd *h)
{
	httpd_deadline_stop(h);
	pthread_cond_destroy(&h->wcond);
	pthread_mutex_destroy(&h->wlock);
	if (h->lfd >= 0)
		close(h->lfd);
	free(h);
}

/* MHD's options: the limits and our callbacks. */
static struct MHD_Daemon *httpd_mhd_start(struct httpd *h)
{
	struct MHD_OptionItem opt[HTTPD_MHD_OPTS];
	unsigned flags = 0;
	int n = 0;

#define HTTPD_OPT(o, v, p) (opt[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
	HTTPD_OPT(MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, h); /* first: MHD's wish */
	HTTPD_OPT(MHD_OPTION_LISTEN_SOCKET, h->lfd, NULL);
	HTTPD_OPT(MHD_OPTION_CONNECTION_LIMIT, h->o.max_conns, NULL);
	HTTPD_OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->o.max_conns_per_ip, NULL);
	HTTPD_OPT(MHD_OPTION_CONNECTION_TIMEOUT, h->o.idle_timeout_s, NULL);
	HTTPD_OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->o.conn_mem, NULL);
	HTTPD_OPT(MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h);
	HTTPD_OPT(MHD_OPTION_NOTIFY_CONNECTION, httpd_conn_notify, h);
	HTTPD_OPT(MHD_OPTION_UNESCAPE_CALLBACK, httpd_unescape, NULL);
	if (h->o.tls_cert) {
		flags |= MHD_USE_TLS;
		HTTPD_OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)h->o.tls_cert);
		HTTPD_OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)h->o.tls_key);
	}
	if (h->o.tls_ca)
		HTTPD_OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)h->o.tls_ca);
	HTTPD_OPT(MHD_OPTION_END, 0, NULL);
#undef HTTPD_OPT
	if (h->o.thread_per_conn) /* MHD's epoll mode has no thread per connection */
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL;
	else if (h->o.own_thread)
		flags |= MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD;
	else
		flags |= MHD_USE_EPOLL;
	if (h->o.log)
		flags |= MHD_USE_ERROR_LOG;
	return MHD_start_daemon(flags, 0, NULL, NULL, httpd_access, h, MHD_OPTION_ARRAY, opt,
				MHD_OPTION_END);
}

int httpd_start(const struct httpd_opts *o, struct httpd **out)
{
	struct httpd *h;
	int err;

	*out = NULL;
	if (!o || !o->listen || !o->routes || !o->tls_cert != !o->tls_key ||
	    (o->tls_ca && !o->tls_cert) || (o->token && !*o->token) ||
	    (o->token_ro && !*o->token_ro))
		return -EINVAL;
	if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return -ENOTSUP;
	/*
	 * MHD's Date header goes through gmtime_r(), whose first call makes glibc
	 * read /etc/localtime: do it now, before the caller's sandbox forbids open.
	 */
	tzset();
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *o;
	h->o.own_thread |= h->o.thread_per_conn;
	h->lfd = -1;
	httpd_defaults(h);
	err = httpd_deadline_start(h);
	if (!err)
		err = httpd_bind(h);
	if (err) {
		httpd_free(h);
		return err;
	}
	h->d = httpd_mhd_start(h);
	if (!h->d) {
		httpd_free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	/* Streams waiting for their writer notice this and end. */
	__atomic_store_n(&h->stopping, 1, __ATOMIC_SEQ_CST);
	MHD_stop_daemon(h->d); /* closes the connections, not the socket we gave it */
	httpd_free(h);
}

int httpd_epoll_fd(const struct httpd *h)
{
	const union MHD_DaemonInfo *i;

	if (h->o.own_thread)
		return -1;
	i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

int httpd_run(struct httpd *h)
{
	httpd_deadline_run(h); /* MHD_run() then closes what it shut down */
	return MHD_run(h->d) == MHD_YES ? 0 : -EIO;
}

int httpd_timeout_ms(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	/* Header deadlines are swept by httpd_run(): at least once a second. */
	int cap = h->o.header_timeout_s ? 1000 : INT_MAX;

	if (h->o.own_thread)
		return -1;
	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		return h->o.header_timeout_s ? cap : -1;
	return ms > (MHD_UNSIGNED_LONG_LONG)cap ? cap : (int)ms;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_get_stats(const struct httpd *h, struct httpd_stats *out)
{
	const struct httpd_stats *s = &h->st;

	*out = *s;
	out->connections = __atomic_load_n(&s->connections, __ATOMIC_RELAXED);
	out->open = __atomic_load_n(&s->open, __ATOMIC_RELAXED);
	out->requests = __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
	out->timed_out = __atomic_load_n(&s->timed_out, __ATOMIC_RELAXED);
	out->aborted = __atomic_load_n(&s->aborted, __ATOMIC_RELAXED);
	out->streamed_bytes = __atomic_load_n(&s->streamed_bytes, __ATOMIC_RELAXED);
	out->streams = __atomic_load_n(&s->streams, __ATOMIC_RELAXED);
	out->refused = __atomic_load_n(&s->refused, __ATOMIC_RELAXED);
	for (int i = 0; i < 6; i++)
		out->by_class[i] = __atomic_load_n(&s->by_class[i], __ATOMIC_RELAXED);
}
