/* SPDX-License-Identifier: MIT */
/*
 * afpacket.h - the AF_PACKET capture source's sockets, shared by
 * afp_socket.c (open, register, report), afpacket.c (one socket: drain,
 * statistics) and afp_order.c (several sockets feeding the one writer:
 * their blocks merged in time order). Private to capd.
 */
#ifndef CAPD_AFPACKET_H
#define CAPD_AFPACKET_H

#include <linux/if_packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capd_ctx;

#define AFP_RETIRE_MS	   100
#define AFP_BLOCKS_PER_RUN 32 /* then let other sources run */
/* Look-ahead in the TPACKET block; measured in bench/run-capture.sh (docs/ARCHITECTURE.md). */
#define AFP_BLOCK_AHEAD 1024

struct afp_sock {
	int fd;
	unsigned id;
	uint32_t bound_ifindex;
	uint8_t *map;
	size_t map_len;
	uint32_t block_size, block_nr, cur;
	/* What we did with what the kernel handed over. */
	uint64_t captured, cap_bytes, unselected, truncated, blocks;
	/* Packets of an interface capd has no description of: lost, said so in band. */
	uint64_t unknown, unknown_pending, unknown_ts;
	uint32_t unknown_ifindex;
	/* Packets stored more than RAWCAP_REORDER_NS after their timestamp. */
	uint64_t late;
	/* Cumulative PACKET_STATISTICS. */
	uint64_t k_seen, k_drops, k_freeze;
	/* Stall detection. */
	uint64_t consumed_at_check;
	uint32_t stuck_ticks;
	bool stalled;
	uint64_t stalls;
	/* Tests only (RAWCAP_AFP_FORCE_STALL=1): never take a block, a stall no resync cures. */
	bool force_stall;
	/*
	 * Time-order merge (afp_order.c): blocks cur .. cur + nheld - 1 are
	 * retired and held; next/left/next_ts is the oldest unwritten packet
	 * of block cur; held_pkts the packets of all held blocks not written.
	 */
	uint32_t nheld, left;
	const uint8_t *next;
	uint64_t next_ts, held_pkts;
	/* Packets written before a packet of another socket stamped later. */
	uint64_t unordered;
};

static inline uint64_t afp_pkt_ts(const struct tpacket3_hdr *ph)
{
	return (uint64_t)ph->tp_sec * 1000000000ull + ph->tp_nsec;
}

static inline uint64_t afp_consumed(const struct afp_sock *s)
{
	return s->captured + s->unselected + s->unknown;
}

static inline struct tpacket_block_desc *afp_bd(struct afp_sock *s, uint32_t i)
{
	return (struct tpacket_block_desc *)(s->map + (size_t)i * s->block_size);
}

static inline const struct tpacket3_hdr *afp_first_pkt(const struct tpacket_block_desc *bd)
{
	return (const void *)((const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
}

/* afp_socket.c: the sockets opened (afp_socks[0 .. afp_nsocks - 1]). */
extern unsigned afp_nsocks;

/* afpacket.c: one packet into the ring; a block's work before and after its packets. */
void afp_packet(struct afp_sock *s, struct capd_ctx *ctx, const struct tpacket3_hdr *ph);
void afp_block_begin(struct afp_sock *s, struct capd_ctx *ctx, struct tpacket_block_desc *bd);
void afp_block_end(struct afp_sock *s, struct capd_ctx *ctx, struct tpacket_block_desc *bd);
void afp_stats(struct afp_sock *s, struct capd_ctx *ctx, uint64_t now_ns);
/* afpacket.c: the source's drain, its tick (statistics, stalls) and its drain at exit. */
int afp_ready(void *state, struct capd_ctx *ctx, uint32_t events);
void afp_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns);
void afp_flush(void *state, struct capd_ctx *ctx);
/*
 * A stall lasting this many ticks (seconds) is one capd does not recover
 * from: /livez fails so that the liveness probe restarts capd.
 */
uint32_t afp_stall_fatal_secs(const struct capd_ctx *ctx);

/*
 * afp_order.c: with several sockets, the writer takes their retired blocks
 * and writes the packets in timestamp order. afp_order_init() before the
 * first run; afp_order_run() writes what is known to be in order (force:
 * everything held) and returns the blocks given back; afp_order_timeout_ms()
 * says when a run is due without an event (-1: none); afp_order_flush()
 * drains every socket at exit.
 */
void afp_order_init(struct afp_sock *socks, unsigned n);
int afp_order_run(struct capd_ctx *ctx, bool force);
int afp_order_timeout_ms(void);
void afp_order_flush(struct capd_ctx *ctx);

#endif
