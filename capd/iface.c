// SPDX-License-Identifier: MIT
/*
 * iface.c - the interfaces capd knows, which of them it captures, and their
 * descriptions in the ring.
 *
 * capd captures with AF_PACKET sockets opened before the privilege drop,
 * which cannot be bound to interfaces that appear later. So the sockets
 * listen on every interface and the selection (--interfaces names and
 * patterns) happens here, per packet, in a table indexed by ifindex that
 * netlink.c keeps current. A lookup is one bounds check and one load. When a
 * packet names an ifindex the table has not heard of yet (its RTM_NEWLINK is
 * still queued), the netlink socket is drained first, so the interface's
 * IFACE record always precedes its first packet in the ring.
 *
 * An interface that goes away (a pod's veth) still has packets in capture
 * blocks that retire after its RTM_DELLINK. So a deleted interface stays in
 * the table, gone but selected as before, for CAPD_IFACE_GRACE_NS: its last
 * packets are recorded under its last description. Its ring table slot stays
 * until the ring has overwritten its last record, so that readers can still
 * describe those packets. A packet of an index nothing describes (never
 * announced, or gone longer than the grace) is lost, and counted in band
 * (RAWCAP_LOSS_IFACE_UNKNOWN), never dropped unseen.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "capd.h"
#include "clock.h"
#include "frame.h"

#define IFACE_MAX_INDEX	    (1u << 22)
#define CAPD_IFACE_GRACE_NS (5 * 1000000000ull) /* >> the 100 ms a capture block waits */
#define IFACE_RECHECK_NS    (100 * 1000000ull)	/* how often an unknown index is looked up again */

enum iface_state {
	IFACE_LIVE = 0,
	IFACE_GONE,    /* RTM_DELLINK seen: its last packets are still recorded */
	IFACE_EXPIRED, /* past the grace: only its ring table slot is held */
	IFACE_UNKNOWN, /* an index nothing describes (remembered, so lookups stay cheap) */
};

struct capd_iface_ent {
	struct capd_iface_info info;
	uint16_t linktype; /* LINKTYPE_*, 0 = not recorded (frame.h) */
	uint16_t sel;	   /* linktype if captured, else 0 */
	uint8_t state;	   /* enum iface_state */
	bool in_ring;	   /* has a ring table slot */
	uint64_t since_ns; /* monotonic: when it went gone or unknown */
	uint64_t last_pos; /* ring position after its newest record */
	uint64_t dump_gen; /* last interface dump that listed it */
	uint64_t packets, bytes;
};

struct capd_iface {
	struct capd_iface_ent **tab; /* by ifindex */
	uint32_t cap;
	uint32_t refreshes;
	uint64_t dump_gen;
};

bool capd_iface_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

bool capd_bound_iface(const struct capd_config *cfg)
{
	return cfg->n_ifaces == 1 && strcmp(cfg->ifaces[0], "any") &&
	       !capd_iface_is_pattern(cfg->ifaces[0]);
}

bool capd_iface_pattern_match(const struct capd_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_ifaces; i++) {
		const char *p = cfg->ifaces[i];

		if (!strcmp(p, "any") || !fnmatch(p, name, 0))
			return true;
	}
	return false;
}

int capd_iface_init(struct capd_ctx *ctx)
{
	ctx->ifaces = calloc(1, sizeof(*ctx->ifaces));
	return ctx->ifaces ? 0 : -ENOMEM;
}

void capd_iface_free(struct capd_ctx *ctx)
{
	struct capd_iface *t = ctx->ifaces;

	if (!t)
		return;
	for (uint32_t i = 0; i < t->cap; i++)
		free(t->tab[i]);
	free(t->tab);
	free(t);
	ctx->ifaces = NULL;
}

static struct capd_iface_ent *iface_slot(struct capd_iface *t, uint32_t ifindex, bool create)
{
	if (ifindex >= t->cap) {
		uint32_t ncap = t->cap ? t->cap : 256;
		struct capd_iface_ent **n;

		if (!create || ifindex >= IFACE_MAX_INDEX)
			return NULL;
		while (ncap <= ifindex)
			ncap *= 2;
		n = realloc(t->tab, ncap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + t->cap, 0, (ncap - t->cap) * sizeof(*n));
		t->tab = n;
		t->cap = ncap;
	}
	if (!t->tab[ifindex] && create)
		t->tab[ifindex] = calloc(1, sizeof(struct capd_iface_ent));
	return t->tab[ifindex];
}

