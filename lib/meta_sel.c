// SPDX-License-Identifier: MIT
/*
 * meta_sel.c - pod-aware packet selection (--pod, --namespace, --label),
 * packet comments naming pods, and metadata kind names: the join between
 * packets and the pod/IP index that every reader shares (rawcap/meta.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta_flow.h"
#include "meta_index.h"

#define SEL_MAX 64

#define LT_NULL	      0
#define LT_EN10MB     1
#define LT_RAW	      101
#define LT_LINUX_SLL  113
#define LT_IPV4	      228
#define LT_IPV6	      229
#define LT_LINUX_SLL2 276

struct sel_item {
	char *a; /* pod: namespace or NULL; label: key */
	char *b; /* pod: name; namespace: name; label: value or NULL */
};

struct rawcap_meta_sel {
	struct sel_item pods[SEL_MAX], nss[SEL_MAX], labels[SEL_MAX];
	int npods, nnss, nlabels;
};

/* The kinds capd writes. */
static const char *const kind_names[] = {
	[RAWCAP_META_POD] = "pod",
	[RAWCAP_META_SERVICE] = "service",
	[RAWCAP_META_ENDPOINTS] = "endpoints",
	[RAWCAP_META_NAMESPACE] = "namespace",
	[RAWCAP_META_PROCESS] = "process",
};
#define KIND_NR (sizeof(kind_names) / sizeof(kind_names[0]))

/*
 * Kinds the record format reserves but capd does not write: interfaces are
 * IFACE records (pcapng interface blocks), statistics are in the ring header
 * (rawcap-stat). Asked for by name, they are refused rather than matching
 * nothing forever.
 */
static const char *const kind_unwritten[] = {"interface", "stats", "node"};

static bool kind_is_unwritten(const char *name)
{
	for (size_t i = 0; i < sizeof(kind_unwritten) / sizeof(kind_unwritten[0]); i++)
		if (!strcmp(name, kind_unwritten[i]))
			return true;
	return false;
}

const char *rawcap_meta_kind_name(unsigned kind)
{
	return kind < KIND_NR ? kind_names[kind] : NULL;
}

int rawcap_meta_kind_mask(const char *list, uint32_t *mask)
{
	char *dup = strdup(list), *save = NULL;
	int err = 0;

	if (!dup)
		return -ENOMEM;
	*mask = 0;
	for (char *t = strtok_r(dup, ",", &save); t && !err; t = strtok_r(NULL, ",", &save)) {
		unsigned k;

		if (!strcmp(t, "all")) {
			*mask |= ~1u;
			continue;
		}
		for (k = 1; k < KIND_NR; k++)
			if (kind_names[k] && !strcmp(t, kind_names[k]))
				break;
		if (k == KIND_NR && !strcmp(t, "endpointslice"))
			k = RAWCAP_META_ENDPOINTS;
		if (k == KIND_NR)
			err = kind_is_unwritten(t) ? -ENOTSUP : -EINVAL;
		else
			*mask |= 1u << k;
	}
	free(dup);
	return err ? err : (*mask ? 0 : -EINVAL);
}

