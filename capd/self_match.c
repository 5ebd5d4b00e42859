// SPDX-License-Identifier: MIT
/*
 * self_match.c - the per-packet test of the self-exclusion: parse just
 * enough of a frame for its 5-tuple (Ethernet with up to two VLAN tags, or
 * raw IP; IPv4 or IPv6; TCP or UDP) and look it up among rawcap's own
 * connections. Fragments after the first carry no ports and are kept, as
 * are IPv6 packets with extension headers before TCP/UDP. A SYN the table
 * does not know is asked about at the ends this host can hold: its sender
 * when it went out, its receiver when it came in, both on loopback.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "self_match.h"

#define ETH_P_IPV4  0x0800
#define ETH_P_IPV6  0x86dd
#define ETH_P_VLAN  0x8100
#define ETH_P_QINQ  0x88a8
#define LT_ETHERNET 1
#define LT_RAW	    101
#define TCP_SYN	    0x02
#define TCP_ACK	    0x10

struct self_match *capd_self;

static inline bool port_bit(const uint64_t *map, uint16_t port)
{
	return map[port >> 6] >> (port & 63) & 1;
}

static inline void port_set(uint64_t *map, uint16_t port)
{
	map[port >> 6] |= 1ull << (port & 63);
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t self_key_hash(const struct self_key *k)
{
	uint64_t w[4], h = 0x9e3779b97f4a7c15ull ^
			   ((uint64_t)k->pa << 32 | (uint64_t)k->pb << 8 | k->proto);

	memcpy(w, k->a, sizeof(w)); /* a and b: 32 bytes */
	for (int i = 0; i < 4; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return (uint32_t)h;
}

static bool self_same(const struct self_key *x, const struct self_key *y)
{
	return !memcmp(x, y, offsetof(struct self_key, used));
}

/* The lower (address, port) end first, so both directions give one key; true if swapped. */
static bool self_order(struct self_key *k)
{
	int c = memcmp(k->a, k->b, 16);

	if (c > 0 || (!c && k->pa > k->pb)) {
		uint8_t t[16];
		uint16_t p = k->pa;

		memcpy(t, k->a, 16);
		memcpy(k->a, k->b, 16);
		memcpy(k->b, t, 16);
		k->pa = k->pb;
		k->pb = p;
		return true;
	}
	return false;
}

static void v4_mapped(uint8_t dst[16], const uint8_t *v4)
{
	memset(dst, 0, 10);
	dst[10] = dst[11] = 0xff;
	memcpy(dst + 12, v4, 4);
}

/* Where the IP header starts, or -1 for a frame that carries no IP. */
static int self_l3(const uint8_t *p, uint32_t len, uint16_t linktype)
{
	uint32_t off = 14;
	uint16_t et;

	if (linktype == LT_RAW)
		return 0;
	if (linktype != LT_ETHERNET || len < 14)
		return -1;
	et = be16(p + 12);
	for (int i = 0; i < 2 && (et == ETH_P_VLAN || et == ETH_P_QINQ); i++) {
		if (len < off + 4)
			return -1;
		et = be16(p + off + 2);
		off += 4;
	}
	return et == ETH_P_IPV4 || et == ETH_P_IPV6 ? (int)off : -1;
}

/* Where a packet's 5-tuple lies in its frame. */
struct self_pkt {
	uint32_t l3; /* IP header */
	uint8_t v6, proto, flags;
	uint16_t sport, dport;
};