/* Put d in the ring's table; when it is full, give up the slot of the longest-gone interface. */
static void iface_table_set(struct capd_ctx *ctx, struct capd_iface_ent *e,
			    const struct rawcap_iface *d)
{
	struct capd_iface *t = ctx->ifaces;
	struct capd_iface_ent *old = NULL;

	e->in_ring = ring_iface_set(&ctx->ring, d) == 0;
	if (e->in_ring)
		return;
	for (uint32_t i = 0; i < t->cap; i++) {
		struct capd_iface_ent *c = t->tab[i];

		if (c && c->in_ring && c->state != IFACE_LIVE &&
		    (!old || c->last_pos < old->last_pos))
			old = c;
	}
	if (old) {
		ring_iface_del(&ctx->ring, old->info.ifindex);
		old->in_ring = false;
		e->in_ring = ring_iface_set(&ctx->ring, d) == 0;
	}
	if (!e->in_ring)
		capd_log("interface table of the ring is full; %s (%u) is described only by its "
			 "record",
			 d->name, d->ifindex);
}

static void iface_describe(struct capd_ctx *ctx, struct capd_iface_ent *e)
{
	struct rawcap_iface d;
	struct rawcap_iface *rec;

	memset(&d, 0, sizeof(d));
	d.ifindex = e->info.ifindex;
	d.linktype = e->linktype;
	d.arphrd = e->info.arphrd;
	d.mtu = e->info.mtu;
	d.if_flags = e->info.flags;
	memcpy(d.mac, e->info.mac, sizeof(d.mac));
	d.mac_len = e->info.mac_len;
	d.snaplen_kb = rawcap_iface_snap_encode(ctx->cfg->snaplen);
	memcpy(d.name, e->info.name, sizeof(d.name));
	d.name[sizeof(d.name) - 1] = 0;
	strncpy(d.filter, ctx->cfg->filter, sizeof(d.filter) - 1);

	rec = ring_reserve(&ctx->ring, RAWCAP_REC_IFACE, 0, clock_real_ns(), sizeof(*rec));
	if (rec)
		*rec = d;
	e->last_pos = ctx->ring.wpos;
	iface_table_set(ctx, e, &d);
	ctx->dirty = true;
}

void capd_iface_update(struct capd_ctx *ctx, const struct capd_iface_info *info)
{
	struct capd_iface_ent *e = iface_slot(ctx->ifaces, info->ifindex, true);
	bool was_sel;

	if (!e) {
		capd_log("cannot track interface %s (index %u)", info->name, info->ifindex);
		return;
	}
	e->dump_gen = ctx->ifaces->dump_gen;
	if (e->state == IFACE_LIVE && e->info.ifindex && !memcmp(&e->info, info, sizeof(*info)))
		return; /* nothing changed */
	was_sel = e->sel && e->state == IFACE_LIVE;
	e->info = *info;
	e->state = IFACE_LIVE;
	e->linktype = capd_linktype(info->arphrd);
	e->sel = capd_iface_pattern_match(ctx->cfg, info->name) ? e->linktype : 0;
	if (e->sel && !was_sel)
		capd_log("capturing %s (index %u)", info->name, info->ifindex);
	else if (!e->linktype && !was_sel && capd_iface_pattern_match(ctx->cfg, info->name) &&
		 strcmp(ctx->cfg->ifaces[0], "any"))
		capd_log("not capturing %s (index %u): interface type %u is not one capd records",
			 info->name, info->ifindex, info->arphrd);
	iface_describe(ctx, e);
}

void capd_iface_remove(struct capd_ctx *ctx, uint32_t ifindex)
{
	struct capd_iface *t = ctx->ifaces;
	struct capd_iface_ent *e = ifindex < t->cap ? t->tab[ifindex] : NULL;

	if (!e || e->state != IFACE_LIVE)
		return;
	if (e->sel)
		capd_log("interface %s (index %u) is gone; packets still queued for it are "
			 "recorded for %llu s",
			 e->info.name, ifindex, CAPD_IFACE_GRACE_NS / 1000000000ull);
	e->state = IFACE_GONE;
	e->since_ns = clock_mono_ns();
}

static void iface_free(struct capd_ctx *ctx, uint32_t ifindex)
{
	struct capd_iface *t = ctx->ifaces;

	if (t->tab[ifindex]->in_ring)
		ring_iface_del(&ctx->ring, ifindex);
	free(t->tab[ifindex]);
	t->tab[ifindex] = NULL;
}

