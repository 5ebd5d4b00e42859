// SPDX-License-Identifier: MIT
/*
 * metrics.c - capd's metrics and health (capd_metrics_collect, capd_health)
 * and Prometheus /metrics and /healthz over HTTP (opt-in, --stats-listen),
 * served by libmicrohttpd through httpd/httpd.h.
 *
 * The server runs in capd's own loop, not in a thread: its epoll fd is one
 * more source, httpd_run() is its ready(), and its timeout_ms() keeps the
 * loop from sleeping past MHD's deadline (buffered work, idle timeouts).
 * Handlers therefore run on the writer thread between batches and read
 * capd's state without locks. Each call does a bounded amount of work, and
 * the limits (httpd.h: connections in all and per address, idle timeout,
 * per-connection memory) make a slow or idle client cost its own connection
 * only. /healthz answers 503 with the reason when a source reports a
 * problem (a stalled socket, a disk FIFO error while capture goes on into
 * the ring); /livez answers 200 whenever the loop runs, for a liveness
 * probe, which must not restart capd over a full disk, and 503 only when a
 * capture socket stayed stalled past afp_stall_fatal_secs() (max(60 s, 20 x
 * --stall-seconds)), which no resync cured. If the writer thread itself
 * hangs, neither answers, and the probe fails as it should.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/rawcap.h>

#include "capd.h"
#include "httpd.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define NS_PER_SEC   1000000000ull
/*
 * A request's headers must be in this long after the connection (or its
 * previous request) began: MHD's idle timeout alone let a client that sends
 * a byte every few seconds hold its slot for ever, and clients from a few
 * addresses (127.0.0.2, 127.0.0.3, ... on the node) every slot.
 */
#define METRICS_HEADER_S 5

/* capd's own figures (ring, loss by cause, interfaces), then every source's. */
void capd_metrics_collect(struct capd_ctx *ctx, struct capd_buf *out)
{
	const struct ring_writer *w = &ctx->ring;

	capd_buf_printf(
		out,
		"# HELP capd_up 1 while capd runs.\n# TYPE capd_up gauge\ncapd_up 1\n"
		"# HELP capd_start_time_seconds When capd started.\n"
		"# TYPE capd_start_time_seconds gauge\ncapd_start_time_seconds %llu\n"
		"# HELP capd_ring_records_total Records written to the ring.\n"
		"# TYPE capd_ring_records_total counter\ncapd_ring_records_total %llu\n"
		"# HELP capd_ring_bytes_total Record bytes written to the ring.\n"
		"# TYPE capd_ring_bytes_total counter\ncapd_ring_bytes_total %llu\n"
		"# HELP capd_ring_packets_total Packet records written to the ring.\n"
		"# TYPE capd_ring_packets_total counter\ncapd_ring_packets_total %llu\n"
		"# HELP capd_ring_packet_bytes_total Original bytes of the packets written.\n"
		"# TYPE capd_ring_packet_bytes_total counter\ncapd_ring_packet_bytes_total %llu\n"
		"# HELP capd_ring_wraps_total Times the writer wrapped around the ring.\n"
		"# TYPE capd_ring_wraps_total counter\ncapd_ring_wraps_total %llu\n"
		"# HELP capd_ring_size_bytes Size of the ring's data area.\n"
		"# TYPE capd_ring_size_bytes gauge\ncapd_ring_size_bytes %llu\n"
		"# HELP capd_ring_generation Generation of the ring capd writes.\n"
		"# TYPE capd_ring_generation gauge\ncapd_ring_generation %llu\n"
		"# HELP capd_ring_next_seq Sequence number of the next record.\n"
		"# TYPE capd_ring_next_seq gauge\ncapd_ring_next_seq %llu\n"
		"# HELP capd_lost_total Units lost upstream of the ring, by cause.\n"
		"# TYPE capd_lost_total counter\n",
		(unsigned long long)(ctx->start_ns / NS_PER_SEC),
		(unsigned long long)w->counters[RING_CNT_RECORDS],
		(unsigned long long)w->counters[RING_CNT_BYTES],
		(unsigned long long)w->counters[RING_CNT_PACKETS],
		(unsigned long long)w->counters[RING_CNT_PKT_BYTES],
		(unsigned long long)w->counters[RING_CNT_WRAPS], (unsigned long long)w->size,
		(unsigned long long)w->hdr->generation, (unsigned long long)w->next_seq);
	for (uint32_t c = 1; c < 16; c++)
		if (rawcap_loss_cause_name(c))
			capd_buf_printf(out, "capd_lost_total{cause=\"%s\"} %llu\n",
					rawcap_loss_cause_name(c),
					(unsigned long long)w->counters[RING_CNT_LOSS_BASE + c]);
	capd_iface_metrics(ctx, out);
	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->metrics)
			s->ops->metrics(s->state, ctx, out);
	}
}

/* The first source whose check (health or live) fails, its reason in why; else "ok". */
static int capd_check(struct capd_ctx *ctx, bool live, char *why, size_t len)
{
	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];
		int (*fn)(void *, struct capd_ctx *, char *, size_t);

		fn = !s->ops ? NULL : live ? s->ops->live : s->ops->health;
		if (fn && fn(s->state, ctx, why, len))
			return -1;
	}
	snprintf(why, len, "ok");
	return 0;
}

int capd_health(struct capd_ctx *ctx, char *why, size_t len)
{
	return capd_check(ctx, false, why, len);
}

int capd_live(struct capd_ctx *ctx, char *why, size_t len)
{
	return capd_check(ctx, true, why, len);
}

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

/*
 * Answering at all says the loop runs; 503 only for what a restart cures
 * (a capture socket stalled beyond any resync), never for the disk.
 */
static int livez_get(void *arg, struct httpd_req *req)
{
	char why[256];
	int bad = capd_live(arg, why, sizeof(why));

	return httpd_reply_text(req, bad ? 503 : 200, "%s\n", why);
}

static const struct httpd_route metrics_routes[] = {
	{.method = "GET", .path = "/metrics", .fn = metrics_get},
	{.method = "GET", .path = "/healthz", .fn = healthz_get},
	{.method = "GET", .path = "/livez", .fn = livez_get},
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

static void http_close(void *state, struct capd_ctx *ctx)
{
	(void)ctx;
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
		.header_timeout_s = METRICS_HEADER_S,
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
	capd_log("metrics on http://%s/metrics, /healthz and /livez (at most %u connections, %u per "
		 "address, idle timeout %u s, headers within %u s)",
		 o.listen, st.max_conns, st.max_conns_per_ip, st.idle_timeout_s, METRICS_HEADER_S);
	return 0;
}