/* Find the ports (no copy): false if the frame is not TCP/UDP with ports. */
static bool self_ports(const uint8_t *p, uint32_t len, uint16_t linktype, struct self_pkt *h)
{
	int l3 = self_l3(p, len, linktype);
	uint32_t off, l4;

	if (l3 < 0 || len < (uint32_t)l3 + 20)
		return false; /* not even an IPv4 header */
	off = (uint32_t)l3;
	h->l3 = off;
	h->v6 = p[off] >> 4 == 6;
	if (p[off] >> 4 == 4) {
		uint32_t ihl = (p[off] & 0xfu) * 4;

		if (ihl < 20 || (be16(p + off + 6) & 0x1fff))
			return false; /* bad, or a fragment after the first */
		h->proto = p[off + 9];
		l4 = off + ihl;
	} else if (h->v6) {
		h->proto = p[off + 6];
		l4 = off + 40;
	} else {
		return false;
	}
	if ((h->proto != 6 && h->proto != 17) || len < l4 + (h->proto == 6 ? 14u : 4u))
		return false;
	h->sport = be16(p + l4);
	h->dport = be16(p + l4 + 2);
	h->flags = h->proto == 6 ? p[l4 + 13] : 0;
	return true;
}

/* The key of a packet: src in a/pa, dst in b/pb. */
static void self_key_of(const uint8_t *p, const struct self_pkt *h, struct self_key *k)
{
	memset(k, 0, sizeof(*k));
	k->proto = h->proto;
	k->pa = h->sport;
	k->pb = h->dport;
	if (h->v6) {
		memcpy(k->a, p + h->l3 + 8, 16);
		memcpy(k->b, p + h->l3 + 24, 16);
	} else {
		v4_mapped(k->a, p + h->l3 + 12);
		v4_mapped(k->b, p + h->l3 + 16);
	}
}

static bool self_wildcard(const uint8_t a[16])
{
	static const uint8_t any6[16], any4[16] = {[10] = 0xff, [11] = 0xff};

	return !memcmp(a, any6, 16) || !memcmp(a, any4, 16);
}

/* Is (addr, port) where one of rawcap's TCP sockets listens? */
static bool self_listener(const struct self_table *t, const uint8_t addr[16], uint16_t port)
{
	if (!port_bit(t->listen, port))
		return false;
	for (unsigned i = 0; i < t->nlsn; i++)
		if (t->lsn[i].port == port &&
		    (self_wildcard(t->lsn[i].addr) || !memcmp(t->lsn[i].addr, addr, 16)))
			return true;
	return t->nlsn == SELF_MAX_LISTEN; /* more listeners than remembered: by port alone */
}

static struct self_key *self_find(struct self_table *t, const struct self_key *k, bool *found)
{
	uint32_t i = self_key_hash(k) & (SELF_SLOTS - 1);

	while (t->slot[i].used) {
		if (self_same(&t->slot[i], k)) {
			*found = true;
			return &t->slot[i];
		}
		i = (i + 1) & (SELF_SLOTS - 1);
	}
	*found = false;
	return &t->slot[i];
}

