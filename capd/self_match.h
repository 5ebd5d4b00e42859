/* SPDX-License-Identifier: MIT */
/*
 * self_match.h - is this packet rawcap's own traffic? The per-packet half of
 * the self-exclusion (self_exclude.c finds rawcap's sockets).
 *
 * A table of the connections of rawcap's own sockets, by exact 5-tuple, so
 * that other traffic on the same ports (another process, another peer) is
 * never excluded. Capture paths call capd_self_skip() once per packet before
 * copying it; with nothing to exclude and no lookups it costs one load and
 * a branch, and otherwise finding the ports, then two bit tests for most
 * packets (a bitmap of the local ports of rawcap's connections) before any
 * hash lookup; a TCP SYN is looked up too, since it may open a connection of
 * rawcap's that no dump knows yet. Each packet comes with its direction, so
 * that lookups for packets this host sent are budgeted apart from those for
 * packets other hosts sent (a SYN flood never starves rawcap's own
 * connections). The capd writer thread is the only user: the table is
 * rebuilt beside the live one and swapped.
 */
#ifndef CAPD_SELF_MATCH_H
#define CAPD_SELF_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#define SELF_MAX_CONNS	      4096 /* rawcap's own connections remembered */
#define SELF_SLOTS	      8192 /* hash slots, a power of two >= 2 * SELF_MAX_CONNS */
#define SELF_MAX_LISTEN	      64   /* rawcap's listening sockets remembered by address */
#define SELF_LOOPBACK_IFINDEX 1	   /* in every network namespace */

/* Who sent a packet and who receives it, as the capture path sees it. */
enum self_dir {
	SELF_DIR_IN,   /* received from another host: its sender is not a socket of ours */
	SELF_DIR_OUT,  /* sent to another host (or routed through): its receiver is not */
	SELF_DIR_LOOP, /* loopback: sent and received here */
};

/* outgoing: PACKET_OUTGOING, or tc egress. */
static inline enum self_dir self_dir_of(uint32_t ifindex, bool outgoing)
{
	return ifindex == SELF_LOOPBACK_IFINDEX ? SELF_DIR_LOOP
	       : outgoing			? SELF_DIR_OUT
						: SELF_DIR_IN;
}

/* One connection, the lower (address, port) end first; IPv4 as ::ffff:a.b.c.d. */
struct self_key {
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint8_t proto;
	uint8_t used, pad[2]; /* used: 1 found, 2 carried from the table before */
};

struct self_table {
	struct self_key slot[SELF_SLOTS];
	unsigned n;
	uint64_t ports[65536 / 64];  /* local ports of the connections */
	uint64_t listen[65536 / 64]; /* local ports of rawcap's listening TCP sockets */
	bool any_listen;
	struct {
		uint8_t addr[16]; /* :: or ::ffff:0.0.0.0: every address */
		uint16_t port;
	} lsn[SELF_MAX_LISTEN];
	unsigned nlsn;
};

/*
 * The addresses of capd's network namespace (self_addrs.c keeps them current
 * from rtnetlink): only at one of them can an end of a connection be a
 * socket of ours. A packet routed through the host goes out too, and its
 * ends are not asked about.
 */
#define SELF_MAX_ADDRS	2048
#define SELF_ADDR_SLOTS 4096 /* a power of two >= 2 * SELF_MAX_ADDRS */
struct self_addrs {
	uint8_t addr[SELF_ADDR_SLOTS][16]; /* IPv4 as ::ffff:a.b.c.d */
	uint8_t used[SELF_ADDR_SLOTS];
	unsigned n;
	bool all; /* more than SELF_MAX_ADDRS: any address may be ours */
};

void self_addrs_clear(struct self_addrs *s);
void self_addrs_add(struct self_addrs *s, const uint8_t a[16]);
bool self_addrs_has(const struct self_addrs *s, const uint8_t a[16]);

