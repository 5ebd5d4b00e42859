// SPDX-License-Identifier: MIT
/*
 * httpd.c - libmicrohttpd set up once for every rawcap HTTP listener
 * (httpd.h): limits, routing, replies, accounting.
 *
 * MHD does the HTTP. What is ours: the listening socket (bound here so that
 * errors name the address), the limits passed to MHD, the route lookup in
 * the access handler, and counters kept with relaxed atomics so that
 * httpd_get_stats() is safe from another thread in own_thread mode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "httpd.h"

#define HTTPD_MAX_CONNS	    4096
#define HTTPD_FD_RESERVE    256 /* fds the rest of the process keeps beside connections */
#define HTTPD_IDLE_S	    10
#define HTTPD_CONN_MEM	    8192
#define HTTPD_BACKLOG	    128
#define HTTPD_LOG_WINDOW_NS (60ull * 1000000000ull)
#define HTTPD_TEXT	    "text/plain; charset=utf-8"

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_opts o;
	int lfd, port;
	struct httpd_stats st; /* counters: relaxed atomics */
	uint64_t log_window_ns;
	unsigned log_count;
	uint64_t log_dropped;
};

struct httpd_req {
	struct httpd *h;
	struct MHD_Connection *conn;
	const struct httpd_route *route;
	const char *method, *path;
	char *body;
	size_t body_len;
	bool path_known; /* some route has this path (405 rather than 404) */
	bool http10;	 /* an HTTP/1.0 request: answer as HTTP/1.0 */
	bool replied;
};

static void stat_add(uint64_t *c, int64_t n)
{
	__atomic_fetch_add(c, (uint64_t)n, __ATOMIC_RELAXED);
}

static int parse_port(const char *s, uint16_t *out)
{
	unsigned v = 0;
	int n = 0;

	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n == 5)
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int httpd_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *hs, *he, *port;
	bool v6 = false;
	uint16_t p;

	if (!s)
		return -EINVAL;
	if (*s == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		port = he + 2;
		v6 = true;
	} else {
		hs = s;
		he = strchr(s, ':');
		if (!he || strchr(he + 1, ':'))
			return -EINVAL;
		port = he + 1;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host) || parse_port(port, &p))
		return -EINVAL;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons(p);
		*len = sizeof(*a);
	}
	return 0;
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

	(void)conn, (void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		stat_add(&h->st.connections, 1);
		stat_add(&h->st.open, 1);
	} else {
		stat_add(&h->st.open, -1);
	}
}

static void httpd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			    enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	struct httpd_req *req = *con_cls;

	(void)conn;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		stat_add(&h->st.timed_out, 1);
	else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
		 toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
		stat_add(&h->st.aborted, 1);
	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

static int httpd_queue(struct httpd_req *req, unsigned status, const char *type,
		       struct MHD_Response *resp)
{
	enum MHD_Result ok;

	if (!resp)
		return -ENOMEM;
	if (req->http10)
		MHD_set_response_options(resp, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END);
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type ? type : HTTPD_TEXT) !=
	    MHD_YES) {
		MHD_destroy_response(resp);
		return -ENOMEM;
	}
	ok = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	if (ok != MHD_YES)
		return -EIO;
	req->replied = true;
	stat_add(&req->h->st.requests, 1);
	if (status / 100 < 6)
		stat_add(&req->h->st.by_class[status / 100], 1);
	return 0;
}

int httpd_reply(struct httpd_req *req, unsigned status, const char *type, const void *body,
		size_t len)
{
	return httpd_queue(
		req, status, type,
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY));
}

int httpd_reply_take(struct httpd_req *req, unsigned status, const char *type, void *body,
		     size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (!resp)
		free(body);
	return httpd_queue(req, status, type, resp);
}