void capd_iface_tick(struct capd_ctx *ctx)
{
	struct capd_iface *t = ctx->ifaces;
	uint64_t now = clock_mono_ns();

	for (uint32_t i = 0; i < t->cap; i++) {
		struct capd_iface_ent *e = t->tab[i];

		if (!e || e->state == IFACE_LIVE || now - e->since_ns < CAPD_IFACE_GRACE_NS)
			continue;
		if (e->state == IFACE_GONE)
			e->state = IFACE_EXPIRED;
		/* Readers describe its packets from the table while the ring holds any. */
		if (!e->in_ring || ctx->ring.tail >= e->last_pos)
			iface_free(ctx, i);
	}
}

void capd_iface_dump_begin(struct capd_ctx *ctx)
{
	ctx->ifaces->dump_gen++;
}

/* A full dump lists every interface: those it did not list went away unannounced. */
void capd_iface_dump_end(struct capd_ctx *ctx)
{
	struct capd_iface *t = ctx->ifaces;

	for (uint32_t i = 0; i < t->cap; i++)
		if (t->tab[i] && t->tab[i]->state == IFACE_LIVE &&
		    t->tab[i]->dump_gen != t->dump_gen)
			capd_iface_remove(ctx, i);
}

static uint16_t iface_sel(struct capd_iface_ent *e)
{
	if (e->state == IFACE_LIVE || e->state == IFACE_GONE)
		return e->sel;
	return CAPD_IFACE_UNKNOWN;
}

/* Remember an index nothing describes, so that its packets cost no syscall each. */
static uint16_t iface_unknown(struct capd_iface *t, uint32_t ifindex)
{
	struct capd_iface_ent *e = iface_slot(t, ifindex, true);

	if (e && (e->state == IFACE_UNKNOWN || !e->info.ifindex)) {
		e->state = IFACE_UNKNOWN;
		e->since_ns = clock_mono_ns();
	}
	return CAPD_IFACE_UNKNOWN;
}

uint16_t capd_iface_select(struct capd_ctx *ctx, uint32_t ifindex)
{
	struct capd_iface *t = ctx->ifaces;
	struct capd_iface_ent *e = ifindex < t->cap ? t->tab[ifindex] : NULL;

	if (__builtin_expect(e && e->state == IFACE_LIVE, 1))
		return e->sel;
	if (e && e->state != IFACE_UNKNOWN)
		return iface_sel(e);
	if (e && clock_mono_ns() - e->since_ns < IFACE_RECHECK_NS)
		return CAPD_IFACE_UNKNOWN;
	/* Not announced yet: read the pending netlink events, then look again. */
	t->refreshes++;
	if (ctx->iface_refresh)
		ctx->iface_refresh(ctx);
	e = ifindex < t->cap ? t->tab[ifindex] : NULL;
	if (e && e->state != IFACE_UNKNOWN)
		return iface_sel(e);
	return iface_unknown(t, ifindex);
}

void capd_iface_count(struct capd_ctx *ctx, uint32_t ifindex, uint32_t bytes)
{
	struct capd_iface_ent *e = ctx->ifaces->tab[ifindex]; /* selected, so present */

	e->packets++;
	e->bytes += bytes;
	e->last_pos = ctx->ring.wpos;
}

void capd_iface_metrics(struct capd_ctx *ctx, struct capd_buf *out)
{
	struct capd_iface *t = ctx->ifaces;

	capd_buf_printf(out, "# HELP capd_interface_packets_total Packets captured into the ring, "
			     "by interface.\n"
			     "# TYPE capd_interface_packets_total counter\n");
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->tab[i] && t->tab[i]->sel)
			capd_buf_printf(out,
					"capd_interface_packets_total{interface=\"%s\",ifindex=\"%"
					"u\"} %llu\n",
					t->tab[i]->info.name, i,
					(unsigned long long)t->tab[i]->packets);
	capd_buf_printf(
		out,
		"# HELP capd_interface_bytes_total Original packet bytes captured, by interface.\n"
		"# TYPE capd_interface_bytes_total counter\n");
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->tab[i] && t->tab[i]->sel)
			capd_buf_printf(out,
					"capd_interface_bytes_total{interface=\"%s\",ifindex=\"%"
					"u\"} %llu\n",
					t->tab[i]->info.name, i,
					(unsigned long long)t->tab[i]->bytes);
}
