// SPDX-License-Identifier: MIT
/*
 * meta_flow.c - which local process owned a TCP/UDP flow: a bounded table
 * from socket 5-tuples to the pid, comm and container that capd's process
 * records (docs/METADATA.md, "process") name, so that a packet comment can
 * say "pid=4720 comm=curl container=0123456789ab".
 *
 * A record describes a socket from its own side: saddr/sport are local,
 * daddr/dport remote. We key the table the same way, so a packet is looked
 * up twice, once as seen by its sender (local = source) and once by its
 * receiver (local = destination); both directions of a flow thus find the
 * process, and a flow between two local processes finds both.
 *
 * The table is bounded: when full, the socket least recently reported is
 * forgotten. Records arrive in stream order, so a socket's entry is moved to
 * the young end of a list each time a record names it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta_flow.h"
#include "meta_mp.h"

#define NIL UINT32_MAX

/* Laid out without padding holes, zeroed before use: compared with memcmp. */
struct flow_key {
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	uint8_t family, proto, pad[2];
};

struct flow_ent {
	struct flow_key k;
	uint32_t hnext;		 /* hash chain */
	uint32_t older, younger; /* the list in order of the latest record */
	struct meta_flow_proc p;
};

struct meta_flow {
	struct flow_ent *e;
	uint32_t n, cap, max;
	uint32_t *bucket, nbuckets; /* a power of two */
	uint32_t oldest, youngest;
	struct meta_flow_stats st;
};

static uint32_t flow_hash(const struct meta_flow *ft, const struct flow_key *k)
{
	const uint8_t *s = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ s[i]) * 16777619u;
	return h & (ft->nbuckets - 1);
}

int meta_flow_new(struct meta_flow **out, size_t max)
{
	struct meta_flow *ft = calloc(1, sizeof(*ft));

	if (!max || max > META_FLOW_MAX)
		max = META_FLOW_MAX;
	if (!ft)
		return -ENOMEM;
	ft->max = (uint32_t)max;
	for (ft->nbuckets = 16; ft->nbuckets < ft->max; ft->nbuckets *= 2)
		;
	ft->bucket = malloc(ft->nbuckets * sizeof(*ft->bucket));
	if (!ft->bucket) {
		free(ft);
		return -ENOMEM;
	}
	memset(ft->bucket, 0xff, ft->nbuckets * sizeof(*ft->bucket));
	ft->oldest = ft->youngest = NIL;
	*out = ft;
	return 0;
}

void meta_flow_free(struct meta_flow *ft)
{
	if (!ft)
		return;
	free(ft->e);
	free(ft->bucket);
	free(ft);
}

static uint32_t flow_get(const struct meta_flow *ft, const struct flow_key *k)
{
	uint32_t i;

	for (i = ft->bucket[flow_hash(ft, k)]; i != NIL; i = ft->e[i].hnext)
		if (!memcmp(&ft->e[i].k, k, sizeof(*k)))
			break;
	return i;
}

static void list_unlink(struct meta_flow *ft, uint32_t i)
{
	struct flow_ent *e = &ft->e[i];

	if (e->older != NIL)
		ft->e[e->older].younger = e->younger;
	else
		ft->oldest = e->younger;
	if (e->younger != NIL)
		ft->e[e->younger].older = e->older;
	else
		ft->youngest = e->older;
}

static void list_push_young(struct meta_flow *ft, uint32_t i)
{
	ft->e[i].older = ft->youngest;
	ft->e[i].younger = NIL;
	if (ft->youngest != NIL)
		ft->e[ft->youngest].younger = i;
	else
		ft->oldest = i;
	ft->youngest = i;
}

static void hash_unlink(struct meta_flow *ft, uint32_t i)
{
	uint32_t *pp = &ft->bucket[flow_hash(ft, &ft->e[i].k)];

	while (*pp != i)
		pp = &ft->e[*pp].hnext;
	*pp = ft->e[i].hnext;
}

/* A slot for key k: a new one, or the oldest entry's when full. */
static int flow_slot(struct meta_flow *ft, const struct flow_key *k, uint32_t *out)
{
	uint32_t i, h;

	if (ft->n < ft->max) {
		if (ft->n == ft->cap) {
			uint32_t cap = ft->cap ? ft->cap * 2 : 64;
			struct flow_ent *ne;

			cap = cap < ft->max ? cap : ft->max;
			ne = realloc(ft->e, cap * sizeof(*ne));
			if (!ne)
				return -ENOMEM;
			ft->e = ne;
			ft->cap = cap;
		}
		i = ft->n++;
	} else {
		i = ft->oldest;
		list_unlink(ft, i);
		hash_unlink(ft, i);
		ft->st.evicted++;
	}
	memset(&ft->e[i], 0, sizeof(ft->e[i]));
	ft->e[i].k = *k;
	h = flow_hash(ft, k);
	ft->e[i].hnext = ft->bucket[h];
	ft->bucket[h] = i;
	list_push_young(ft, i);
	*out = i;
	return 0;
}

