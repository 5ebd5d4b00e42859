/* SPDX-License-Identifier: MIT */
/*
 * source.h - how anything that produces records plugs into capd.
 *
 * capd is one thread: the writer. It owns the ring (struct ring_writer) and
 * runs one epoll loop over "sources". A source is a file descriptor plus a
 * small ops table. When the fd is readable the loop calls ready(), which
 * moves whatever is ready into the ring with ring_reserve() (filling records
 * in place); the loop publishes and wakes readers once per batch, after all
 * ready sources ran, so a busy capd never pays a syscall per record. Once a
 * second the loop calls every source's tick() for statistics, loss records
 * and stall detection.
 *
 * The sources: AF_PACKET TPACKET_V3 sockets (afpacket.c) or eBPF capture
 * (ebpf_source.c, a ring buffer fd), rtnetlink interface events (netlink.c),
 * the signal fd (signals.c), the metrics endpoint (metrics.c), process context (another
 * ring buffer fd), Kubernetes metadata (k8s_source.c: a watch thread feeding
 * a bounded queue and an eventfd, so the writer never blocks on the network)
 * and the disk FIFO's persister (persist.c, an fd that signals I/O
 * completions, and a published() hook the loop calls after each batch).
 * A thread that feeds a source must never touch the ring itself.
 *
 * Rules for a source:
 *  - never block: the fd is non-blocking, ready() does a bounded amount of
 *    work and returns; the loop calls it again while the fd stays readable;
 *  - never call ring_publish()/ring_notify(): the loop does, per batch;
 *  - everything privileged (opening sockets, loading programs) happens in the
 *    source's setup function, which runs before the privilege drop;
 *  - after the drop only the syscalls allowed in sandbox.c are available.
 */
#ifndef CAPD_SOURCE_H
#define CAPD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capd_ctx;
struct capd_buf;

struct capd_source_ops {
	const char *name; /* for messages and metrics: "afpacket", "netlink", ... */
	/* fd is readable (or writable, see capd_source_events): returns >= 0 records written, or
	 * -errno (reported by the loop, which then removes the source). */
	int (*ready)(void *state, struct capd_ctx *ctx, uint32_t events);
	/*
	 * Milliseconds until ready() must run even without an event (it is then called
	 * with events 0), or -1 for no deadline. The loop never sleeps past it. Optional.
	 */
	int (*timeout_ms)(void *state, struct capd_ctx *ctx);
	/* Once a second: statistics, loss records, stall detection. Optional. */
	void (*tick)(void *state, struct capd_ctx *ctx, uint64_t now_ns);
	/* Append Prometheus text lines to out. Optional. */
	void (*metrics)(void *state, struct capd_ctx *ctx, struct capd_buf *out);
	/* 0 if healthy, else -1 with a one-line reason in why. Optional. */
	int (*health)(void *state, struct capd_ctx *ctx, char *why, size_t len);
	/*
	 * 0 while the source works or can still recover by itself, else -1 with
	 * a one-line reason: only a restart helps (/livez). Never for what a
	 * restart cannot cure (a full disk). Optional.
	 */
	int (*live)(void *state, struct capd_ctx *ctx, char *why, size_t len);
	/* At shutdown, before close: move everything still buffered into the ring. Optional. */
	void (*flush)(void *state, struct capd_ctx *ctx);
	/* At shutdown: append "key=value ..." figures for the final stats line. Optional. */
	void (*summary)(void *state, struct capd_ctx *ctx, struct capd_buf *out);
	/* Called once when the source is removed or capd exits; closes fd. Optional. */
	void (*close)(void *state, struct capd_ctx *ctx);
	/*
	 * After every ring_publish() of the loop: follow what was just published
	 * (the disk FIFO's persister), so it stays within one batch of the head.
	 * Optional.
	 */
	void (*published)(void *state, struct capd_ctx *ctx);
};

/* Register fd (made non-blocking by the caller) for EPOLLIN. 0 or -errno. */
int capd_add_source(struct capd_ctx *ctx, int fd, const struct capd_source_ops *ops, void *state);
/* Change the epoll events of a registered fd (e.g. EPOLLOUT while a reply is pending). */
int capd_source_events(struct capd_ctx *ctx, int fd, uint32_t events);
/* Remove a source at once: its close() runs now. Safe from inside its own ready(). */
void capd_del_source(struct capd_ctx *ctx, int fd);

/*
 * Optional sources and backends are listed in registry.c: one line each.
 * setup() runs before the privilege drop and calls capd_add_source().
 */
struct capd_config;
struct ring_prev;
struct capd_backend {
	const char *name; /* value of --backend */
	int (*setup)(struct capd_ctx *ctx);
	const char *missing; /* non-NULL: not built yet; why, for the one-line error */
	/* Optional: after the interface table is filled, before the drop. */
	int (*attach)(struct capd_ctx *ctx);
};
struct capd_feature {
	const char *flag; /* the long option that enables it, e.g. "kubernetes" */
	bool (*enabled)(const struct capd_config *cfg);
	int (*setup)(struct capd_ctx *ctx);
	const char *missing;
	/*
	 * Optional, for a part that follows the ring (the disk FIFO): runs while
	 * capd takes the ring, before a previous capd's ring (prev, NULL if none)
	 * is continued or replaced, and may raise the first sequence number
	 * *base_seq. Such a part's setup() then runs as soon as the ring exists,
	 * before anything writes to it and before the other parts.
	 */
	int (*ring_prepare)(struct capd_ctx *ctx, const struct ring_prev *prev, uint64_t *base_seq);
};
const struct capd_backend *capd_backend_find(const char *name);
extern const struct capd_feature capd_features[];

#endif /* CAPD_SOURCE_H */
