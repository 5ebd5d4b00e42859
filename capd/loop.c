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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "capd.h"

#define NS_PER_SEC 1000000000ull

int capd_ctx_init(struct capd_ctx *ctx, struct capd_config *cfg)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->ring.fd = -1;
	ctx->nl_fd = -1;
	ctx->start_ns = capd_now_ns();
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
		ops->close(s->state);
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

static void capd_batch_end(struct capd_ctx *ctx)
{
	if (!ctx->dirty)
		return;
	ring_publish(&ctx->ring);
	capd_persist_pump(ctx);
	ring_notify(&ctx->ring);
	ctx->dirty = false;
}

static void capd_tick(struct capd_ctx *ctx)
{
	uint64_t now = capd_now_ns();

	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->tick)
			s->ops->tick(s->state, ctx, now);
	}
	ring_heartbeat(&ctx->ring, now);
	ring_publish(&ctx->ring); /* counters, even when no record was written */
	capd_persist_pump(ctx);
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
	uint64_t next_tick = capd_mono_ns() + NS_PER_SEC;

	while (!ctx->stop) {
		uint64_t now = capd_mono_ns();
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
		now = capd_mono_ns();
		if (now >= next_tick) {
			capd_tick(ctx);
			next_tick += NS_PER_SEC;
			if (next_tick <= now)
				next_tick = now + NS_PER_SEC;
		}
	}
	return 0;
}

void capd_metrics_collect(struct capd_ctx *ctx, struct capd_buf *out)
{
	const struct ring_writer *w = &ctx->ring;
	static const char *const loss_names[16] = {
		[RAWCAP_LOSS_KERNEL_DROP] = "kernel_drop",
		[RAWCAP_LOSS_KERNEL_FREEZE] = "kernel_freeze",
		[RAWCAP_LOSS_EBPF_RINGBUF] = "ebpf_ringbuf",
		[RAWCAP_LOSS_PERSIST_LAPPED] = "persist_lapped",
		[RAWCAP_LOSS_DISK_ERROR] = "disk_error",
		[RAWCAP_LOSS_TRUNCATED] = "truncated",
		[RAWCAP_LOSS_META_QUEUE] = "meta_queue",
	};

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
	for (int c = 1; c < 16; c++)
		if (loss_names[c])
			capd_buf_printf(out, "capd_lost_total{cause=\"%s\"} %llu\n", loss_names[c],
					(unsigned long long)w->counters[RING_CNT_LOSS_BASE + c]);
	capd_iface_metrics(ctx, out);
	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->metrics)
			s->ops->metrics(s->state, ctx, out);
	}
}

int capd_health(struct capd_ctx *ctx, char *why, size_t len)
{
	for (unsigned i = 0; i < ctx->n_src; i++) {
		struct capd_source *s = ctx->src[i];

		if (s->ops && s->ops->health && s->ops->health(s->state, ctx, why, len))
			return -1;
	}
	snprintf(why, len, "ok");
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
	ring_heartbeat(&ctx->ring, capd_now_ns());
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

/* SIGTERM/SIGINT through a signalfd, so they end the loop between batches. */
static int sig_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct signalfd_siginfo si;
	int fd = *(int *)state;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			capd_log("signal %u: stopping", si.ssi_signo);
			ctx->stop = true;
		}
	}
	return 0;
}

static void sig_close(void *state)
{
	close(*(int *)state);
}

static const struct capd_source_ops sig_ops = {
	.name = "signals",
	.ready = sig_ready,
	.close = sig_close,
};

int capd_signals_setup(struct capd_ctx *ctx)
{
	static int sfd;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	return capd_add_source(ctx, sfd, &sig_ops, &sfd);
}
