// SPDX-License-Identifier: MIT
/*
 * afp_order.c - several capture sockets, one writer, records in time order.
 *
 * With --threads N the kernel spreads packets over N sockets of a fanout
 * group, each with its own TPACKET_V3 ring, and hands each socket's blocks
 * over when they fill or time out. `lb` deals one flow's packets round-robin
 * over the sockets, `cpu` splits a flow whose sender moves between CPUs, and
 * `hash` splits a UDP flow between its fragments (hashed on addresses) and
 * its whole datagrams. Draining one socket's block, then the next socket's,
 * would store such a flow out of order. So the writer merges: each socket's
 * retired blocks are held, zero-copy, in the kernel's ring, and the packet
 * with the oldest stamp among the held ones is written next (a k-way merge
 * over the blocks' packet lists, one comparison per socket per packet).
 *
 * A packet may be written once no socket can still deliver an older one.
 * That floor, per socket, is read from the block the kernel is filling (the
 * one after the held ones), racily but safely (an aligned load of memory the
 * kernel writes; a stale value is an older one, so a lower floor):
 *  - an empty open block: whatever comes is stamped from now on;
 *  - a block with packets: the time the kernel opened it (ts_first_pkt),
 *    before any of its packets;
 * minus ORD_SLACK_NS, for a stamp taken before the packet reached the socket
 * (a backlog queue), and never below now - ORD_HOLD_NS: a block with packets
 * retires within AFP_RETIRE_MS, so nothing older can still arrive unless
 * the kernel's timer itself ran late. A packet written after one of another
 * socket stamped later is counted (capd_unordered_packets_total).
 *
 * Bounds. Memory: none of our own; a socket holds at most half its blocks
 * (ORD_CAP), and one at that cap makes the writer write its oldest packets
 * whatever the floor (counted if that breaks the order), so holding never
 * makes the kernel drop. Latency: a packet waits for the other sockets'
 * open blocks to retire, at most AFP_RETIRE_MS after its stamp with a
 * kernel timer on time, never more than ORD_HOLD_NS. Syscalls: none per
 * packet; the sockets are edge-triggered (one event per retired block) and a
 * held packet's deadline comes through the source's timeout_ms().
 */
#include <poll.h>

#include "afpacket.h"
#include "capd.h"
#include "clock.h"

#define ORD_SLACK_NS (20ull * 1000000)
#define ORD_HOLD_NS  (250ull * 1000000)
_Static_assert(ORD_HOLD_NS < RAWCAP_REORDER_NS, "held packets must be stored within the readers' "
						"reorder bound");

static struct afp_sock *ord_socks;
static unsigned ord_n;
static uint32_t ord_cap;     /* blocks one socket may hold */
static uint64_t ord_due;     /* CLOCK_REALTIME ns when a run is due, 0: at the next event */
static uint64_t ord_hw_ts;   /* the newest stamp written so far */
static unsigned ord_hw_sock; /* and its socket */

void afp_order_init(struct afp_sock *socks, unsigned n)
{
	ord_socks = socks;
	ord_n = n;
	ord_cap = socks[0].block_nr / 2 ? socks[0].block_nr / 2 : 1;
	ord_due = 0;
}

/* Point socket s's cursor at the first packet of its oldest held block. */
static void ord_cursor(struct afp_sock *s)
{
	const struct tpacket_block_desc *bd = afp_bd(s, s->cur);

	s->left = bd->hdr.bh1.num_pkts;
	s->next = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
	if (s->left)
		s->next_ts = afp_pkt_ts((const void *)s->next);
}

/* Give back the oldest held blocks whose packets are all written. */
static int ord_release(struct afp_sock *s, struct capd_ctx *ctx)
{
	int n = 0;

	while (s->nheld && !s->left) {
		struct tpacket_block_desc *bd = afp_bd(s, s->cur);

		afp_block_end(s, ctx, bd);
		/* Give the block back only after every byte was copied out. */
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		s->cur = (s->cur + 1) % s->block_nr;
		if (--s->nheld)
			ord_cursor(s);
		n++;
	}
	return n;
}

/* Take the blocks the kernel retired since the last run, up to the cap. */
static void ord_pull(struct afp_sock *s, struct capd_ctx *ctx)
{
	while (s->nheld < ord_cap) {
		struct tpacket_block_desc *bd = afp_bd(s, (s->cur + s->nheld) % s->block_nr);

		/* Pairs with the kernel's smp_wmb() before it sets TP_STATUS_USER. */
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			break;
		afp_block_begin(s, ctx, bd);
		s->held_pkts += bd->hdr.bh1.num_pkts;
		if (!s->nheld++)
			ord_cursor(s);
	}
}

/*
 * The oldest stamp socket s may still deliver after its held blocks (file
 * comment). *grows: the floor is "now", so it rises with time alone.
 */
static uint64_t ord_floor(struct afp_sock *s, uint64_t now, bool *grows)
{
	struct tpacket_block_desc *bd = afp_bd(s, (s->cur + s->nheld) % s->block_nr);
	uint64_t f;

	*grows = false;
	if (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) {
		/* Retired but not taken (the socket is at its cap): its first packet. */
		f = bd->hdr.bh1.num_pkts ? afp_pkt_ts(afp_first_pkt(bd)) : now;
	} else if (!__atomic_load_n(&bd->hdr.bh1.num_pkts, __ATOMIC_RELAXED)) {
		f = now;
		*grows = true;
	} else {
		f = (uint64_t)__atomic_load_n(&bd->hdr.bh1.ts_first_pkt.ts_sec, __ATOMIC_RELAXED) *
			    1000000000ull +
		    __atomic_load_n(&bd->hdr.bh1.ts_first_pkt.ts_nsec, __ATOMIC_RELAXED);
	}
	f = f > ORD_SLACK_NS ? f - ORD_SLACK_NS : 0;
	return f > now - ORD_HOLD_NS ? f : now - ORD_HOLD_NS;
}

