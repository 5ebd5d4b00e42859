// SPDX-License-Identifier: MIT
/*
 * ebpf_source.c - the eBPF capture backend and the process-context feature
 * as capd sources (ebpf_capture.c, proc_ctx.c and their programs do the work).
 *
 * --backend ebpf falls back to AF_PACKET, with the reason logged, whenever
 * the tc programs cannot load (verifier, missing BTF, memlock, a forced
 * failure in tests): capd never captures silently less than configured.
 * tc attachment needs CAP_NET_ADMIN, which capd gives up after setup, so the
 * eBPF backend captures the interfaces selected at start-up; an interface
 * that appears later is logged and counted as not captured (use the AF_PACKET
 * backend, the default, where pods' veths come and go).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "capd.h"
#include "ebpf_capture.h"
#include "proc_ctx.h"

static struct ebpf_capture *ebpf_cap;
static bool ebpf_fell_back;
static int ebpf_timer_fd = -1;

static int ebpf_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	int n;

	(void)events;
	n = ebpf_capture_drain(state, &ctx->ring);
	if (n > 0)
		ctx->dirty = true; /* published at the end of this loop turn */
	return n;
}

/*
 * The tc program wakes us at most every few milliseconds, so the last
 * samples of a burst wait in the ring buffer without a wakeup. This timer
 * drains them well within RAWCAP_REORDER_NS (format.h) of their timestamp:
 * a window cut at "now" finds them in the ring.
 */
#define EBPF_DRAIN_MS 100

static int ebpf_timer_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	uint64_t expirations;
	int n = 0, r;

	(void)events;
	if (read(ebpf_timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;
	while ((r = ebpf_ready(state, ctx, 0)) > 0 && n < 64)
		n++;
	return r < 0 ? r : 0;
}

static void ebpf_timer_close(void *state, struct capd_ctx *ctx)
{
	(void)state, (void)ctx;
	if (ebpf_timer_fd >= 0)
		close(ebpf_timer_fd);
	ebpf_timer_fd = -1;
}

static const struct capd_source_ops ebpf_timer_ops = {
	.name = "ebpf-drain",
	.ready = ebpf_timer_ready,
	.close = ebpf_timer_close,
};

static int ebpf_timer_setup(struct capd_ctx *ctx)
{
	struct itimerspec its = {.it_interval = {.tv_nsec = EBPF_DRAIN_MS * 1000000L},
				 .it_value = {.tv_nsec = EBPF_DRAIN_MS * 1000000L}};
	int err;

	ebpf_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ebpf_timer_fd < 0)
		return -errno;
	if (timerfd_settime(ebpf_timer_fd, 0, &its, NULL)) {
		err = -errno;
		ebpf_timer_close(NULL, ctx);
		return err;
	}
	err = capd_add_source(ctx, ebpf_timer_fd, &ebpf_timer_ops, ebpf_cap);
	if (err)
		ebpf_timer_close(NULL, ctx);
	return err;
}

static void ebpf_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	ebpf_capture_tick(state, &ctx->ring, now_ns);
}

static void ebpf_flush(void *state, struct capd_ctx *ctx)
{
	for (int i = 0; i < 64 && ebpf_capture_drain(state, &ctx->ring) > 0; i++)
		;
}

static void ebpf_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct ebpf_capture_stats st;

	(void)ctx;
	ebpf_capture_get_stats(state, &st);
	capd_buf_printf(out,
			"# TYPE rawcap_ebpf_packets_total counter\n"
			"rawcap_ebpf_packets_total %llu\n"
			"# TYPE rawcap_ebpf_ringbuf_drops_total counter\n"
			"rawcap_ebpf_ringbuf_drops_total %llu\n"
			"# TYPE rawcap_ebpf_interfaces gauge\n"
			"rawcap_ebpf_interfaces %u\n",
			(unsigned long long)st.packets, (unsigned long long)st.drops, st.interfaces);
}

static void ebpf_summary(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct ebpf_capture_stats st;

	(void)ctx;
	ebpf_capture_get_stats(state, &st);
	capd_buf_printf(out, " ebpf.packets=%llu ebpf.drops=%llu ebpf.interfaces=%u",
			(unsigned long long)st.packets, (unsigned long long)st.drops,
			st.interfaces);
}

