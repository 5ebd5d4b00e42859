// SPDX-License-Identifier: MIT
/*
 * metrics.c - Prometheus /metrics and /healthz over HTTP (opt-in,
 * --stats-listen), served by libmicrohttpd through httpd/httpd.h.
 *
 * The server runs in capd's own loop, not in a thread: its epoll fd is one
 * more source, httpd_run() is its ready(), and its timeout_ms() keeps the
 * loop from sleeping past MHD's deadline (buffered work, idle timeouts).
 * Handlers therefore run on the writer thread between batches and read
 * capd's state without locks. Each call does a bounded amount of work, and
 * the limits (httpd.h: connections in all and per address, idle timeout,
 * per-connection memory) make a slow or idle client cost its own connection
 * only. /healthz answers 503 with the reason when a source reports a
 * problem; if the writer thread itself hangs, nothing answers, and the
 * probe fails as it should.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capd.h"
#include "httpd.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static int metrics_get(void *arg, struct httpd_req *req)
{
	struct capd_buf body = {0};

	capd_metrics_collect(arg, &body);
	if (body.oom) {
		capd_buf_free(&body);
		return -ENOMEM;
	}
	return httpd_reply_take(req, 200, METRICS_TYPE, body.p, body.len);
}

static int healthz_get(void *arg, struct httpd_req *req)
{
	char why[256];
	int bad = capd_health(arg, why, sizeof(why));

	return httpd_reply_text(req, bad ? 503 : 200, "%s\n", why);
}

static const struct httpd_route metrics_routes[] = {
	{.method = "GET", .path = "/metrics", .fn = metrics_get},
	{.method = "GET", .path = "/healthz", .fn = healthz_get},
	{0},
};

static int http_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	(void)ctx, (void)events;
	return httpd_run(state);
}

static int http_timeout_ms(void *state, struct capd_ctx *ctx)
{
	(void)ctx;
	return httpd_timeout_ms(state);
}

/* Idle timeouts are enforced by httpd_run(): at least once a second. */
static void http_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	(void)ctx, (void)now_ns;
	httpd_run(state);
}

static void http_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	static const char *const classes[6] = {[2] = "2xx", [3] = "3xx", [4] = "4xx", [5] = "5xx"};
	struct httpd_stats st;

	(void)ctx;
	httpd_get_stats(state, &st);
	capd_buf_printf(out,
			"# HELP capd_http_connections_total Connections accepted by the metrics "
			"endpoint.\n# TYPE capd_http_connections_total counter\n"
			"capd_http_connections_total %llu\n"
			"# HELP capd_http_connections_open Connections open now (at most %u).\n"
			"# TYPE capd_http_connections_open gauge\ncapd_http_connections_open %llu\n"
			"# HELP capd_http_requests_total Requests answered, by status class.\n"
			"# TYPE capd_http_requests_total counter\n",
			(unsigned long long)st.connections, st.max_conns,
			(unsigned long long)st.open);
	for (int c = 2; c < 6; c++)
		capd_buf_printf(out, "capd_http_requests_total{code=\"%s\"} %llu\n", classes[c],
				(unsigned long long)st.by_class[c]);
	capd_buf_printf(out,
			"# HELP capd_http_requests_failed_total Requests not completed, by cause.\n"
			"# TYPE capd_http_requests_failed_total counter\n"
			"capd_http_requests_failed_total{cause=\"timeout\"} %llu\n"
			"capd_http_requests_failed_total{cause=\"aborted\"} %llu\n",
			(unsigned long long)st.timed_out, (unsigned long long)st.aborted);
}

static void http_close(void *state)
{
	httpd_stop(state);
}

static const struct capd_source_ops http_ops = {
	.name = "metrics",
	.ready = http_ready,
	.timeout_ms = http_timeout_ms,
	.tick = http_tick,
	.metrics = http_metrics,
	.close = http_close,
};

int capd_metrics_setup(struct capd_ctx *ctx)
{
	struct httpd_opts o = {
		.listen = ctx->cfg->stats_listen,
		.routes = metrics_routes,
		.arg = ctx,
		.log = capd_log,
	};
	struct httpd_stats st;
	struct httpd *h;
	int err;

	if (!ctx->cfg->stats_listen)
		return 0;
	err = httpd_start(&o, &h);
	if (err) {
		capd_log("cannot serve metrics on %s: %s", o.listen, strerror(-err));
		return err == -EINVAL ? err : -EIO;
	}
	err = capd_add_source(ctx, httpd_epoll_fd(h), &http_ops, h);
	if (err) {
		httpd_stop(h);
		return err;
	}
	httpd_get_stats(h, &st);
	capd_log("metrics on http://%s/metrics and /healthz (at most %u connections, %u per "
		 "address, idle timeout %u s)",
		 o.listen, st.max_conns, st.max_conns_per_ip, st.idle_timeout_s);
	return 0;
}
