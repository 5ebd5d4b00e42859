// SPDX-License-Identifier: MIT
/*
 * loop.c - the writer thread: one epoll loop over every source (source.h).
 *
 * The loop calls ready() for each readable source, then publishes the batch
 * (ring_publish) and wakes readers once (ring_notify) before it sleeps
 * again, so a busy capd pays one futex wake per loop turn, not per record.
 * Once a second it runs every source's tick(), refreshes the heartbeat and
 * publishes the counters. Nothing here waits for a reader.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "capd.h"
#include "clock.h"

#define NS_PER_SEC 1000000000ull

int capd_ctx_init(struct capd_ctx *ctx, struct capd_config *cfg)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->ring.fd = -1;
	ctx->nl_fd = -1;
	ctx->start_ns = clock_real_ns();
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx->epfd < 0)
		return -errno;
	return capd_iface_init(ctx);
}

int capd_add_source(struct capd_ctx *ctx, int fd, const struct capd_source_ops *ops, void *state)
{
	struct capd_source *s;
	struct epoll_event ev = {.events = EPOLLIN};

	if (ctx->n_src == CAPD_MAX_SOURCES)
		return -ENOSPC;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->ops = ops;
	s->state = state;
	ev.data.ptr = s;
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		free(s);
		return err;
	}
	ctx->src[ctx->n_src++] = s;
	return 0;
}

static struct capd_source *capd_source_find(struct capd_ctx *ctx, int fd)
{
	for (unsigned i = 0; i < ctx->n_src; i++)
		if (ctx->src[i]->ops && ctx->src[i]->fd == fd)
			return ctx->src[i];
	return NULL;
}

int capd_source_events(struct capd_ctx *ctx, int fd, uint32_t events)
{
	struct capd_source *s = capd_source_find(ctx, fd);
	struct epoll_event ev = {.events = events};

	if (!s)
		return -ENOENT;
	ev.data.ptr = s;
	return epoll_ctl(ctx->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

/* Marks the source dead; the slot is freed after the current event batch. */
void capd_del_source(struct capd_ctx *ctx, int fd)
{
	struct capd_source *s = capd_source_find(ctx, fd);
	const struct capd_source_ops *ops;

	if (!s)
		return;
	epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, fd, NULL);
	ops = s->ops;
	s->ops = NULL;
	ctx->n_dead++;
	if (ops->close)
		ops->close(s->state, ctx);
}

/* Free the slots of removed sources: only between batches, when no event points at them. */
static void capd_sources_compact(struct capd_ctx *ctx)
{
	unsigned j = 0;

	for (unsigned i = 0; i < ctx->n_src; i++) {
		if (ctx->src[i]->ops)
			ctx->src[j++] = ctx->src[i];
		else
			free(ctx->src[i]);
	}
	ctx->n_src = j;
	ctx->n_dead = 0;
}

/* Publish, then let the sources that follow the ring see what was published. */
static void capd_publish(struct capd_ctx *ctx)
{
	ring_publish(&ctx->ring);
	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->published)
			s->ops->published(s->state, ctx);
	}
}

static void capd_batch_end(struct capd_ctx *ctx)
{
	if (!ctx->dirty)
		return;
	capd_publish(ctx);
	ring_notify(&ctx->ring);
	ctx->dirty = false;
}

static void capd_tick(struct capd_ctx *ctx)
{
	uint64_t now = clock_real_ns();

	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->tick)
			s->ops->tick(s->state, ctx, now);
	}
	ring_heartbeat(&ctx->ring, now);
	capd_publish(ctx); /* counters, even when no record was written */
	capd_batch_end(ctx);
}

/* Run a source's ready(); a source that fails is reported and removed. */
static void capd_source_call(struct capd_ctx *ctx, struct capd_source *s, uint32_t events)
{
	int r = s->ops->ready(s->state, ctx, events);

	if (r < 0 && r != -EAGAIN && r != -EINTR) {
		capd_log("%s source failed: %s; removing it", s->ops->name, strerror(-r));
		capd_del_source(ctx, s->fd);
	}
}

/* How long epoll_wait may sleep: until the next tick or the nearest source deadline. */
static int capd_wait_ms(struct capd_ctx *ctx, uint64_t now, uint64_t next_tick)
{
	int timeout = now >= next_tick ? 0 : (int)((next_tick - now) / 1000000) + 1;

	for (unsigned i = 0; i < ctx->n_src && timeout > 0; i++) {
		struct capd_source *s = ctx->src[i];
		int t;

		if (!s->ops || !s->ops->timeout_ms)
			continue;
		t = s->ops->timeout_ms(s->state, ctx);
		if (t >= 0 && t < timeout)
			timeout = t;
	}
	return timeout;
}

/* Sources whose deadline has come run without an event. */
static void capd_run_due(struct capd_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->timeout_ms && s->ops->timeout_ms(s->state, ctx) == 0)
			capd_source_call(ctx, s, 0);
	}
}

int capd_run(struct capd_ctx *ctx)
{
	struct epoll_event evs[64];
	uint64_t next_tick = clock_mono_ns() + NS_PER_SEC;

	while (!ctx->stop) {
		uint64_t now = clock_mono_ns();
		int n = epoll_wait(ctx->epfd, evs, 64, capd_wait_ms(ctx, now, next_tick));

		if (n < 0 && errno != EINTR) {
			capd_log("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct capd_source *s = evs[i].data.ptr;

			if (s->ops)
				capd_source_call(ctx, s, evs[i].events);
		}
		capd_run_due(ctx);
		capd_batch_end(ctx);
		if (ctx->n_dead)
			capd_sources_compact(ctx);
		now = clock_mono_ns();
		if (now >= next_tick) {
			capd_tick(ctx);
			next_tick += NS_PER_SEC;
			if (next_tick <= now)
				next_tick = now + NS_PER_SEC;
		}
	}
	return 0;
}

/* Drain every source, write the last loss records, print the final stats line. */
void capd_finish(struct capd_ctx *ctx)
{
	struct capd_buf line = {0};
	const struct ring_writer *w = &ctx->ring;

	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->flush)
			s->ops->flush(s->state, ctx);
	}
	ring_heartbeat(&ctx->ring, clock_real_ns());
	ring_publish(&ctx->ring);
	ring_notify(&ctx->ring);
	ctx->dirty = false;
	capd_buf_printf(&line,
			"capd: final: records=%llu packets=%llu packet_bytes=%llu next_seq=%llu",
			(unsigned long long)w->counters[RING_CNT_RECORDS],
			(unsigned long long)w->counters[RING_CNT_PACKETS],
			(unsigned long long)w->counters[RING_CNT_PKT_BYTES],
			(unsigned long long)w->next_seq);
	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->summary)
			s->ops->summary(s->state, ctx, &line);
	}
	capd_buf_printf(&line, "\n");
	if (line.p)
		fwrite(line.p, 1, line.len, stderr);
	capd_buf_free(&line);
	for (unsigned i = 0; i < ctx->n_src; i++)
		if (ctx->src[i]->ops)
			capd_del_source(ctx, ctx->src[i]->fd);
	capd_sources_compact(ctx);
	ring_writer_close(&ctx->ring);
	capd_iface_free(ctx);
	close(ctx->epfd);
}
