// SPDX-License-Identifier: MIT
/*
 * afp_socket.c - the AF_PACKET capture source's sockets: open each one
 * (TPACKET_V3 ring mapped, filter attached and locked, bound, fanout) and
 * register it as a capd source, whose metrics, health and summary are
 * here; afpacket.c drains them.
 *
 * Sockets are SOCK_RAW: the bytes are the real frame of the interface
 * (Ethernet for Ethernet, veth and loopback; raw IP for tunnels), with its
 * linktype per interface, rather than the cooked SLL header of SOCK_DGRAM.
 * They are bound to no interface (ifindex 0) unless a single interface is
 * named, because a socket cannot be bound to an interface that appears after
 * the privilege drop; iface.c selects interfaces per packet instead.
 *
 * The capture filter is compiled with libpcap and attached as classic BPF to
 * every socket before it is bound, then locked (SO_LOCK_FILTER). Its return
 * value is the snap length, so the kernel truncates for us.
 *
 * With --threads N > 1, the sockets form one fanout group, read in time
 * order (afp_order.c).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "afpacket.h"
#include "capd.h"

#define AFP_MAX_SOCKS 64

static struct afp_sock afp_socks[AFP_MAX_SOCKS];
unsigned afp_nsocks;

static void afp_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct afp_sock *s = state;

	(void)ctx;
	if (s->id == 0)
		capd_buf_printf(out, "# HELP capd_kernel_packets_total Packets the kernel saw for "
				     "a capture socket (PACKET_STATISTICS).\n"
				     "# TYPE capd_kernel_packets_total counter\n"
				     "# HELP capd_kernel_drops_total Packets the kernel dropped: "
				     "the socket ring was full.\n"
				     "# TYPE capd_kernel_drops_total counter\n"
				     "# HELP capd_kernel_freezes_total Times the kernel froze a "
				     "socket's queue.\n"
				     "# TYPE capd_kernel_freezes_total counter\n"
				     "# HELP capd_socket_packets_total Packets written to the ring "
				     "from a socket.\n"
				     "# TYPE capd_socket_packets_total counter\n"
				     "# HELP capd_unselected_packets_total Packets not captured by "
				     "choice: --interfaces, rawcap's own connections.\n"
				     "# TYPE capd_unselected_packets_total counter\n"
				     "# HELP capd_truncated_packets_total Packets cut to the "
				     "ring's largest record.\n"
				     "# TYPE capd_truncated_packets_total counter\n"
				     "# HELP capd_socket_stalled 1 while a socket has packets the "
				     "kernel counted but capd does not get.\n"
				     "# TYPE capd_socket_stalled gauge\n"
				     "# HELP capd_socket_stalls_total Stalls detected.\n"
				     "# TYPE capd_socket_stalls_total counter\n"
				     "# HELP capd_unknown_iface_packets_total Packets of an "
				     "interface capd had no description of (lost, in loss "
				     "records).\n"
				     "# TYPE capd_unknown_iface_packets_total counter\n"
				     "# HELP capd_late_packets_total Packets stored more than "
				     "the reorder bound after their timestamp.\n"
				     "# TYPE capd_late_packets_total counter\n"
				     "# HELP capd_unordered_packets_total Packets written after "
				     "a newer one of another socket (--threads > 1).\n"
				     "# TYPE capd_unordered_packets_total counter\n");
	capd_buf_printf(out,
			"capd_kernel_packets_total{socket=\"%u\"} %llu\n"
			"capd_kernel_drops_total{socket=\"%u\"} %llu\n"
			"capd_kernel_freezes_total{socket=\"%u\"} %llu\n"
			"capd_socket_packets_total{socket=\"%u\"} %llu\n"
			"capd_unselected_packets_total{socket=\"%u\"} %llu\n"
			"capd_truncated_packets_total{socket=\"%u\"} %llu\n"
			"capd_socket_stalled{socket=\"%u\"} %d\n"
			"capd_socket_stalls_total{socket=\"%u\"} %llu\n",
			s->id, (unsigned long long)s->k_seen, s->id, (unsigned long long)s->k_drops,
			s->id, (unsigned long long)s->k_freeze, s->id,
			(unsigned long long)s->captured, s->id, (unsigned long long)s->unselected,
			s->id, (unsigned long long)s->truncated, s->id, s->stalled, s->id,
			(unsigned long long)s->stalls);
	capd_buf_printf(out,
			"capd_unknown_iface_packets_total{socket=\"%u\"} %llu\n"
			"capd_late_packets_total{socket=\"%u\"} %llu\n"
			"capd_unordered_packets_total{socket=\"%u\"} %llu\n",
			s->id, (unsigned long long)s->unknown, s->id, (unsigned long long)s->late,
			s->id, (unsigned long long)s->unordered);
}

static int afp_health(void *state, struct capd_ctx *ctx, char *why, size_t len)
{
	struct afp_sock *s = state;

	(void)ctx;
	if (!s->stalled)
		return 0;
	snprintf(why, len, "capture socket %u stalled", s->id);
	return -1;
}

/* Stalled longer than any resync takes: only a restart helps. */
static int afp_live(void *state, struct capd_ctx *ctx, char *why, size_t len)
{
	struct afp_sock *s = state;

	if (!s->stalled || s->stuck_ticks < afp_stall_fatal_secs(ctx))
		return 0;
	snprintf(why, len, "capture socket %u stalled for %u s (a restart is due after %u s)",
		 s->id, s->stuck_ticks, afp_stall_fatal_secs(ctx));
	return -1;
}

