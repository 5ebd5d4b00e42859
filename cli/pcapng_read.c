// SPDX-License-Identifier: MIT
/*
 * pcapng_read.c - a push-fed pcapng block reader for untrusted streams (see
 * pcapng_read.h). Block layout after draft-ietf-opsawg-pcapng section 3:
 * type, total length, body, total length again; options as code, length,
 * value padded to 4 bytes.
 *
 * The buffer is one contiguous span [off, len) of unparsed bytes. It moves
 * (compaction, growth) only while no event is held, so a packet event can
 * point into it without a copy.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <byteswap.h>

#include "pcapng_read.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_OPB 0x00000002u /* obsolete packet block */
#define BT_SPB 0x00000003u
#define BT_ISB 0x00000005u
#define BT_EPB 0x00000006u

#define BOM	     0x1A2B3C4Du
#define OPT_END	     0
#define OPT_COMMENT  1
#define IF_NAME	     2
#define IF_DESC	     3
#define IF_TSRESOL   9
#define IF_FILTER    11
#define IF_TSOFFSET  14
#define EPB_FLAGS    2
#define EPB_DROPS    4
#define ISB_IFDROP   5
#define ISB_USRDELIV 8

#define RD_INITIAL (256u << 10)
#define RD_SLACK   (64u << 10) /* more than libcurl's largest write (CURL_MAX_WRITE_SIZE) */

struct rd_iface {
	struct pcapng_iface pub;
	char *name, *desc, *filter;
};

struct pcapng_rd {
	uint8_t *buf;
	size_t cap, off, len;
	bool swap, in_section, failed, held;
	uint32_t section;
	struct rd_iface *ifs;
	size_t nifs, ifs_cap, text_bytes;
	char *comment;
	size_t comment_cap;
	struct pcapng_rd_stats st;
	char err[200];
};

/* A block's body, with the byte order of its section. */
struct body {
	const uint8_t *p;
	size_t len;
	bool swap;
};

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static uint16_t rd16(const uint8_t *p, bool swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? bswap_16(v) : v;
}

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? bswap_32(v) : v;
}

static uint64_t rd64(const uint8_t *p, bool swap)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return swap ? bswap_64(v) : v;
}

/* Timestamps are two 32-bit words, high first, each in the section's order. */
static uint64_t rd_ts(const uint8_t *p, bool swap)
{
	return (uint64_t)rd32(p, swap) << 32 | rd32(p + 4, swap);
}

__attribute__((format(printf, 2, 3))) static int fail(struct pcapng_rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->failed = true;
	return -EBADMSG;
}