/* Parse an address; IPv4-mapped IPv6 (dual-stack sockets) becomes IPv4. */
static int parse_addr(const msgpack_object *m, const char *key, int family, uint8_t a[16])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	char s[INET6_ADDRSTRLEN];

	memset(a, 0, 16);
	meta_mp_str(m, key, s, sizeof(s));
	if (inet_pton(family, s, a) != 1)
		return 0;
	if (family == AF_INET6 && !memcmp(a, mapped, 12)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		return AF_INET;
	}
	return family;
}

static bool get_uint(const msgpack_object *m, const char *key, uint64_t max, uint64_t *v)
{
	const msgpack_object *o = meta_mp_get(m, key);

	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
		return false;
	*v = o->via.u64;
	return true;
}

/* The tuple of a record; 0, 1 if it has none, -EBADMSG. */
static int rec_key(const msgpack_object *m, struct flow_key *k)
{
	static const uint8_t any[16];
	uint64_t fam, sport, dport;
	char proto[8];
	int lf, rf, family;

	memset(k, 0, sizeof(*k));
	if (!meta_mp_get(m, "daddr"))
		return 1; /* create: not bound yet */
	meta_mp_str(m, "proto", proto, sizeof(proto));
	if (!strcmp(proto, "tcp"))
		k->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		k->proto = IPPROTO_UDP;
	else
		return -EBADMSG;
	if (!get_uint(m, "family", 6, &fam) || (fam != 4 && fam != 6) ||
	    !get_uint(m, "sport", 65535, &sport) || !get_uint(m, "dport", 65535, &dport))
		return -EBADMSG;
	family = fam == 4 ? AF_INET : AF_INET6;
	lf = parse_addr(m, "saddr", family, k->laddr);
	rf = parse_addr(m, "daddr", family, k->raddr);
	if (!lf || !rf)
		return -EBADMSG;
	/* "::" bound, talking IPv4: the unbound local address of a dual-stack socket */
	if (lf != rf && lf == AF_INET6 && rf == AF_INET && !memcmp(k->laddr, any, 16))
		lf = AF_INET;
	if (lf != rf)
		return -EBADMSG;
	k->family = (uint8_t)lf;
	k->lport = (uint16_t)sport;
	k->rport = (uint16_t)dport;
	return 0;
}

/* The process of a record: comm made safe to print inside a comment. */
static int rec_proc(const msgpack_object *m, struct meta_flow_proc *p)
{
	char cid[80];
	uint64_t pid;
	size_t n;

	memset(p, 0, sizeof(*p));
	if (!get_uint(m, "pid", UINT32_MAX, &pid))
		return -EBADMSG;
	p->pid = (uint32_t)pid;
	meta_mp_str(m, "comm", p->comm, sizeof(p->comm));
	for (char *c = p->comm; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == ';' || *c == '=')
			*c = '?';
	meta_mp_str(m, "container_id", cid, sizeof(cid));
	n = strspn(cid, "0123456789abcdef");
	if (n >= sizeof(p->container) - 1 && !cid[n])
		memcpy(p->container, cid, sizeof(p->container) - 1);
	return 0;
}

static int flow_put(struct meta_flow *ft, const struct flow_key *k, const struct meta_flow_proc *p,
		    uint64_t ts)
{
	uint32_t i = flow_get(ft, k);
	struct meta_flow_proc *cur;
	int err;

	if (i == NIL) {
		err = flow_slot(ft, k, &i);
		if (err)
			return err;
		ft->e[i].p = *p;
		ft->e[i].p.from_ns = ft->e[i].p.seen_ns = ts;
		return 0;
	}
	cur = &ft->e[i].p;
	if (cur->pid != p->pid) {
		if (ts < cur->from_ns)
			return 0; /* an older report of a socket that has changed hands since */
		*cur = *p;
		cur->from_ns = ts;
	} else {
		/* the same process again (existing, then a later event): keep its start */
		memcpy(cur->comm, p->comm, sizeof(cur->comm));
		if (p->container[0])
			memcpy(cur->container, p->container, sizeof(cur->container));
		cur->from_ns = ts < cur->from_ns ? ts : cur->from_ns;
	}
	cur->seen_ns = ts > cur->seen_ns ? ts : cur->seen_ns;
	list_unlink(ft, i);
	list_push_young(ft, i);
	return 0;
}