static void afp_summary(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct afp_sock *s = state;
	uint64_t sum = afp_consumed(s) + s->k_drops;

	(void)ctx;
	capd_buf_printf(out,
			" sock%u.kernel_seen=%llu sock%u.captured=%llu sock%u.bytes=%llu"
			" sock%u.unselected=%llu sock%u.kernel_drops=%llu sock%u.freezes=%llu"
			" sock%u.balanced=%s",
			s->id, (unsigned long long)s->k_seen, s->id,
			(unsigned long long)s->captured, s->id, (unsigned long long)s->cap_bytes,
			s->id, (unsigned long long)s->unselected, s->id,
			(unsigned long long)s->k_drops, s->id, (unsigned long long)s->k_freeze,
			s->id, sum == s->k_seen ? "yes" : "NO");
	if (s->unknown || s->late)
		capd_buf_printf(out, " sock%u.unknown_iface=%llu sock%u.late=%llu", s->id,
				(unsigned long long)s->unknown, s->id, (unsigned long long)s->late);
	if (afp_nsocks > 1)
		capd_buf_printf(out, " sock%u.unordered=%llu", s->id,
				(unsigned long long)s->unordered);
}

static void afp_close(void *state, struct capd_ctx *ctx)
{
	struct afp_sock *s = state;

	(void)ctx;
	if (s->map)
		munmap(s->map, s->map_len);
	if (s->fd >= 0)
		close(s->fd);
	s->map = NULL;
	s->fd = -1;
}

/* With several sockets, the merge may hold packets until a deadline passes. */
static int afp_timeout_ms(void *state, struct capd_ctx *ctx)
{
	const struct afp_sock *s = state;

	(void)ctx;
	return afp_nsocks > 1 && s->id == 0 ? afp_order_timeout_ms() : -1;
}

static const struct capd_source_ops afp_ops = {
	.name = "afpacket",
	.ready = afp_ready,
	.timeout_ms = afp_timeout_ms,
	.tick = afp_tick,
	.metrics = afp_metrics,
	.health = afp_health,
	.live = afp_live,
	.flush = afp_flush,
	.summary = afp_summary,
	.close = afp_close,
};

/*
 * Never PACKET_FANOUT_FLAG_DEFRAG: it reassembles IP fragments before the
 * sockets see them, so the ring would hold datagrams that never crossed the
 * wire and lose the fragments themselves (loopback's above all). Without it,
 * the hash of a fragment is over its addresses only, so the fragments of one
 * datagram still meet in one socket.
 */
static int afp_fanout_arg(const struct capd_config *cfg)
{
	int type = PACKET_FANOUT_HASH;

	if (!strcmp(cfg->fanout, "cpu"))
		type = PACKET_FANOUT_CPU;
	else if (!strcmp(cfg->fanout, "lb"))
		type = PACKET_FANOUT_LB;
	return (getpid() & 0xffff) | (type << 16);
}

#define AFP_SETOPT(fd, lvl, opt, val, what)                                                        \
	do {                                                                                       \
		if (setsockopt(fd, lvl, opt, &(val), sizeof(val))) {                               \
			err = -errno;                                                              \
			capd_log("AF_PACKET socket: %s: %s", what, strerror(-err));                \
			goto fail;                                                                 \
		}                                                                                  \
	} while (0)