int rawcap_meta_sel_new(struct rawcap_meta_sel **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void items_free(struct sel_item *it, int n)
{
	for (int i = 0; i < n; i++) {
		free(it[i].a);
		free(it[i].b);
	}
}

void rawcap_meta_sel_free(struct rawcap_meta_sel *sel)
{
	if (!sel)
		return;
	items_free(sel->pods, sel->npods);
	items_free(sel->nss, sel->nnss);
	items_free(sel->labels, sel->nlabels);
	free(sel);
}

/* Split arg at the first sep into a (before) and b (after); a is NULL without sep. */
static int split(const char *arg, char sep, struct sel_item *it)
{
	const char *p = strchr(arg, sep);

	it->a = p ? strndup(arg, (size_t)(p - arg)) : NULL;
	it->b = strdup(p ? p + 1 : arg);
	if ((p && !it->a) || !it->b) {
		free(it->a);
		free(it->b);
		return -ENOMEM;
	}
	return 0;
}

int rawcap_meta_sel_add(struct rawcap_meta_sel *sel, enum rawcap_sel_type type, const char *arg)
{
	struct sel_item it = { 0 };
	int err;

	if (!arg || !*arg)
		return -EINVAL;
	switch (type) {
	case RAWCAP_SEL_POD:
		if (sel->npods >= SEL_MAX)
			return -E2BIG;
		err = split(arg, '/', &it);
		if (!err && (!*it.b || (it.a && !*it.a)))
			err = -EINVAL;
		if (!err)
			sel->pods[sel->npods++] = it;
		break;
	case RAWCAP_SEL_NAMESPACE:
		if (sel->nnss >= SEL_MAX)
			return -E2BIG;
		err = (it.b = strdup(arg)) ? 0 : -ENOMEM;
		if (!err)
			sel->nss[sel->nnss++] = it;
		break;
	case RAWCAP_SEL_LABEL:
		if (sel->nlabels >= SEL_MAX)
			return -E2BIG;
		/* "key=value" or a bare "key"; stored as a = key, b = value */
		err = split(arg, '=', &it);
		if (!err && !it.a) {
			it.a = it.b;
			it.b = NULL;
		}
		if (!err && !*it.a)
			err = -EINVAL;
		if (!err)
			sel->labels[sel->nlabels++] = it;
		break;
	default:
		return -EINVAL;
	}
	if (err) {
		free(it.a);
		free(it.b);
	}
	return err;
}

bool rawcap_meta_sel_empty(const struct rawcap_meta_sel *sel)
{
	return !sel || (!sel->npods && !sel->nnss && !sel->nlabels);
}

bool rawcap_meta_sel_match_pod(const struct rawcap_meta_sel *sel,
			       const struct rawcap_meta_pod *pod)
{
	bool ok = !sel->npods;

	for (int i = 0; i < sel->npods && !ok; i++)
		ok = !strcmp(sel->pods[i].b, pod->name) &&
		     (!sel->pods[i].a || !strcmp(sel->pods[i].a, pod->namespace_));
	if (!ok)
		return false;
	ok = !sel->nnss;
	for (int i = 0; i < sel->nnss && !ok; i++)
		ok = !strcmp(sel->nss[i].b, pod->namespace_);
	for (int i = 0; i < sel->nlabels && ok; i++) {
		const char *v = rawcap_meta_pod_label(pod, sel->labels[i].a);

		ok = v && (!sel->labels[i].b || !strcmp(v, sel->labels[i].b));
	}
	return ok;
}

/* Offset of the IP header and its ethertype for the record's link type; -1 if unknown. */
static int l3_offset(uint16_t linktype, const uint8_t *d, uint32_t n, uint16_t *etype)
{
	uint32_t off;

	switch (linktype) {
	case LT_EN10MB:
		for (off = 12; off + 2 <= n && off <= 20; off += 4) {
			*etype = (uint16_t)(d[off] << 8 | d[off + 1]);
			if (*etype != 0x8100 && *etype != 0x88a8 && *etype != 0x9100)
				return (int)off + 2;
		}
		return -1;
	case LT_LINUX_SLL:
		if (n < 16)
			return -1;
		*etype = (uint16_t)(d[14] << 8 | d[15]);
		return 16;
	case LT_LINUX_SLL2:
		if (n < 20)
			return -1;
		*etype = (uint16_t)(d[0] << 8 | d[1]);
		return 20;
	case LT_RAW:
	case LT_IPV4:
	case LT_IPV6:
		if (!n)
			return -1;
		*etype = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
		return 0;
	default:
		return -1;
	}
}

int rawcap_pkt_addrs(const struct rawcap_rec *rec, uint8_t src[16], uint8_t dst[16])
{
	const struct rawcap_pkt *pkt;
	const uint8_t *d;
	uint32_t n;
	uint16_t etype = 0;
	int off;

	pkt = rawcap_rec_pkt(rec, &d, &n);
	if (!pkt || (off = l3_offset(pkt->linktype, d, n, &etype)) < 0)
		return 0;
	d += off;
	n -= (uint32_t)off;
	memset(src, 0, 16);
	memset(dst, 0, 16);
	if (etype == 0x0800 && n >= 20 && (d[0] >> 4) == 4) {
		memcpy(src, d + 12, 4);
		memcpy(dst, d + 16, 4);
		return AF_INET;
	}
	if (etype == 0x86dd && n >= 40 && (d[0] >> 4) == 6) {
		memcpy(src, d + 8, 16);
		memcpy(dst, d + 24, 16);
		return AF_INET6;
	}
	return 0;
}

/* Transport header of an IPv4 packet d[0..n); its offset, or -1 for none to read. */
static int l4_v4(const uint8_t *d, uint32_t n, uint8_t *proto)
{
	uint32_t ihl = (uint32_t)(d[0] & 0xf) * 4;

	*proto = d[9];
	if (ihl < 20 || ((d[6] << 8 | d[7]) & 0x1fff))
		return -1; /* bad header, or not the first fragment */
	return ihl <= n ? (int)ihl : -1;
}

/* The same after IPv6 extension headers (a bounded walk over untrusted lengths). */
static int l4_v6(const uint8_t *d, uint32_t n, uint8_t *proto)
{
	uint32_t off = 40;
	uint8_t nh = d[6];

	for (int i = 0; i < 8; i++) {
		uint8_t next;

		*proto = nh;
		if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
			return off <= n ? (int)off : -1;
		if (off + 8 > n)
			return -1;
		if (nh == 44 && ((d[off + 2] << 8 | d[off + 3]) & 0xfff8))
			return -1; /* not the first fragment */
		next = d[off];
		if (nh == 51)
			off += ((uint32_t)d[off + 1] + 2) * 4; /* AH counts 4-byte words */
		else if (nh == 44)
			off += 8;
		else
			off += ((uint32_t)d[off + 1] + 1) * 8;
		nh = next;
	}
	*proto = 0;
	return -1;
}

int rawcap_pkt_flow(const struct rawcap_rec *rec, struct rawcap_pkt_flow *out)
{
	const struct rawcap_pkt *pkt;
	const uint8_t *d;
	uint32_t n;
	uint16_t etype = 0;
	int fam, off;

	memset(out, 0, sizeof(*out));
	fam = rawcap_pkt_addrs(rec, out->src, out->dst);
	if (!fam)
		return 0;
	/* rawcap_pkt_addrs checked the link and IP headers' lengths */
	pkt = rawcap_rec_pkt(rec, &d, &n);
	off = l3_offset(pkt->linktype, d, n, &etype);
	d += off;
	n -= (uint32_t)off;
	off = fam == AF_INET ? l4_v4(d, n, &out->proto) : l4_v6(d, n, &out->proto);
	if (off >= 0 && (uint32_t)off + 4 <= n &&
	    (out->proto == IPPROTO_TCP || out->proto == IPPROTO_UDP)) {
		out->sport = (uint16_t)(d[off] << 8 | d[off + 1]);
		out->dport = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
		out->ports = true;
	}
	return fam;
}

int rawcap_meta_sel_match(const struct rawcap_meta_sel *sel, const struct rawcap_meta_index *ix,
			  const struct rawcap_rec *rec)
{
	struct rawcap_meta_pod pod;
	uint8_t src[16], dst[16];
	int fam;

	if (rawcap_meta_sel_empty(sel))
		return 1;
	fam = rawcap_pkt_addrs(rec, src, dst);
	if (!fam)
		return 0;
	if (rawcap_meta_pod_at(ix, fam, src, rec->ts_ns, &pod) && rawcap_meta_sel_match_pod(sel, &pod))
		return 1;
	return rawcap_meta_pod_at(ix, fam, dst, rec->ts_ns, &pod) &&
	       rawcap_meta_sel_match_pod(sel, &pod);
}

int rawcap_meta_pkt_comment(const struct rawcap_meta_index *ix, const struct rawcap_rec *rec,
			    char *buf, size_t cap)
{
	struct rawcap_meta_pod s, d;
	uint8_t src[16], dst[16];
	int fam, hs = 0, hd = 0, n = 0;

	if (!cap)
		return -ENOSPC;
	buf[0] = 0;
	fam = rawcap_pkt_addrs(rec, src, dst);
	if (fam) {
		hs = rawcap_meta_pod_at(ix, fam, src, rec->ts_ns, &s);
		hd = rawcap_meta_pod_at(ix, fam, dst, rec->ts_ns, &d);
	}
	if (hs && hd)
		n = snprintf(buf, cap, "src pod %s/%s; dst pod %s/%s", s.namespace_, s.name,
			     d.namespace_, d.name);
	else if (hs)
		n = snprintf(buf, cap, "src pod %s/%s", s.namespace_, s.name);
	else if (hd)
		n = snprintf(buf, cap, "dst pod %s/%s", d.namespace_, d.name);
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = 0;
		return -ENOSPC;
	}
	hs = meta_flow_comment(meta_index_flows(ix), rec, n ? "; " : "", buf + n, cap - (size_t)n);
	if (hs < 0) {
		buf[0] = 0;
		return hs;
	}
	return n + hs;
}
