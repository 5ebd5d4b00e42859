// SPDX-License-Identifier: MIT
/*
 * afpacket.c - the AF_PACKET TPACKET_V3 capture source.
 *
 * Each socket has a kernel receive ring of --block-count blocks of
 * --block-size bytes. The kernel fills a block with packets and hands it
 * over when it is full or --retire timeout (100 ms) passes, so quiet links
 * still flow. ready() walks the blocks the kernel handed over and copies each
 * selected packet once, straight from the block into a record reserved in
 * the shm ring, then gives the block back.
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
 * With --threads N > 1, the sockets form one fanout group and their blocks
 * are merged by packet timestamp (afp_order.c), so the ring stays in time
 * order however the kernel spreads a flow over the sockets.
 *
 * Loss: PACKET_STATISTICS (read and reset every second, and at once when a
 * block comes marked TP_STATUS_LOSING) gives the packets the kernel saw for
 * the socket and the ones it dropped because the ring was full. Drops become
 * RAWCAP_REC_LOSS records. Once the socket is drained,
 *	kernel seen = captured + unselected + dropped
 * holds exactly, and capd checks it in its final stats line.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
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
#include "clock.h"
#include "frame.h"
#include "self_match.h"

#define AFP_MAX_SOCKS	   64
#define AFP_PREFETCH_AHEAD 2048 /* bytes of ring ahead of the writer */

static struct afp_sock afp_socks[AFP_MAX_SOCKS];
static unsigned afp_nsocks;

/* The VLAN tag the kernel took out of the frame, as libpcap's VLAN_VALID()/VLAN_TPID() read it. */
static bool afp_vlan(const struct tpacket3_hdr *ph, uint16_t *tpid, uint16_t *tci)
{
	if (!(ph->tp_status & TP_STATUS_VLAN_VALID) && !ph->hv1.tp_vlan_tci)
		return false;
	*tci = (uint16_t)ph->hv1.tp_vlan_tci;
	*tpid = ph->hv1.tp_vlan_tpid || (ph->tp_status & TP_STATUS_VLAN_TPID_VALID)
			? (uint16_t)ph->hv1.tp_vlan_tpid
			: ETH_P_8021Q;
	return true;
}

/* Copy one packet from the block into the ring, framed as libpcap frames it (frame.h). */
void afp_packet(struct afp_sock *s, struct capd_ctx *ctx, const struct tpacket3_hdr *ph)
{
	const struct sockaddr_ll *sll =
		(const void *)((const uint8_t *)ph + TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
	const uint8_t *frame = (const uint8_t *)ph + ph->tp_mac;
	uint32_t caplen = ph->tp_snaplen, orig = ph->tp_len, out, room;
	struct ring_writer *w = &ctx->ring;
	uint16_t linktype, tpid = 0, tci = 0;
	struct rawcap_pkt *pkt;
	bool vlan;

	linktype = capd_iface_select(ctx, (uint32_t)sll->sll_ifindex);
	if (linktype == CAPD_IFACE_UNKNOWN) {
		if (!s->unknown_pending++)
			s->unknown_ts = afp_pkt_ts(ph);
		s->unknown_ifindex = (uint32_t)sll->sll_ifindex;
		s->unknown++;
		return;
	}
	if (!linktype || capd_self_skip(frame, caplen, orig, linktype,
					self_dir_of((uint32_t)sll->sll_ifindex,
						    sll->sll_pkttype == PACKET_OUTGOING))) {
		s->unselected++;
		return;
	}
	/* A tunnel's outer header (gre without a remote) precedes the network header. */
	if (linktype == CAPD_LINKTYPE_RAW && ph->tp_net > ph->tp_mac &&
	    (uint32_t)(ph->tp_net - ph->tp_mac) <= caplen) {
		uint32_t skip = (uint32_t)(ph->tp_net - ph->tp_mac);

		frame += skip;
		caplen -= skip;
		orig -= skip;
	}
	vlan = afp_vlan(ph, &tpid, &tci) && linktype == CAPD_LINKTYPE_ETHERNET;
	out = vlan ? capd_vlan_caplen(caplen, ctx->cfg->snaplen) : caplen;
	if (vlan && caplen >= CAPD_ETH_TYPE_OFF)
		orig += CAPD_VLAN_TAG_LEN;
	/*
	 * The ring is far larger than the caches, so every record lands on cold
	 * lines: ask for them a few records ahead, for writing, so the misses
	 * overlap instead of stalling each store in turn.
	 */
	for (uint32_t off = 0; off < 4 * 64 && off < out + 64; off += 64)
		__builtin_prefetch(w->data + ((w->wpos + AFP_PREFETCH_AHEAD + off) & w->mask), 1,
				   0);
	room = ring_max_payload(w) - (uint32_t)sizeof(*pkt);
	if (out > room) {
		out = room;
		s->truncated++;
	}
	pkt = ring_reserve(w, RAWCAP_REC_PACKET, 0, afp_pkt_ts(ph), (uint32_t)sizeof(*pkt) + out);
	pkt->ifindex = (uint32_t)sll->sll_ifindex;
	pkt->orig_len = orig;
	pkt->linktype = linktype;
	pkt->dir = sll->sll_pkttype;
	pkt->pkt_flags = vlan ? RAWCAP_PKT_VLAN : 0;
	pkt->vlan_tci = tci;
	pkt->vlan_tpid = tpid;
	pkt->protocol = sll->sll_protocol;
	pkt->reserved = 0;
	pkt->reserved2 = 0;
	pkt->sock_cookie = 0;
	pkt->cgroup_id = 0;
	if (vlan)
		capd_vlan_copy((uint8_t *)(pkt + 1), frame, caplen, out, tpid, tci);
	else
		memcpy(pkt + 1, frame, out);

	w->counters[RING_CNT_PACKETS]++;
	w->counters[RING_CNT_PKT_BYTES] += orig;
	capd_iface_count(ctx, pkt->ifindex, orig);
	s->captured++;
	s->cap_bytes += orig;
}

static void afp_loss_record(struct capd_ctx *ctx, uint32_t ifindex, uint32_t cause, uint64_t count,
			    uint64_t ts_ns)
{
	ring_write_loss(&ctx->ring, ts_ns, cause, count, ifindex, 0);
	ctx->dirty = true;
}

/* Read and reset the kernel's counters; write loss records for new drops. */
void afp_stats(struct afp_sock *s, struct capd_ctx *ctx, uint64_t now_ns)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return;
	s->k_seen += st.tp_packets; /* includes tp_drops */
	s->k_drops += st.tp_drops;
	s->k_freeze += st.tp_freeze_q_cnt;
	if (st.tp_drops)
		afp_loss_record(ctx, s->bound_ifindex, RAWCAP_LOSS_KERNEL_DROP, st.tp_drops,
				now_ns);
	if (st.tp_freeze_q_cnt)
		afp_loss_record(ctx, s->bound_ifindex, RAWCAP_LOSS_KERNEL_FREEZE,
				st.tp_freeze_q_cnt, now_ns);
}

