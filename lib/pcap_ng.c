// SPDX-License-Identifier: MIT
/*
 * pcap_ng.c - pcapng blocks (draft-ietf-opsawg-pcapng): section header,
 * interface description, enhanced packet and interface statistics blocks,
 * in host byte order (the byte-order magic tells readers which).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "pcap_int.h"

#define BT_SHB 0x0A0D0D0A
#define BT_IDB 0x00000001
#define BT_ISB 0x00000005
#define BT_EPB 0x00000006

#define OPT_END	      0
#define OPT_COMMENT   1
#define SHB_HARDWARE  2
#define SHB_OS	      3
#define SHB_USERAPPL  4
#define IF_NAME	      2
#define IF_DESC	      3
#define IF_TSRESOL    9
#define IF_FILTER     11
#define EPB_FLAGS     2
#define EPB_DROPCOUNT 4
#define ISB_STARTTIME 2
#define ISB_ENDTIME   3
#define ISB_IFDROP    5
#define ISB_USRDELIV  8

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static inline size_t opt_size(size_t len)
{
	return 4 + pad4(len);
}

/* Append an option at p; returns the byte after it. */
static uint8_t *put_opt(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	uint16_t hdr[2] = {code, (uint16_t)len};

	memcpy(p, hdr, 4);
	memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return p + 4 + pad4(len);
}

