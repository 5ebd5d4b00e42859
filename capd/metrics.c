// SPDX-License-Identifier: MIT
/*
 * metrics.c - Prometheus /metrics and /healthz over HTTP/1.0 (opt-in,
 * --stats-listen).
 *
 * The listening socket is bound before the privilege drop and is just
 * another source in the writer's loop: connections are non-blocking, a
 * request is read, the whole answer built and sent as the socket accepts it,
 * and the connection closed. A slow or silent client costs a slot (at most
 * METRICS_MAX_CONNS, closed after METRICS_TIMEOUT_S), never a wait.
 * /healthz answers 503 with the reason when a source reports a stall. If the
 * writer thread itself hangs, nothing answers, and the probe fails as it
 * should.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capd.h"

#define METRICS_MAX_CONNS 16
#define METRICS_TIMEOUT_S 5

struct metrics_conn {
	int fd;
	bool used, replying;
	char in[2048];
	size_t in_len;
	struct capd_buf out;
	size_t out_off;
	uint64_t start_ns;
};

struct metrics_srv {
	int fd;
	uint64_t requests;
	struct metrics_conn conns[METRICS_MAX_CONNS];
};

static struct metrics_srv metrics_srv = {.fd = -1};

static void conn_close(void *state)
{
	struct metrics_conn *c = state;

	close(c->fd);
	capd_buf_free(&c->out);
	c->used = false;
	c->fd = -1;
}

static void conn_reply(struct metrics_conn *c, struct capd_ctx *ctx)
{
	struct capd_buf body = {0};
	const char *status = "200 OK", *type = "text/plain; version=0.0.4; charset=utf-8";
	char why[256];

	if (!strncmp(c->in, "GET /metrics ", 13) || !strncmp(c->in, "GET /metrics?", 13)) {
		capd_metrics_collect(ctx, &body);
	} else if (!strncmp(c->in, "GET /healthz ", 13)) {
		type = "text/plain; charset=utf-8";
		if (capd_health(ctx, why, sizeof(why)))
			status = "503 Service Unavailable";
		capd_buf_printf(&body, "%s\n", why);
	} else {
		status = "404 Not Found";
		type = "text/plain; charset=utf-8";
		capd_buf_printf(&body, "try /metrics or /healthz\n");
	}
	if (body.oom) {
		status = "500 Internal Server Error";
		body.len = 0;
	}
	capd_buf_printf(&c->out,
			"HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n\r\n",
			status, type, body.len);
	if (body.len)
		capd_buf_printf(&c->out, "%.*s", (int)body.len, body.p);
	capd_buf_free(&body);
	c->replying = true;
	c->out_off = 0;
}

static int conn_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct metrics_conn *c = state;
	ssize_t n;

	(void)events;
	if (!c->replying) {
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			capd_del_source(ctx, c->fd);
			return 0;
		}
		c->in_len += (size_t)n;
		c->in[c->in_len] = 0;
		if (!strstr(c->in, "\r\n\r\n") && !strstr(c->in, "\n\n") &&
		    c->in_len < sizeof(c->in) - 1)
			return 0;
		metrics_srv.requests++;
		conn_reply(c, ctx);
		if (c->out.oom) {
			capd_del_source(ctx, c->fd);
			return 0;
		}
		capd_source_events(ctx, c->fd, EPOLLOUT);
	}
	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	capd_del_source(ctx, c->fd);
	return 0;
}

static const struct capd_source_ops conn_ops = {
	.name = "metrics-conn",
	.ready = conn_ready,
	.close = conn_close,
};

static int srv_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct metrics_srv *m = state;

	(void)events;
	for (;;) {
		struct metrics_conn *c = NULL;
		int fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return 0;
		for (int i = 0; i < METRICS_MAX_CONNS && !c; i++)
			if (!m->conns[i].used)
				c = &m->conns[i];
		if (!c) {
			close(fd); /* busy: the scraper retries */
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->used = true;
		c->start_ns = capd_mono_ns();
		if (capd_add_source(ctx, fd, &conn_ops, c)) {
			close(fd);
			c->used = false;
		}
	}
}

static void srv_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	struct metrics_srv *m = state;
	uint64_t now = capd_mono_ns();

	(void)now_ns;
	for (int i = 0; i < METRICS_MAX_CONNS; i++)
		if (m->conns[i].used &&
		    now - m->conns[i].start_ns > METRICS_TIMEOUT_S * 1000000000ull)
			capd_del_source(ctx, m->conns[i].fd);
}

static void srv_close(void *state)
{
	struct metrics_srv *m = state;

	close(m->fd);
	m->fd = -1;
}

static const struct capd_source_ops srv_ops = {
	.name = "metrics",
	.ready = srv_ready,
	.tick = srv_tick,
	.close = srv_close,
};

int capd_metrics_setup(struct capd_ctx *ctx)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char host[256], *colon;
	const char *h;
	int one = 1, err;

	if (!ctx->cfg->stats_listen)
		return 0;
	snprintf(host, sizeof(host), "%s", ctx->cfg->stats_listen);
	colon = strrchr(host, ':');
	if (!colon) {
		capd_log("bad --stats-listen '%s': expected ADDR:PORT", ctx->cfg->stats_listen);
		return -EINVAL;
	}
	*colon = 0;
	h = host;
	if (*h == '[' && colon[-1] == ']') {
		colon[-1] = 0;
		h++;
	}
	err = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
	if (err) {
		capd_log("bad --stats-listen '%s': %s", ctx->cfg->stats_listen, gai_strerror(err));
		return -EINVAL;
	}
	metrics_srv.fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (metrics_srv.fd < 0)
		goto fail_errno;
	setsockopt(metrics_srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(metrics_srv.fd, ai->ai_addr, ai->ai_addrlen) || listen(metrics_srv.fd, 16))
		goto fail_errno;
	freeaddrinfo(ai);
	return capd_add_source(ctx, metrics_srv.fd, &srv_ops, &metrics_srv);
fail_errno:
	err = -errno;
	capd_log("cannot listen on %s: %s", ctx->cfg->stats_listen, strerror(-err));
	if (metrics_srv.fd >= 0)
		close(metrics_srv.fd);
	freeaddrinfo(ai);
	return err;
}