/*
 * Readers cut time windows trusting that nothing is stored more than
 * RAWCAP_REORDER_NS after its timestamp (format.h). A block retires within
 * AFP_RETIRE_MS, so only a capd starved of CPU breaks that: count it. The
 * block's own ts_first_pkt is when the kernel opened it, which on a quiet
 * link is long before its first packet: judge by that packet's stamp.
 */
static void afp_lateness(struct afp_sock *s, const struct tpacket_block_desc *bd, uint32_t n)
{
	uint64_t first = afp_pkt_ts(afp_first_pkt(bd));

	if (clock_real_ns() - first > RAWCAP_REORDER_NS) {
		if (!s->late)
			capd_log("socket %u stored packets more than %llu ms after their "
				 "timestamps: windows cut near them may miss them "
				 "(capd_late_packets_total)",
				 s->id, RAWCAP_REORDER_NS / 1000000);
		s->late += n;
	}
}

/*
 * Before a block's packets: the kernel closed this block with drops counted
 * (the ring was full before it opened): say so now, stamped with its first
 * packet, so the loss lands in the window of the packets around the gap, not
 * in the one of the next tick.
 */
void afp_block_begin(struct afp_sock *s, struct capd_ctx *ctx, struct tpacket_block_desc *bd)
{
	const struct tpacket3_hdr *ph = afp_first_pkt(bd);

	if (bd->hdr.bh1.block_status & TP_STATUS_LOSING)
		afp_stats(s, ctx, bd->hdr.bh1.num_pkts ? afp_pkt_ts(ph) : clock_real_ns());
}

/* After a block's packets, before it is given back. */
void afp_block_end(struct afp_sock *s, struct capd_ctx *ctx, struct tpacket_block_desc *bd)
{
	uint32_t n = bd->hdr.bh1.num_pkts;

	if (n) {
		afp_lateness(s, bd, n);
		ctx->dirty = true;
	}
	if (s->unknown_pending) {
		afp_loss_record(ctx, s->unknown_ifindex, RAWCAP_LOSS_IFACE_UNKNOWN,
				s->unknown_pending, s->unknown_ts);
		s->unknown_pending = 0;
	}
	s->blocks++;
}