int pcapng_rd_new(struct pcapng_rd **out)
{
	struct pcapng_rd *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->cap = RD_INITIAL;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

static void drop_ifaces(struct pcapng_rd *r)
{
	for (size_t i = 0; i < r->nifs; i++) {
		free(r->ifs[i].name);
		free(r->ifs[i].desc);
		free(r->ifs[i].filter);
	}
	r->nifs = 0;
	r->text_bytes = 0;
}

void pcapng_rd_free(struct pcapng_rd *r)
{
	if (!r)
		return;
	drop_ifaces(r);
	free(r->ifs);
	free(r->comment);
	free(r->buf);
	free(r);
}

/* Make room for n more bytes; moves data only while no event is held. */
static bool make_room(struct pcapng_rd *r, size_t n)
{
	size_t used = r->len - r->off, ncap;
	uint8_t *nb;

	if (r->cap - r->len >= n)
		return true;
	if (r->held)
		return false;
	if (r->off) {
		memmove(r->buf, r->buf + r->off, used);
		r->off = 0;
		r->len = used;
		if (r->cap - r->len >= n)
			return true;
	}
	if (used + n > PCAPNG_RD_BLOCK_MAX + RD_SLACK)
		return false;
	ncap = r->cap * 2 > used + n ? r->cap * 2 : used + n;
	if (ncap > PCAPNG_RD_BLOCK_MAX + RD_SLACK)
		ncap = PCAPNG_RD_BLOCK_MAX + RD_SLACK;
	nb = realloc(r->buf, ncap);
	if (!nb)
		return false;
	r->buf = nb;
	r->cap = ncap;
	return true;
}

int pcapng_rd_feed(struct pcapng_rd *r, const void *data, size_t len)
{
	if (r->failed)
		return -EBADMSG;
	if (!make_room(r, len))
		return -ENOBUFS;
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	return 0;
}

uint8_t *pcapng_rd_wbuf(struct pcapng_rd *r, size_t *room)
{
	*room = 0;
	if (r->failed)
		return NULL;
	if (!make_room(r, RD_SLACK) && r->cap == r->len)
		return NULL;
	*room = r->cap - r->len;
	return r->buf + r->len;
}

void pcapng_rd_commit(struct pcapng_rd *r, size_t n)
{
	r->len += n;
}

size_t pcapng_rd_pending(const struct pcapng_rd *r)
{
	return r->len - r->off;
}

const char *pcapng_rd_error(const struct pcapng_rd *r)
{
	return r->err[0] ? r->err : "no error";
}

void pcapng_rd_get_stats(const struct pcapng_rd *r, struct pcapng_rd_stats *out)
{
	*out = r->st;
}

size_t pcapng_rd_footprint(const struct pcapng_rd *r)
{
	return r->cap + r->ifs_cap * sizeof(*r->ifs) + r->text_bytes + r->comment_cap;
}

/* Options: iterate over code, length, value; 1 with one, 0 at the end, -1 if malformed. */
struct opt_iter {
	const uint8_t *p;
	size_t left;
	bool swap;
};

static int opt_next(struct opt_iter *it, uint16_t *code, const uint8_t **val, uint16_t *len)
{
	size_t span;

	if (it->left == 0)
		return 0;
	if (it->left < 4)
		return -1;
	*code = rd16(it->p, it->swap);
	*len = rd16(it->p + 2, it->swap);
	if (*code == OPT_END)
		return 0;
	if (4u + *len > it->left)
		return -1;
	*val = it->p + 4;
	/* The value is padded to 4 bytes; a last option without its padding is accepted. */
	span = 4 + pad4(*len) < it->left ? 4 + pad4(*len) : it->left;
	it->p += span;
	it->left -= span;
	return 1;
}

/* A text option's value, cut at the first NUL and at PCAPNG_RD_TEXT_MAX bytes. */
static char *text_dup(const uint8_t *v, size_t len)
{
	if (len > PCAPNG_RD_TEXT_MAX)
		len = PCAPNG_RD_TEXT_MAX;
	return strndup((const char *)v, len);
}

/* if_tsresol: 10^-n (n <= 19) or 2^-n seconds per unit. */
static int set_tsresol(struct pcapng_rd *r, struct pcapng_iface *ifc, uint8_t v)
{
	uint64_t p10 = 1;

	if (v & 0x80) {
		ifc->shift = v & 0x7f;
		return 0;
	}
	if (v > 19)
		return fail(r, "interface block: if_tsresol 10^-%u is out of range", v);
	for (unsigned i = 0; i < (v <= 9 ? 9u - v : v - 9u); i++)
		p10 *= 10;
	ifc->shift = -1;
	ifc->mul = v <= 9 ? p10 : 1;
	ifc->div = v <= 9 ? 1 : p10;
	return 0;
}

static int idb_option(struct pcapng_rd *r, struct rd_iface *ri, uint16_t code, const uint8_t *v,
		      uint16_t len, bool swap)
{
	char **slot = code == IF_NAME ? &ri->name : code == IF_DESC ? &ri->desc : NULL;

	if (code == IF_FILTER && len >= 1 && v[0] == 0) {
		slot = &ri->filter;
		v++;
		len--;
	}
	if (slot) {
		free(*slot);
		*slot = text_dup(v, len);
		if (!*slot)
			return fail(r, "out of memory");
		r->text_bytes += strlen(*slot) + 1;
		return 0;
	}
	if (code == IF_TSRESOL) {
		if (len != 1)
			return fail(r, "interface block: if_tsresol of %u bytes", len);
		return set_tsresol(r, &ri->pub, v[0]);
	}
	if (code == IF_TSOFFSET) {
		if (len != 8)
			return fail(r, "interface block: if_tsoffset of %u bytes", len);
		ri->pub.tsoffset_s = (int64_t)rd64(v, swap);
	}
	return 0;
}

static int parse_idb(struct pcapng_rd *r, const struct body *b, struct pcapng_ev *ev)
{
	struct opt_iter it = {b->p + 8, b->len - 8, b->swap};
	const uint8_t *v;
	uint16_t code, len;
	struct rd_iface *ri;
	int n, err;

	if (b->len < 8)
		return fail(r, "interface block of %zu bytes", b->len + 12);
	if (r->nifs == PCAPNG_RD_IFACES_MAX)
		return fail(r, "more than %u interfaces in one section", PCAPNG_RD_IFACES_MAX);
	if (r->nifs == r->ifs_cap) {
		size_t ncap = r->ifs_cap ? r->ifs_cap * 2 : 8;
		struct rd_iface *nifs = realloc(r->ifs, ncap * sizeof(*nifs));

		if (!nifs)
			return fail(r, "out of memory");
		r->ifs = nifs;
		r->ifs_cap = ncap;
	}
	ri = &r->ifs[r->nifs];
	memset(ri, 0, sizeof(*ri));
	ri->pub.linktype = rd16(b->p, b->swap);
	ri->pub.snaplen = rd32(b->p + 4, b->swap);
	set_tsresol(r, &ri->pub, 6); /* default: microseconds */
	r->nifs++; /* now owned by the table, freed with it even if an option fails */
	while ((n = opt_next(&it, &code, &v, &len)) > 0)
		if ((err = idb_option(r, ri, code, v, len, b->swap)))
			return err;
	if (n < 0)
		return fail(r, "interface block %zu: malformed options", r->nifs - 1);
	if (r->text_bytes > PCAPNG_RD_TEXT_TOTAL)
		return fail(r, "interface descriptions exceed %u bytes", PCAPNG_RD_TEXT_TOTAL);
	ri->pub.name = ri->name ? ri->name : "";
	ri->pub.desc = ri->desc ? ri->desc : "";
	ri->pub.filter = ri->filter ? ri->filter : "";
	ev->type = PCAPNG_EV_IFACE;
	ev->if_id = (uint32_t)(r->nifs - 1);
	return 1;
}

/* Units of interface ifc to nanoseconds since the epoch; false if out of range. */
static bool ts_ns(const struct pcapng_iface *ifc, uint64_t units, uint64_t *out)
{
	__int128 v;

	if (ifc->shift >= 0)
		v = (__int128)(((unsigned __int128)units * 1000000000u) >> ifc->shift);
	else
		v = (__int128)((unsigned __int128)units * ifc->mul / ifc->div);
	v += (__int128)ifc->tsoffset_s * 1000000000;
	if (v < 0 || v > (__int128)UINT64_MAX)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* Append one opt_comment to the event's comment ("; " between several). */
static int add_comment(struct pcapng_rd *r, struct pcapng_ev *ev, const uint8_t *v, size_t len)
{
	size_t have = ev->comment ? strlen(r->comment) : 0, need = have + 2 + len + 1;

	if (need > r->comment_cap) {
		char *n = realloc(r->comment, need);

		if (!n)
			return fail(r, "out of memory");
		r->comment = n;
		r->comment_cap = need;
	}
	if (have) {
		memcpy(r->comment + have, "; ", 2);
		have += 2;
	}
	memcpy(r->comment + have, v, len);
	r->comment[have + len] = '\0';
	ev->comment = r->comment;
	return 0;
}

static int packet_options(struct pcapng_rd *r, struct opt_iter *it, struct pcapng_ev *ev)
{
	const uint8_t *v;
	uint16_t code, len;
	int n, err;

	while ((n = opt_next(it, &code, &v, &len)) > 0) {
		if (code == OPT_COMMENT && (err = add_comment(r, ev, v, len)))
			return err;
		if (code == EPB_FLAGS && len == 4) {
			ev->has_flags = true;
			ev->flags = rd32(v, it->swap);
		}
		if (code == EPB_DROPS && len == 8 && ev->type == PCAPNG_EV_PACKET) {
			ev->has_drops = true;
			ev->drops = rd64(v, it->swap);
		}
	}
	return n < 0 ? fail(r, "packet block: malformed options") : 0;
}

/* Enhanced (hdr 20 bytes: if_id(4)) or obsolete (if_id(2), drops(2)) packet block. */
static int parse_packet(struct pcapng_rd *r, const struct body *b, bool obsolete,
			struct pcapng_ev *ev)
{
	uint32_t if_id, caplen;
	uint16_t drops = 0xFFFF;
	struct opt_iter it;
	int err;

	if (b->len < 20)
		return fail(r, "packet block of %zu bytes", b->len + 12);
	if (obsolete) {
		if_id = rd16(b->p, b->swap);
		drops = rd16(b->p + 2, b->swap);
	} else {
		if_id = rd32(b->p, b->swap);
	}
	caplen = rd32(b->p + 12, b->swap);
	if (if_id >= r->nifs)
		return fail(r, "packet for interface %u, but %zu described", if_id, r->nifs);
	if (caplen > b->len - 20)
		return fail(r, "packet block: captured length %u beyond the block", caplen);
	ev->type = PCAPNG_EV_PACKET;
	ev->if_id = if_id;
	ev->caplen = caplen;
	ev->origlen = rd32(b->p + 16, b->swap);
	ev->data = b->p + 20;
	if (!ts_ns(&r->ifs[if_id].pub, rd_ts(b->p + 4, b->swap), &ev->ts_ns))
		return fail(r, "packet block: timestamp out of range");
	if (obsolete && drops != 0xFFFF && drops) {
		ev->has_drops = true;
		ev->drops = drops;
	}
	it = (struct opt_iter){b->p + 20 + pad4(caplen), 0, b->swap};
	it.left = 20 + pad4(caplen) < b->len ? b->len - 20 - pad4(caplen) : 0;
	if ((err = packet_options(r, &it, ev)))
		return err;
	r->st.packets++;
	return 1;
}

static int parse_isb(struct pcapng_rd *r, const struct body *b, struct pcapng_ev *ev)
{
	struct opt_iter it = {b->p + 12, b->len - 12, b->swap};
	const uint8_t *v;
	uint16_t code, len;
	uint32_t if_id;
	int n;

	if (b->len < 12)
		return fail(r, "statistics block of %zu bytes", b->len + 12);
	if_id = rd32(b->p, b->swap);
	if (if_id >= r->nifs) {
		r->st.skipped++; /* statistics of nothing we know: nothing to keep */
		return 0;
	}
	ev->type = PCAPNG_EV_STATS;
	ev->if_id = if_id;
	if (!ts_ns(&r->ifs[if_id].pub, rd_ts(b->p + 4, b->swap), &ev->ts_ns))
		ev->ts_ns = 0;
	while ((n = opt_next(&it, &code, &v, &len)) > 0) {
		if (code == ISB_IFDROP && len == 8) {
			ev->has_ifdrop = true;
			ev->ifdrop = rd64(v, b->swap);
		} else if (code == ISB_USRDELIV && len == 8) {
			ev->has_usrdeliv = true;
			ev->usrdeliv = rd64(v, b->swap);
		}
	}
	return n < 0 ? fail(r, "statistics block: malformed options") : 1;
}

static int parse_shb(struct pcapng_rd *r, const struct body *b, struct pcapng_ev *ev)
{
	uint16_t major;

	if (b->len < 16)
		return fail(r, "section header of %zu bytes", b->len + 12);
	major = rd16(b->p + 4, b->swap);
	if (major != 1)
		return fail(r, "pcapng version %u.%u is not supported", major,
			    rd16(b->p + 6, b->swap));
	drop_ifaces(r);
	r->in_section = true;
	r->section++;
	ev->type = PCAPNG_EV_SECTION;
	return 1;
}

/* Classic pcap's magics (micro- and nanosecond, either byte order): a file often given. */
static bool is_pcap_magic(uint32_t m)
{
	return m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du || m == 0x4d3cb2a1u;
}

/* The block at off: its length, once its first 12 bytes are here; 0 if they are not. */
static int block_len(struct pcapng_rd *r, uint32_t *type, uint32_t *blen)
{
	const uint8_t *p = r->buf + r->off;
	size_t avail = r->len - r->off;

	if (avail < 12)
		return 0;
	memcpy(type, p, 4);
	if (*type == BT_SHB) { /* a palindrome: its byte-order magic says how to read the rest */
		uint32_t bom;

		memcpy(&bom, p + 8, 4);
		if (bom != BOM && bom != bswap_32(BOM))
			return fail(r, "section header with a bad byte-order magic %08x", bom);
		r->swap = bom != BOM;
	} else if (!r->in_section) {
		return fail(r, "not a pcapng stream (it starts with %08x%s)", *type,
			    is_pcap_magic(*type) ? ": a pcap file; export pcapng (the default), or "
						   "convert it with editcap -F pcapng"
						 : "");
	}
	*type = rd32(p, r->swap);
	*blen = rd32(p + 4, r->swap);
	if (*blen < 12 || *blen % 4 || (*type == BT_SHB && *blen < 28))
		return fail(r, "block of type %#x with a bad length %u", *type, *blen);
	if (*blen > PCAPNG_RD_BLOCK_MAX)
		return fail(r, "block of %u bytes: larger than %u", *blen, PCAPNG_RD_BLOCK_MAX);
	return 1;
}

static int parse_block(struct pcapng_rd *r, uint32_t type, const struct body *b,
		       struct pcapng_ev *ev)
{
	switch (type) {
	case BT_SHB:
		return parse_shb(r, b, ev);
	case BT_IDB:
		return parse_idb(r, b, ev);
	case BT_EPB:
	case BT_OPB:
		return parse_packet(r, b, type == BT_OPB, ev);
	case BT_ISB:
		return parse_isb(r, b, ev);
	default: /* simple packet blocks have no timestamp to merge by; the rest are not packets */
		r->st.skipped++;
		return 0;
	}
}

int pcapng_rd_next(struct pcapng_rd *r, struct pcapng_ev *ev)
{
	uint32_t type = 0, blen = 0;
	int n;

	r->held = false;
	for (;;) {
		const uint8_t *p = r->buf + r->off;
		struct body b;

		if (r->failed)
			return -EBADMSG;
		n = block_len(r, &type, &blen);
		if (n <= 0)
			return n;
		if (r->len - r->off < blen)
			return 0;
		if (rd32(p + blen - 4, r->swap) != blen)
			return fail(r, "block of type %#x: trailing length %u, leading %u", type,
				    rd32(p + blen - 4, r->swap), blen);
		b = (struct body){p + 8, blen - 12, r->swap};
		r->off += blen;
		r->st.blocks++;
		r->st.bytes += blen;
		memset(ev, 0, sizeof(*ev));
		n = parse_block(r, type, &b, ev);
		if (n < 0)
			return n;
		if (n > 0) {
			ev->section = r->section;
			if (ev->type != PCAPNG_EV_SECTION)
				ev->iface = &r->ifs[ev->if_id].pub;
			r->held = true;
			return 1;
		}
	}
}