static void ebpf_close(void *state, struct capd_ctx *ctx)
{
	(void)ctx;
	ebpf_capture_close_unprivileged(state); /* capd has dropped CAP_NET_ADMIN by now */
	ebpf_cap = NULL;
}

static const struct capd_source_ops ebpf_ops = {
	.name = "ebpf",
	.ready = ebpf_ready,
	.tick = ebpf_tick,
	.flush = ebpf_flush,
	.metrics = ebpf_metrics,
	.summary = ebpf_summary,
	.close = ebpf_close,
};

int capd_ebpf_setup(struct capd_ctx *ctx)
{
	const struct capd_config *cfg = ctx->cfg;
	struct ebpf_capture_opts o = {.snaplen = cfg->snaplen, .filter = cfg->filter};
	char why[512] = "";
	int err = ebpf_capture_open(&o, &ebpf_cap, why, sizeof(why));

	if (err == -EOPNOTSUPP && cfg->filter && *cfg->filter) {
		/* A filter the eBPF path cannot express is a usage error, not a fallback. */
		capd_log("--backend ebpf cannot apply filter '%s': %s", cfg->filter, why);
		return -EINVAL;
	}
	if (err) {
		capd_log("eBPF backend unavailable: %s; capturing with AF_PACKET instead", why);
		ebpf_fell_back = true;
		return capd_afpacket_setup(ctx);
	}
	err = capd_add_source(ctx, ebpf_capture_fd(ebpf_cap), &ebpf_ops, ebpf_cap);
	if (!err)
		err = ebpf_timer_setup(ctx);
	if (err)
		ebpf_capture_close(ebpf_cap);
	return err;
}

/* After the interface table is filled: attach to every selected interface (before the drop). */
int capd_ebpf_attach(struct capd_ctx *ctx)
{
	struct if_nameindex *ifs, *i;
	unsigned attached = 0;

	if (ebpf_fell_back || !ebpf_cap)
		return 0;
	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		uint16_t sel = capd_iface_select(ctx, i->if_index);
		int err;

		if (!sel || sel == CAPD_IFACE_UNKNOWN)
			continue;
		err = ebpf_capture_attach_ifindex(ebpf_cap, (int)i->if_index);
		if (err) {
			capd_log("eBPF: cannot attach to %s: %s", i->if_name, strerror(-err));
			if_freenameindex(ifs);
			return err;
		}
		capd_log("capturing %s (index %u) with tc eBPF", i->if_name, i->if_index);
		attached++;
	}
	if_freenameindex(ifs);
	if (!attached)
		capd_log("eBPF: no interface matches yet; interfaces created later are not "
			 "captured by this backend (they need CAP_NET_ADMIN after the drop)");
	return 0;
}

/* --- process context: pid/comm/cgroup/container per flow, on either backend --- */

static int proc_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	(void)events;
	return proc_ctx_drain(state, &ctx->ring);
}

static void proc_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	proc_ctx_tick(state, &ctx->ring, now_ns);
}

static void proc_summary(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct proc_ctx_stats st;

	(void)ctx;
	proc_ctx_get_stats(state, &st);
	capd_buf_printf(out, " proc.events=%llu proc.drops=%llu proc.existing=%llu",
			(unsigned long long)st.events, (unsigned long long)st.drops,
			(unsigned long long)st.existing);
}

static void proc_close(void *state, struct capd_ctx *ctx)
{
	(void)ctx;
	proc_ctx_close(state);
}

static const struct capd_source_ops proc_ops = {
	.name = "process",
	.ready = proc_ready,
	.tick = proc_tick,
	.summary = proc_summary,
	.close = proc_close,
};

int capd_proc_setup(struct capd_ctx *ctx)
{
	struct proc_ctx_opts o = {0};
	struct proc_ctx *pc;
	char why[512] = "";
	int err = proc_ctx_open(&o, &pc, why, sizeof(why));

	if (err) {
		/* Context is an addition to capture: report what is missing, keep capturing. */
		capd_log("no process context: %s", why);
		return 0;
	}
	if (why[0])
		capd_log("partial process context: %s", why);
	/* Before the drop: reading other processes' /proc/<pid>/fd needs root. */
	proc_ctx_scan_existing(pc, &ctx->ring);
	err = capd_add_source(ctx, proc_ctx_fd(pc), &proc_ops, pc);
	if (err)
		proc_ctx_close(pc);
	return err;
}