static void afp_block(struct afp_sock *s, struct capd_ctx *ctx, struct tpacket_block_desc *bd)
{
	uint32_t n = bd->hdr.bh1.num_pkts;
	const uint8_t *p = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;

	afp_block_begin(s, ctx, bd);
	for (uint32_t i = 0; i < n; i++) {
		const struct tpacket3_hdr *ph = (const void *)p;
		const uint8_t *next = p + ph->tp_next_offset;

		/*
		 * The kernel wrote the block on another CPU, so every line of it
		 * is a cross-core miss. Packets lie back to back: fetch well ahead
		 * by address (AFP_BLOCK_AHEAD bytes), not just the next header, so
		 * the misses overlap with the copying of earlier packets.
		 */
		__builtin_prefetch(next, 0, 0);
		__builtin_prefetch(p + AFP_BLOCK_AHEAD, 0, 0);
		__builtin_prefetch(p + AFP_BLOCK_AHEAD + 64, 0, 0);
		afp_packet(s, ctx, ph);
		p = next;
	}
	afp_block_end(s, ctx, bd);
}

static int afp_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct afp_sock *s = state;
	int n;

	(void)events;
	if (afp_nsocks > 1)
		return afp_order_run(ctx, false);
	for (n = 0; n < AFP_BLOCKS_PER_RUN; n++) {
		struct tpacket_block_desc *bd = afp_bd(s, s->cur);

		/* Pairs with the kernel's smp_wmb() before it sets TP_STATUS_USER. */
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			break;
		afp_block(s, ctx, bd);
		/* Give the block back only after every byte was copied out. */
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		s->cur = (s->cur + 1) % s->block_nr;
	}
	return n;
}

/* The oldest block the kernel handed over, wherever it is (after a stall). */
static int afp_resync(struct afp_sock *s)
{
	uint64_t best_seq = UINT64_MAX;
	int best = -1;

	for (uint32_t i = 0; i < s->block_nr; i++) {
		struct tpacket_block_desc *bd = afp_bd(s, i);

		if ((__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		     TP_STATUS_USER) &&
		    bd->hdr.bh1.seq_num < best_seq) {
			best_seq = bd->hdr.bh1.seq_num;
			best = (int)i;
		}
	}
	return best;
}

/*
 * Stalled: the kernel accepted packets that we have not consumed, and we
 * consumed nothing for stall_secs ticks. A block retires within 100 ms, so a
 * live socket never stays behind for a whole second.
 */
static void afp_stall_check(struct afp_sock *s, struct capd_ctx *ctx)
{
	uint64_t consumed = afp_consumed(s);
	bool behind = s->k_seen - s->k_drops > consumed;

	if (behind && consumed == s->consumed_at_check) {
		if (++s->stuck_ticks >= ctx->cfg->stall_secs && !s->stalled) {
			int b = afp_resync(s);

			s->stalled = true;
			s->stalls++;
			capd_log("socket %u stalled: the kernel counted %llu packets not delivered "
				 "for %us%s",
				 s->id, (unsigned long long)(s->k_seen - s->k_drops - consumed),
				 s->stuck_ticks,
				 b >= 0 ? "; resyncing to the oldest ready block" : "");
			if (b >= 0) {
				s->cur = (uint32_t)b;
				s->nheld = 0; /* held blocks are taken again from there */
				s->left = 0;
				s->held_pkts = 0;
			}
		}
	} else {
		if (s->stalled)
			capd_log("socket %u delivers again", s->id);
		s->stuck_ticks = 0;
		s->stalled = false;
	}
	s->consumed_at_check = consumed;
}

static void afp_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	struct afp_sock *s = state;

	afp_stats(s, ctx, now_ns);
	afp_stall_check(s, ctx);
}

/* Drain until the kernel has nothing more: stats, wait for the block to retire, drain. */
static void afp_flush(void *state, struct capd_ctx *ctx)
{
	struct afp_sock *s = state;

	if (afp_nsocks > 1) { /* the first socket drains them all, in order */
		if (s->id == 0)
			afp_order_flush(ctx);
		return;
	}

	for (int round = 0; round < 20; round++) {
		uint64_t before = afp_consumed(s);

		afp_stats(s, ctx, clock_real_ns());
		/* Whatever the kernel counted so far is in a block retired within 100 ms. */
		while (afp_consumed(s) < s->k_seen - s->k_drops) {
			struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
			uint64_t c = afp_consumed(s);

			poll(&pfd, 1, 2 * AFP_RETIRE_MS);
			while (afp_ready(s, ctx, 0) > 0)
				;
			if (afp_consumed(s) == c)
				break;
		}
		while (afp_ready(s, ctx, 0) > 0)
			;
		if (afp_consumed(s) == before && s->k_seen - s->k_drops == afp_consumed(s))
			break;
	}
}

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
		err = afp_open(ctx, s, &prog, ifindex);
	}
	free(prog.filter);
	if (!err && afp_nsocks > 1)
		err = afp_order_setup(ctx);
	return err;
}