int httpd_reply_text(struct httpd_req *req, unsigned status, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return httpd_reply(req, status, HTTPD_TEXT, buf,
			   (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

const char *httpd_req_method(const struct httpd_req *req)
{
	return req->method;
}

const char *httpd_req_path(const struct httpd_req *req)
{
	return req->path;
}

const char *httpd_req_arg(const struct httpd_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *httpd_req_header(const struct httpd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const void *httpd_req_body(const struct httpd_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body_len ? req->body : NULL;
}

/* A method answers a route if it is the route's, or HEAD for a GET route. */
static bool httpd_method_ok(const struct httpd_route *r, const char *method)
{
	return !strcmp(r->method, method) ||
	       (!strcmp(method, MHD_HTTP_METHOD_HEAD) && !strcmp(r->method, MHD_HTTP_METHOD_GET));
}

/* The route for path and method; *path_known tells a 405 from a 404. */
static const struct httpd_route *httpd_route_find(const struct httpd *h, const char *path,
						  const char *method, bool *path_known)
{
	*path_known = false;
	for (const struct httpd_route *r = h->o.routes; r->method; r++) {
		if (strcmp(r->path, path))
			continue;
		*path_known = true;
		if (httpd_method_ok(r, method))
			return r;
	}
	return NULL;
}

/* Answer a request whose headers and body (if any) have arrived. */
static int httpd_answer(struct httpd_req *req)
{
	int err;

	if (!req->route) {
		if (req->path_known)
			return httpd_reply_text(req, MHD_HTTP_METHOD_NOT_ALLOWED,
						"method %s not allowed on %s\n", req->method,
						req->path);
		return httpd_reply_text(req, MHD_HTTP_NOT_FOUND, "no such path: %s\n", req->path);
	}
	err = req->route->fn(req->h->o.arg, req);
	if (!err && req->replied)
		return 0;
	return httpd_reply_text(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error: %s\n",
				strerror(err ? -err : EIO));
}

/* The declared body is larger than the route takes. */
static bool httpd_body_too_large(const struct httpd_req *req)
{
	const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!cl || !req->route)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno || *end || n > req->route->max_body;
}

/*
 * A piece of the request body. A body declared too large was refused with
 * 413 before it was read; one that only grows too large (chunked) closes
 * the connection. Bodies of unknown paths are discarded.
 */
static int httpd_body(struct httpd_req *req, const char *data, size_t n)
{
	char *p;

	if (req->replied || !req->route)
		return 0;
	if (req->body_len + n > req->route->max_body)
		return -EMSGSIZE;
	p = realloc(req->body, req->body_len + n);
	if (!p)
		return -ENOMEM;
	memcpy(p + req->body_len, data, n);
	req->body = p;
	req->body_len += n;
	return 0;
}

/*
 * MHD calls this first when the headers are in (we only route), then with
 * each piece of body, then once more with none: the request is complete and
 * is answered. Answering only then keeps keep-alive connections reusable.
 */
static enum MHD_Result httpd_access(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct httpd_req *req = *con_cls;
	int err;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->h = cls;
		req->conn = conn;
		req->method = method;
		req->path = url;
		req->http10 = !strcmp(version, MHD_HTTP_VERSION_1_0);
		req->route = httpd_route_find(cls, url, method, &req->path_known);
		*con_cls = req;
		if (httpd_body_too_large(req))
			return httpd_reply_text(req, MHD_HTTP_CONTENT_TOO_LARGE,
						"request body larger than %zu bytes\n",
						req->route->max_body)
				       ? MHD_NO
				       : MHD_YES;
		return MHD_YES;
	}
	if (*upload_size) {
		err = httpd_body(req, upload_data, *upload_size);
		*upload_size = 0;
		return err ? MHD_NO : MHD_YES;
	}
	if (req->replied)
		return MHD_YES;
	return httpd_answer(req) ? MHD_NO : MHD_YES;
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

int httpd_start(const struct httpd_opts *o, struct httpd **out)
{
	unsigned flags = MHD_USE_EPOLL;
	struct httpd *h;
	int err;

	*out = NULL;
	if (!o || !o->listen || !o->routes)
		return -EINVAL;
	/*
	 * MHD's Date header goes through gmtime_r(), whose first call makes glibc
	 * read /etc/localtime: do it now, before the caller's sandbox forbids open.
	 */
	tzset();
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *o;
	httpd_defaults(h);
	err = httpd_bind(h);
	if (err) {
		free(h);
		return err;
	}
	if (o->own_thread)
		flags |= MHD_USE_INTERNAL_POLLING_THREAD;
	if (o->log)
		flags |= MHD_USE_ERROR_LOG;
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, httpd_access, h, MHD_OPTION_LISTEN_SOCKET, h->lfd,
		MHD_OPTION_CONNECTION_LIMIT, h->o.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		h->o.max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, h->o.idle_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->o.conn_mem, MHD_OPTION_NOTIFY_COMPLETED,
		httpd_completed, h, MHD_OPTION_NOTIFY_CONNECTION, httpd_conn_notify, h,
		MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, h, MHD_OPTION_END);
	if (!h->d) {
		close(h->lfd);
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* closes the connections, not the socket we gave it */
	close(h->lfd);
	free(h);
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
	return MHD_run(h->d) == MHD_YES ? 0 : -EIO;
}

int httpd_timeout_ms(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (h->o.own_thread || MHD_get_timeout(h->d, &ms) != MHD_YES)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
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
	for (int i = 0; i < 6; i++)
		out->by_class[i] = __atomic_load_n(&s->by_class[i], __ATOMIC_RELAXED);
}