int meta_flow_add(struct meta_flow *ft, uint64_t ts_ns, const void *payload, size_t len)
{
	struct meta_flow_proc p;
	struct flow_key k;
	msgpack_unpacked u;
	int err;

	ft->st.records++;
	if (meta_mp_unpack(payload, len, &u)) {
		ft->st.bad++;
		return -EBADMSG;
	}
	err = u.data.type == MSGPACK_OBJECT_MAP ? rec_key(&u.data, &k) : -EBADMSG;
	if (!err)
		err = rec_proc(&u.data, &p);
	msgpack_unpacked_destroy(&u);
	if (err == 1) {
		ft->st.no_tuple++;
		return 0;
	}
	if (err) {
		ft->st.bad++;
		return err;
	}
	ft->st.flows++;
	return flow_put(ft, &k, &p, ts_ns);
}

/*
 * A record names its process from the record's time on, less a skew: a
 * connect or accept record is stamped when the syscall returns, after the
 * handshake whose SYN and SYN-ACK are already on the wire (a round trip,
 * plus scheduling delay before the process runs again), and a udp_recv
 * record when the datagram is read, after it arrived. One second covers a
 * busy host's wakeup latency and a slow accept() while staying below
 * the SYN retransmission timeout, and a port reused within a second is rare.
 */
static bool flow_applies(const struct meta_flow_proc *p, uint64_t ts)
{
	return p->from_ns <= META_FLOW_SKEW_NS || ts >= p->from_ns - META_FLOW_SKEW_NS;
}

const struct meta_flow_proc *meta_flow_find(const struct meta_flow *ft, int family, uint8_t proto,
					    const uint8_t laddr[16], uint16_t lport,
					    const uint8_t raddr[16], uint16_t rport, uint64_t ts_ns)
{
	struct flow_key k;
	uint32_t i;

	if (!ft->n || (family != AF_INET && family != AF_INET6))
		return NULL;
	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)family;
	k.proto = proto;
	k.lport = lport;
	k.rport = rport;
	memcpy(k.laddr, laddr, family == AF_INET ? 4 : 16);
	memcpy(k.raddr, raddr, family == AF_INET ? 4 : 16);
	i = flow_get(ft, &k);
	if (i == NIL || !flow_applies(&ft->e[i].p, ts_ns)) {
		/* an unconnected UDP socket reports its local address unbound */
		memset(k.laddr, 0, sizeof(k.laddr));
		i = flow_get(ft, &k);
	}
	return i != NIL && flow_applies(&ft->e[i].p, ts_ns) ? &ft->e[i].p : NULL;
}

static int proc_text(const struct meta_flow_proc *p, char *buf, size_t cap)
{
	return snprintf(buf, cap, "pid=%u comm=%s%s%s", p->pid, p->comm,
			p->container[0] ? " container=" : "", p->container);
}

int meta_flow_comment(const struct meta_flow *ft, const struct rawcap_rec *rec, const char *prefix,
		      char *buf, size_t cap)
{
	const struct meta_flow_proc *s, *d;
	struct rawcap_pkt_flow f;
	char a[64], b[64];
	int fam, n;

	if (!ft || !ft->n)
		return 0;
	fam = rawcap_pkt_flow(rec, &f);
	if (!fam || !f.ports)
		return 0;
	s = meta_flow_find(ft, fam, f.proto, f.src, f.sport, f.dst, f.dport, rec->ts_ns);
	d = meta_flow_find(ft, fam, f.proto, f.dst, f.dport, f.src, f.sport, rec->ts_ns);
	if (!s && !d)
		return 0;
	if (s && d) {
		proc_text(s, a, sizeof(a));
		proc_text(d, b, sizeof(b));
		n = snprintf(buf, cap, "%ssrc %s; dst %s", prefix, a, b);
	} else {
		proc_text(s ? s : d, a, sizeof(a));
		n = snprintf(buf, cap, "%s%s", prefix, a);
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			buf[0] = 0;
		return -ENOSPC;
	}
	return n;
}

void meta_flow_stats(const struct meta_flow *ft, struct meta_flow_stats *out)
{
	*out = ft->st;
	out->entries = ft->n;
}
