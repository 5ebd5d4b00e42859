// SPDX-License-Identifier: MIT
/*
 * afpacket.c - the AF_PACKET TPACKET_V3 capture source: draining its
 * sockets (afp_socket.c opens them).
 *
 * Each socket has a kernel receive ring of --block-count blocks of
 * --block-size bytes. The kernel fills a block with packets and hands it
 * over when it is full or --retire timeout (100 ms) passes, so quiet links
 * still flow. ready() walks the blocks the kernel handed over and copies each
 * selected packet once, straight from the block into a record reserved in
 * the shm ring, then gives the block back.
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
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "afpacket.h"
#include "capd.h"
#include "clock.h"
#include "frame.h"
#include "self_match.h"

#define AFP_PREFETCH_AHEAD 2048 /* bytes of ring ahead of the writer */

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

int afp_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct afp_sock *s = state;
	int n;

	(void)events;
	if (s->force_stall) { /* no more events: the loop must not spin on it */
		capd_source_events(ctx, s->fd, 0);
		return 0;
	}
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

uint32_t afp_stall_fatal_secs(const struct capd_ctx *ctx)
{
	uint32_t n = 20 * ctx->cfg->stall_secs;

	return n > 60 ? n : 60;
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

void afp_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	struct afp_sock *s = state;

	afp_stats(s, ctx, now_ns);
	afp_stall_check(s, ctx);
}

/* Drain until the kernel has nothing more: stats, wait for the block to retire, drain. */
void afp_flush(void *state, struct capd_ctx *ctx)
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