static int afp_open(struct capd_ctx *ctx, struct afp_sock *s, const struct sock_fprog *prog,
		    uint32_t ifindex)
{
	const struct capd_config *cfg = ctx->cfg;
	int version = TPACKET_V3, one = 1, fanout, err;
	struct tpacket_req3 req = {
		.tp_block_size = (unsigned)cfg->block_size,
		.tp_block_nr = (unsigned)cfg->block_nr,
		.tp_frame_size = TPACKET_ALIGNMENT << 7, /* only checked, V3 packs packets */
		.tp_retire_blk_tov = AFP_RETIRE_MS,
	};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)ifindex};

	req.tp_frame_nr = (unsigned)(cfg->block_size / req.tp_frame_size * cfg->block_nr);
	/* Protocol 0: receives nothing until bind(), so no packet passes unfiltered. */
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		err = -errno;
		capd_log("cannot open an AF_PACKET socket: %s (capd needs CAP_NET_RAW)",
			 strerror(-err));
		return err;
	}
	AFP_SETOPT(s->fd, SOL_PACKET, PACKET_VERSION, version, "PACKET_VERSION TPACKET_V3");
	AFP_SETOPT(s->fd, SOL_PACKET, PACKET_RX_RING, req, "PACKET_RX_RING");
	s->block_size = req.tp_block_size;
	s->block_nr = req.tp_block_nr;
	s->map_len = (size_t)s->block_size * s->block_nr;
	s->map =
		mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, s->fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		err = -errno;
		capd_log("cannot map the AF_PACKET ring (%zu bytes): %s", s->map_len,
			 strerror(-err));
		goto fail;
	}
	AFP_SETOPT(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, *prog, "SO_ATTACH_FILTER");
	AFP_SETOPT(s->fd, SOL_SOCKET, SO_LOCK_FILTER, one, "SO_LOCK_FILTER");
	if (cfg->dup == CAPD_DUP_INGRESS)
		AFP_SETOPT(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one,
			   "PACKET_IGNORE_OUTGOING");
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		capd_log("cannot bind the AF_PACKET socket: %s", strerror(-err));
		goto fail;
	}
	if (cfg->threads > 1) {
		fanout = afp_fanout_arg(cfg);
		AFP_SETOPT(s->fd, SOL_PACKET, PACKET_FANOUT, fanout, "PACKET_FANOUT");
	}
	s->bound_ifindex = ifindex;
	return capd_add_source(ctx, s->fd, &afp_ops, s);
fail:
	afp_close(s, ctx);
	return err;
}

/*
 * Several sockets feed the one writer: their blocks are merged in time order
 * (afp_order.c), which holds retired blocks until the other sockets cannot
 * deliver anything older. A held block keeps a level-triggered socket
 * readable, so the sockets are edge-triggered: an event is a block retiring
 * (the kernel wakes the socket once per block it closes), and work left over
 * is asked for through timeout_ms().
 */
static int afp_order_setup(struct capd_ctx *ctx)
{
	afp_order_init(afp_socks, afp_nsocks);
	for (unsigned i = 0; i < afp_nsocks; i++) {
		int err = capd_source_events(ctx, afp_socks[i].fd, EPOLLIN | EPOLLET);

		if (err) {
			capd_log("AF_PACKET socket %u: edge-triggered epoll: %s", i,
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

int capd_afpacket_setup(struct capd_ctx *ctx)
{
	const struct capd_config *cfg = ctx->cfg;
	struct sock_fprog prog;
	char msg[512];
	uint32_t ifindex = 0;
	int err = 0;

	err = capd_filter_compile(cfg, &prog, msg, sizeof(msg));
	if (err) {
		capd_log("bad filter: %s", msg);
		return err;
	}
	/* One named interface: bind to it, so the kernel does the selection. */
	if (capd_bound_iface(cfg))
		ifindex = if_nametoindex(cfg->ifaces[0]);
	for (unsigned i = 0; i < cfg->threads && !err; i++) {
		struct afp_sock *s = &afp_socks[afp_nsocks];

		memset(s, 0, sizeof(*s));
		s->id = afp_nsocks++;
		s->force_stall = getenv("RAWCAP_AFP_FORCE_STALL") != NULL; /* tests */
		err = afp_open(ctx, s, &prog, ifindex);
	}
	free(prog.filter);
	if (!err && afp_nsocks > 1)
		err = afp_order_setup(ctx);
	return err;
}