/* Write socket s's next packet and move its cursor on. */
static void ord_write(struct afp_sock *s, struct capd_ctx *ctx)
{
	const struct tpacket3_hdr *ph = (const void *)s->next;
	const uint8_t *next = s->next + ph->tp_next_offset;

	/* Cross-core misses, as in afpacket.c: fetch the next packets ahead. */
	__builtin_prefetch(next, 0, 0);
	__builtin_prefetch(s->next + AFP_BLOCK_AHEAD, 0, 0);
	if (s->next_ts >= ord_hw_ts) {
		ord_hw_ts = s->next_ts;
		ord_hw_sock = s->id;
	} else if (ord_hw_sock != s->id) {
		if (!s->unordered)
			capd_log("socket %u: packets written after newer ones of another socket "
				 "(capd_unordered_packets_total): the kernel held them longer "
				 "than %llu ms",
				 s->id, ORD_HOLD_NS / 1000000);
		s->unordered++;
	}
	afp_packet(s, ctx, ph);
	s->held_pkts--;
	if (--s->left) {
		s->next = next;
		s->next_ts = afp_pkt_ts((const void *)next);
	}
	ctx->dirty = true;
}

/* The held socket whose next packet is the oldest, or NULL. */
static struct afp_sock *ord_oldest(void)
{
	struct afp_sock *m = NULL;

	for (unsigned k = 0; k < ord_n; k++) {
		struct afp_sock *s = &ord_socks[k];

		if (s->nheld && (!m || s->next_ts < m->next_ts))
			m = s;
	}
	return m;
}

static bool ord_at_cap(void)
{
	for (unsigned k = 0; k < ord_n; k++)
		if (ord_socks[k].nheld >= ord_cap)
			return true;
	return false;
}

/*
 * Nothing older than ts can arrive once every socket's floor passed it: at
 * ts + ORD_SLACK_NS when only empty open blocks hold it back, else when a
 * block retires (an event) or at ts + ORD_HOLD_NS.
 */
static uint64_t ord_deadline(uint64_t ts, uint64_t now)
{
	uint64_t due = ts + ORD_SLACK_NS;

	for (unsigned k = 0; k < ord_n; k++) {
		bool grows;

		if (ord_floor(&ord_socks[k], now, &grows) < ts && !grows)
			due = ts + ORD_HOLD_NS;
	}
	return due > now ? due : now + 1000000;
}

int afp_order_run(struct capd_ctx *ctx, bool force)
{
	uint64_t now = clock_real_ns(), floor = UINT64_MAX;
	struct afp_sock *m;
	bool full;
	int released = 0;

	/* The clock first: a packet the kernel takes after this is stamped later. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned k = 0; k < ord_n; k++) {
		ord_pull(&ord_socks[k], ctx);
		released += ord_release(&ord_socks[k], ctx);
	}
	for (unsigned k = 0; k < ord_n; k++) {
		bool grows;
		uint64_t f = ord_floor(&ord_socks[k], now, &grows);

		floor = f < floor ? f : floor;
	}
	full = ord_at_cap();
	ord_due = 0;
	while (released < AFP_BLOCKS_PER_RUN && (m = ord_oldest())) {
		if (m->next_ts > floor && !force && !full) {
			ord_due = ord_deadline(m->next_ts, now);
			break;
		}
		ord_write(m, ctx);
		if (!m->left) {
			released += ord_release(m, ctx);
			full = full && ord_at_cap();
		}
	}
	/* More than one run's worth, or blocks left in the kernel's ring at the cap. */
	if (released >= AFP_BLOCKS_PER_RUN || ord_at_cap())
		ord_due = now;
	return released;
}

int afp_order_timeout_ms(void)
{
	uint64_t now;

	if (!ord_due)
		return -1;
	now = clock_real_ns();
	return ord_due <= now ? 0 : (int)((ord_due - now + 999999) / 1000000);
}

/* Every packet the kernel counted so far is held or written. */
static bool ord_accounted(void)
{
	for (unsigned k = 0; k < ord_n; k++) {
		const struct afp_sock *s = &ord_socks[k];

		if (afp_consumed(s) + s->held_pkts < s->k_seen - s->k_drops)
			return false;
	}
	return true;
}

static uint64_t ord_consumed(void)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < ord_n; k++)
		n += afp_consumed(&ord_socks[k]);
	return n;
}

/*
 * At exit: wait (in order) until every socket's last block retired, then
 * write everything; again while traffic still comes, as afpacket.c's flush.
 */
void afp_order_flush(struct capd_ctx *ctx)
{
	for (int round = 0; round < 20; round++) {
		uint64_t before = ord_consumed();

		for (unsigned k = 0; k < ord_n; k++)
			afp_stats(&ord_socks[k], ctx, clock_real_ns());
		for (int w = 0; w < 3 * AFP_RETIRE_MS / 10 && !ord_accounted(); w++) {
			afp_order_run(ctx, false);
			poll(NULL, 0, 10);
		}
		while (afp_order_run(ctx, true) > 0)
			;
		if (ord_consumed() == before && ord_accounted())
			break;
	}
	ord_due = 0;
}
