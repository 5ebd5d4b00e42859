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
 */
#include <errno.h>
#include <fnmatch.h>
#include <linux/if_arp.h>
#include <stdlib.h>
#include <string.h>

#include "capd.h"

#define IFACE_MAX_INDEX	  (1u << 22)
#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW	  101

struct capd_iface_ent {
	struct capd_iface_info info;
	uint16_t linktype; /* LINKTYPE_*, 0 = unsupported framing */
	uint16_t sel;	   /* linktype if captured, else 0 */
	uint64_t packets, bytes;
};

struct capd_iface {
	struct capd_iface_ent **tab; /* by ifindex */
	uint32_t cap;
	uint32_t refreshes;
};

uint16_t capd_linktype(uint16_t arphrd)
{
	switch (arphrd) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return LINKTYPE_ETHERNET;
	case ARPHRD_NONE:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_IPGRE:
	case ARPHRD_SIT:
	case ARPHRD_IP6GRE:
	case ARPHRD_RAWIP:
		return LINKTYPE_RAW; /* no link header: the bytes start at IP */
	default:
		return 0;
	}
}

bool capd_iface_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
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

static void iface_describe(struct capd_ctx *ctx, const struct capd_iface_ent *e)
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
	d.snaplen_kb =
		ctx->cfg->snaplen >= 262144 ? 0 : (uint16_t)((ctx->cfg->snaplen + 1023) / 1024);
	memcpy(d.name, e->info.name, sizeof(d.name));
	d.name[sizeof(d.name) - 1] = 0;
	strncpy(d.filter, ctx->cfg->filter, sizeof(d.filter) - 1);

	rec = ring_reserve(&ctx->ring, RAWCAP_REC_IFACE, 0, capd_now_ns(), sizeof(*rec));
	if (rec)
		*rec = d;
	if (ring_iface_set(&ctx->ring, &d) == -ENOSPC)
		capd_log("interface table of the ring is full; %s (%u) is described only by its "
			 "record",
			 d.name, d.ifindex);
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
	if (e->info.ifindex && !memcmp(&e->info, info, sizeof(*info)))
		return; /* nothing changed */
	was_sel = e->sel;
	e->info = *info;
	e->linktype = capd_linktype(info->arphrd);
	e->sel = capd_iface_pattern_match(ctx->cfg, info->name) ? e->linktype : 0;
	/* The filter is compiled for Ethernet framing: it cannot judge raw-IP interfaces. */
	if (ctx->cfg->filter[0] && e->linktype != LINKTYPE_ETHERNET)
		e->sel = 0;
	if (e->sel && !was_sel)
		capd_log("capturing %s (index %u)", info->name, info->ifindex);
	iface_describe(ctx, e);
}

void capd_iface_remove(struct capd_ctx *ctx, uint32_t ifindex)
{
	struct capd_iface *t = ctx->ifaces;

	if (ifindex >= t->cap || !t->tab[ifindex])
		return;
	if (t->tab[ifindex]->sel)
		capd_log("interface %s (index %u) is gone", t->tab[ifindex]->info.name, ifindex);
	ring_iface_del(&ctx->ring, ifindex);
	free(t->tab[ifindex]);
	t->tab[ifindex] = NULL;
}

uint16_t capd_iface_select(struct capd_ctx *ctx, uint32_t ifindex)
{
	struct capd_iface *t = ctx->ifaces;
	struct capd_iface_ent *e;

	if (__builtin_expect(ifindex < t->cap && t->tab[ifindex] != NULL, 1))
		return t->tab[ifindex]->sel;
	/* Not announced yet: read the pending netlink events, then look again. */
	t->refreshes++;
	if (ctx->iface_refresh)
		ctx->iface_refresh(ctx);
	e = ifindex < t->cap ? t->tab[ifindex] : NULL;
	return e ? e->sel : 0;
}

void capd_iface_count(struct capd_ctx *ctx, uint32_t ifindex, uint32_t bytes)
{
	struct capd_iface_ent *e = ctx->ifaces->tab[ifindex]; /* selected, so present */

	e->packets++;
	e->bytes += bytes;
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