/* Take slot s out, moving later slots of its probe run back (no tombstones). */
static void self_table_del(struct self_table *t, struct self_key *s)
{
	uint32_t i = (uint32_t)(s - t->slot), j = i;

	for (;;) {
		uint32_t h;

		j = (j + 1) & (SELF_SLOTS - 1);
		if (!t->slot[j].used)
			break;
		h = self_key_hash(&t->slot[j]) & (SELF_SLOTS - 1);
		/* slot j may fill the hole at i unless its home lies cyclically in (i, j] */
		if ((i < j) ? (h <= i || h > j) : (h <= i && h > j)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
	t->n--;
}

/* Forget a connection, in the live table and in the one a dump builds (ports stay set). */
static void self_forget(struct self_match *m, const struct self_key *k)
{
	for (int i = 0; i < 2; i++) {
		bool found;
		struct self_key *s = self_find(&m->tab[i], k, &found);

		if (found)
			self_table_del(&m->tab[i], s);
	}
}

/* Can end `end` of k be a socket of this host? Not if a packet routed through has it. */
static bool self_end_here(const struct self_match *m, const struct self_key *k, int end,
			  enum self_dir dir)
{
	return dir == SELF_DIR_LOOP || !m->addrs || self_addrs_has(m->addrs, end ? k->b : k->a);
}

/* A SYN the table does not know: is the end of it on this host one of rawcap's sockets? */
static bool self_ask_syn(struct self_match *m, const struct self_key *k, int sender,
			 enum self_dir dir)
{
	if (dir != SELF_DIR_IN && self_end_here(m, k, sender, dir) &&
	    m->unknown_conn(m, k, sender, false, true))
		return true; /* a forwarder's --connect, an upload */
	/* a SYN to a local listener: whose is it (or the socket it became)? */
	return dir != SELF_DIR_OUT && self_end_here(m, k, !sender, dir) &&
	       m->unknown_conn(m, k, !sender, false, dir == SELF_DIR_LOOP);
}

/*
 * A SYN that came in on a known 5-tuple. To a listener of ours it is ours (the
 * caller does not ask: other hosts' SYNs must not make us forget a connection).
 * To the end of a connection we made out, closed since the last dump, it is
 * for whatever listens on that port now, perhaps another uid's: asked at our
 * end, and forgotten only on an answer (a spoofed one finds our socket still
 * there; past the budget it stays excluded until the dump, as before).
 */
static bool self_ask_syn_in(struct self_match *m, const struct self_key *k, int sender,
			    enum self_dir dir)
{
	m->answered = false;
	if (self_ask_syn(m, k, sender, dir) || !m->answered)
		return true;
	self_forget(m, k);
	return false;
}

/*
 * A SYN, or a packet the table does not know, with lookups on: is it one of
 * our connections, or about to be? Not inlined, so that the tests most
 * packets end at keep a short prologue.
 */
static __attribute__((noinline)) bool self_match_ask(struct self_match *m, const struct self_key *k,
						     const struct self_pkt *h, bool found,
						     int sender, bool opening, enum self_dir dir)
{
	const struct self_table *t = &m->tab[m->cur];

	if (found && opening && dir != SELF_DIR_IN) {
		/* A SYN this host sent on a known 5-tuple: a retransmission of ours, or another
		 * socket reusing the 5-tuple of one of ours that closed since the last dump. Ask
		 * again. */
		self_forget(m, k);
		found = false;
	}
	if (found && opening && !self_listener(t, sender ? k->a : k->b, sender ? k->pa : k->pb))
		return self_ask_syn_in(m, k, sender, dir);
	if (found)
		return true;
	if (opening) /* a connection opening: is its end here one of rawcap's sockets? */
		return self_ask_syn(m, k, sender, dir);
	if (h->proto == 6 && !(h->flags & TCP_SYN)) {
		/* A connection to one of our listeners that the last dump did not know. */
		int local = self_listener(t, k->a, k->pa)   ? 0
			    : self_listener(t, k->b, k->pb) ? 1
							    : -1;

		return local >= 0 && self_end_here(m, k, local, dir) &&
		       m->unknown_conn(m, k, local, true, dir != SELF_DIR_IN);
	}
	return false;
}

bool self_match_packet(struct self_match *m, const uint8_t *frame, uint32_t caplen,
		       uint32_t wire_len, uint16_t linktype, enum self_dir dir)
{
	struct self_table *t = &m->tab[m->cur];
	struct self_pkt h;
	struct self_key k;
	bool found, opening;
	int sender;

	if (!self_ports(frame, caplen, linktype, &h))
		return false;
	opening = h.proto == 6 && (h.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	if (!opening && !port_bit(t->ports, h.sport) && !port_bit(t->ports, h.dport) &&
	    !port_bit(t->listen, h.sport) && !port_bit(t->listen, h.dport))
		return false; /* most packets end here, before any copy */
	self_key_of(frame, &h, &k);
	sender = self_order(&k); /* the end that sent this packet: 0 k.a, 1 k.b */
	self_find(t, &k, &found);
	if ((!found || opening) && h.proto == 6 && m->unknown_conn) /* lookups: TCP only */
		found = self_match_ask(m, &k, &h, found, sender, opening, dir);
	if (!found)
		return false;
	m->excluded++;
	m->excluded_bytes += wire_len;
	return true;
}

bool self_budget_take(struct self_budget *b, bool listener, bool here, uint64_t now_ns)
{
	unsigned *left = &b->left[listener][here];

	if (now_ns - b->second_ns >= 1000000000ull || !b->second_ns) {
		b->second_ns = now_ns ? now_ns : 1;
		for (int i = 0; i < 4; i++)
			b->left[i / 2][i % 2] = SELF_LOOKUPS_PER_SEC;
	}
	if (!*left)
		return false;
	(*left)--;
	return true;
}

void self_addrs_clear(struct self_addrs *s)
{
	memset(s, 0, sizeof(*s));
}

static uint32_t self_addr_slot(const uint8_t a[16])
{
	uint64_t w[2];

	memcpy(w, a, 16);
	w[0] = (w[0] ^ w[1]) * 0xff51afd7ed558ccdull;
	return (uint32_t)(w[0] >> 40) & (SELF_ADDR_SLOTS - 1);
}

void self_addrs_add(struct self_addrs *s, const uint8_t a[16])
{
	uint32_t i = self_addr_slot(a);

	for (; s->used[i]; i = (i + 1) & (SELF_ADDR_SLOTS - 1))
		if (!memcmp(s->addr[i], a, 16))
			return;
	if (s->n >= SELF_MAX_ADDRS) {
		s->all = true;
		return;
	}
	memcpy(s->addr[i], a, 16);
	s->used[i] = 1;
	s->n++;
}

bool self_addrs_has(const struct self_addrs *s, const uint8_t a[16])
{
	if (s->all)
		return true;
	for (uint32_t i = self_addr_slot(a); s->used[i]; i = (i + 1) & (SELF_ADDR_SLOTS - 1))
		if (!memcmp(s->addr[i], a, 16))
			return true;
	return false;
}

void self_table_clear(struct self_table *t)
{
	memset(t, 0, sizeof(*t));
}

int self_table_add(struct self_table *t, uint8_t proto, const uint8_t local[16], uint16_t lport,
		   const uint8_t remote[16], uint16_t rport)
{
	struct self_key k = {.proto = proto, .pa = lport, .pb = rport}, *slot;
	bool found;

	if (t->n >= SELF_MAX_CONNS)
		return -ENOSPC;
	memcpy(k.a, local, 16);
	memcpy(k.b, remote, 16);
	self_order(&k);
	slot = self_find(t, &k, &found);
	if (!found) {
		*slot = k;
		t->n++;
	}
	slot->used = 1; /* found again: no longer carried */
	port_set(t->ports, lport);
	return 0;
}

void self_table_carry(struct self_table *next, const struct self_table *live)
{
	for (unsigned i = 0; i < SELF_SLOTS; i++) {
		const struct self_key *k = &live->slot[i];
		struct self_key *slot;
		bool found;

		if (k->used != 1 || next->n >= SELF_MAX_CONNS)
			continue;
		slot = self_find(next, k, &found);
		if (found)
			continue;
		*slot = *k;
		slot->used = 2;
		next->n++;
		port_set(next->ports, k->pa); /* which end is local is not kept: both */
		port_set(next->ports, k->pb);
	}
}

void self_table_listen(struct self_table *t, const uint8_t local[16], uint16_t lport)
{
	port_set(t->listen, lport);
	t->any_listen = true;
	for (unsigned i = 0; i < t->nlsn; i++)
		if (t->lsn[i].port == lport && !memcmp(t->lsn[i].addr, local, 16))
			return; /* a lookup may find one the table has */
	if (t->nlsn < SELF_MAX_LISTEN) {
		memcpy(t->lsn[t->nlsn].addr, local, 16);
		t->lsn[t->nlsn++].port = lport;
	}
}