static uint8_t *put_end(uint8_t *p)
{
	memset(p, 0, 4);
	return p + 4;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

/* Timestamps are in nanoseconds (if_tsresol 9), high word first. */
static uint8_t *put_ts(uint8_t *p, uint64_t ts)
{
	p = put_u32(p, (uint32_t)(ts >> 32));
	return put_u32(p, (uint32_t)ts);
}

static uint8_t *put_u64_opt(uint8_t *p, uint16_t code, uint64_t v)
{
	return put_opt(p, code, &v, 8);
}

static uint8_t *put_ts_opt(uint8_t *p, uint16_t code, uint64_t ts)
{
	uint32_t v[2] = {(uint32_t)(ts >> 32), (uint32_t)ts};

	return put_opt(p, code, v, 8);
}

/* Close a block started at start: trailing total length, and fill in the leading one. */
static void end_block(uint8_t *start, uint8_t *p)
{
	uint32_t total = (uint32_t)(p - start) + 4;

	memcpy(start + 4, &total, 4);
	memcpy(p, &total, 4);
}

static size_t str_opt_len(const char *s)
{
	return s && *s ? opt_size(strlen(s)) : 0;
}

static uint8_t *put_str_opt(uint8_t *p, uint16_t code, const char *s)
{
	return s && *s ? put_opt(p, code, s, strlen(s)) : p;
}

int pw_ng_write_shb(struct rawcap_pcap *w)
{
	struct utsname u;
	char os[200] = "";
	size_t n;
	uint8_t *p, *start;
	uint32_t magic = 0x1A2B3C4D;
	uint16_t ver[2] = {1, 0};
	int64_t seclen = -1;

	if (uname(&u) == 0)
		snprintf(os, sizeof(os), "%s %s %s", u.sysname, u.release, u.machine);
	n = 28 + str_opt_len(os) + str_opt_len(w->appl) + str_opt_len(w->comment) + 4;
	p = start = pw_reserve(w, n);
	if (!p)
		return w->err;
	p = put_u32(p, BT_SHB) + 4;
	p = put_u32(p, magic);
	memcpy(p, ver, 4);
	memcpy(p + 4, &seclen, 8);
	p += 12;
	p = put_str_opt(p, OPT_COMMENT, w->comment);
	p = put_str_opt(p, SHB_OS, os);
	p = put_str_opt(p, SHB_USERAPPL, w->appl);
	p = put_end(p);
	end_block(start, p);
	w->len += n;
	return 0;
}

int pw_ng_write_idb(struct rawcap_pcap *w, struct pw_iface *pi)
{
	const struct rawcap_iface *ifc = &pi->ifc;
	const char *name = pi->label_name ? pi->label_name : ifc->name;
	const char *desc = pi->label_desc;
	char gen[96], filt[RAWCAP_FILTER_MAX + 1];
	uint8_t tsresol = 9, *p, *start;
	size_t n, flen = strnlen(ifc->filter, RAWCAP_FILTER_MAX);
	uint16_t lt[2] = {w->linktype ? w->linktype : ifc->linktype, 0};

	if (!desc) {
		snprintf(gen, sizeof(gen), "%s ifindex %u mtu %u",
			 pi->known ? "rawcap" : "rawcap (no description held)", ifc->ifindex,
			 ifc->mtu);
		desc = gen;
	}
	filt[0] = 0; /* libpcap filter string */
	memcpy(filt + 1, ifc->filter, flen);
	n = 16 + str_opt_len(name) + str_opt_len(desc) + opt_size(1) +
	    (flen ? opt_size(flen + 1) : 0) + 4 + 4;
	p = start = pw_reserve(w, n);
	if (!p)
		return w->err;
	p = put_u32(p, BT_IDB) + 4;
	memcpy(p, lt, 4);
	pi->snaplen = pw_snaplen(w, pi, lt[0]);
	p = put_u32(p + 4, pi->snaplen);
	p = put_str_opt(p, IF_NAME, name);
	p = put_str_opt(p, IF_DESC, desc);
	p = put_opt(p, IF_TSRESOL, &tsresol, 1);
	if (flen)
		p = put_opt(p, IF_FILTER, filt, flen + 1);
	p = put_end(p);
	end_block(start, p);
	w->len += n;
	pi->id = w->next_id++;
	return 0;
}

/* epb_flags: bits 0-1 direction (1 in, 2 out), bits 2-4 reception type. */
static uint32_t epb_flags(uint8_t dir)
{
	switch (dir) {
	case RAWCAP_DIR_HOST:
		return 1 | 1 << 2;
	case RAWCAP_DIR_BROADCAST:
		return 1 | 3 << 2;
	case RAWCAP_DIR_MULTICAST:
		return 1 | 2 << 2;
	case RAWCAP_DIR_OTHERHOST:
		return 1 | 4 << 2;
	case RAWCAP_DIR_OUTGOING:
		return 2;
	}
	return 0;
}

int pw_ng_write_epb(struct rawcap_pcap *w, struct pw_iface *pi, const struct rawcap_pcap_pkt *p,
		    const struct pw_frame *f, uint64_t drops, const char *comment)
{
	uint32_t flags = epb_flags(p->pkt->dir), caplen = f->prefix_len + f->caplen;
	size_t data = pad4(caplen);
	uint32_t n = (uint32_t)(28 + data + opt_size(4) + (drops ? opt_size(8) : 0) +
				str_opt_len(comment) + 4 + 4);
	uint8_t *b = pw_reserve(w, n);

	/*
	 * Once per packet: fixed-size stores straight into the buffer (fields
	 * gathered on the stack first and copied as vectors stalled on store
	 * forwarding), no calls for the padding or an empty prefix.
	 */
	if (!b)
		return w->err;
	b = put_u32(b, BT_EPB);
	b = put_u32(b, n);
	b = put_u32(b, (uint32_t)pi->id);
	b = put_ts(b, p->ts_ns);
	b = put_u32(b, caplen);
	b = put_u32(b, f->orig_len);
	if (data)
		put_u32(b + data - 4, 0); /* the padding; the data overwrites what it covers */
	if (f->prefix_len)
		memcpy(b, f->prefix, f->prefix_len);
	memcpy(b + f->prefix_len, p->data + f->skip, f->caplen);
	b += data;
	b = put_opt(b, EPB_FLAGS, &flags, 4);
	if (drops)
		b = put_u64_opt(b, EPB_DROPCOUNT, drops);
	b = put_str_opt(b, OPT_COMMENT, comment);
	b = put_end(b);
	put_u32(b, n); /* the block's trailing length */
	w->len += n;
	return 0;
}

int pw_ng_write_isb(struct rawcap_pcap *w, struct pw_iface *pi, const char *comment)
{
	const struct rawcap_pcap_ifstats *st = &pi->st;
	size_t n = 20 + (st->packets ? 2 : 0) * opt_size(8) + 2 * opt_size(8) +
		   str_opt_len(comment) + str_opt_len(pi->isb_comment) + 4 + 4;
	uint64_t now = w->stats_ts_ns ? w->stats_ts_ns : rawcap_now_ns();
	uint8_t *p, *start;

	p = start = pw_reserve(w, n);
	if (!p)
		return w->err;
	p = put_u32(p, BT_ISB) + 4;
	p = put_u32(p, (uint32_t)pi->id);
	p = put_ts(p, now);
	p = put_str_opt(p, OPT_COMMENT, comment);
	if (st->packets) { /* no packets: no first or last one to name */
		p = put_ts_opt(p, ISB_STARTTIME, st->first_ns);
		p = put_ts_opt(p, ISB_ENDTIME, st->last_ns);
	}
	p = put_u64_opt(p, ISB_IFDROP, st->drops);
	p = put_u64_opt(p, ISB_USRDELIV, st->packets);
	p = put_str_opt(p, OPT_COMMENT, pi->isb_comment);
	p = put_end(p);
	end_block(start, p);
	w->len += n;
	return 0;
}