struct self_match {
	struct self_table tab[2];
	const struct self_addrs *addrs; /* NULL: not known (yet), any address may be ours */
	unsigned cur;			/* tab[cur] is live, the other one is being built */
	uint64_t excluded, excluded_bytes;
	/*
	 * A TCP connection the table does not know yet: a SYN (listener false;
	 * local: the end asked about, 0 k->a, 1 k->b: its sender if this host
	 * sent it, its receiver if this host received it) or a later packet of
	 * a connection to one of our listeners (listener true; local: the end
	 * that listens). here: the packet went out of this host or over its
	 * loopback (SELF_DIR_OUT, SELF_DIR_LOOP), not in from another. True when the
	 * callback found the local end to be one of rawcap's sockets and added
	 * the connection to the live table: this packet is excluded too. NULL:
	 * no lookups, and only connections and listeners already in the table
	 * make a packet worth parsing.
	 */
	bool (*unknown_conn)(struct self_match *m, const struct self_key *k, int local,
			     bool listener, bool here);
	/* Set by unknown_conn when it had an answer (asked the kernel, or knew the
	 * socket not ours lately), not when it was out of budget. */
	bool answered;
};

/*
 * Lookups left in the current second, one budget per kind: [listener][here].
 * Packets other hosts send (a SYN flood, spoofed ACKs to a listener's port)
 * spend only the budgets of their kind with here false.
 */
#define SELF_LOOKUPS_PER_SEC 1000 /* of each kind; past it, packets wait for a dump */
struct self_budget {
	uint64_t second_ns; /* when the current second began */
	unsigned left[2][2];
};

/* Take one lookup of that kind at time now_ns (monotonic): false when none is left. */
bool self_budget_take(struct self_budget *b, bool listener, bool here, uint64_t now_ns);

/* The live matcher, or NULL: nothing is excluded (--capture-self, or no capd). */
extern struct self_match *capd_self;

/* frame: caplen bytes of a packet of link type linktype (1 Ethernet, 101 raw IP). */
bool self_match_packet(struct self_match *m, const uint8_t *frame, uint32_t caplen,
		       uint32_t wire_len, uint16_t linktype, enum self_dir dir);

/* True if the packet belongs to one of rawcap's own connections (counted as excluded). */
static inline bool capd_self_skip(const uint8_t *frame, uint32_t caplen, uint32_t wire_len,
				  uint16_t linktype, enum self_dir dir)
{
	struct self_match *m = capd_self;

	return m && (m->tab[m->cur].n || m->tab[m->cur].any_listen || m->unknown_conn) &&
	       self_match_packet(m, frame, caplen, wire_len, linktype, dir);
}

/* The same for both directions of a connection (keys are ordered). */
uint32_t self_key_hash(const struct self_key *k);

/* Building the next table: clear, add what the socket dump finds, then publish. */
void self_table_clear(struct self_table *t);
/* local and remote: 16 bytes (IPv4 mapped). -ENOSPC when the table is full. */
int self_table_add(struct self_table *t, uint8_t proto, const uint8_t local[16], uint16_t lport,
		   const uint8_t remote[16], uint16_t rport);
void self_table_listen(struct self_table *t, const uint8_t local[16], uint16_t lport);
/*
 * Before next is published: the connections of live that next lacks join it
 * once, marked carried (used 2), and the next table built without them drops
 * them. capd tests a packet when it copies it out of the kernel's ring, after
 * it was on the wire, so a connection's last packets (and the peer's RSTs to
 * its segments in flight) can come after a dump that no longer saw its
 * socket. Safe against a reused 5-tuple: a new connection starts with a SYN,
 * which is asked about again.
 */
void self_table_carry(struct self_table *next, const struct self_table *live);
static inline struct self_table *self_next(struct self_match *m)
{
	return &m->tab[!m->cur];
}
static inline void self_publish(struct self_match *m)
{
	m->cur = !m->cur;
}

#endif
