// SPDX-License-Identifier: MIT
/*
 * pcap_writer.c - the pcap/pcapng sink's buffering, the file's link type
 * and classic pcap output (see rawcap/pcap.h); its interface table is
 * pcap_iface.c's, pcapng's blocks pcap_ng.c's.
 *
 * Output goes through one buffer written with write(2), so a stream (-o -)
 * decides its own latency with rawcap_pcap_flush(). A file holds a single
 * link type (classic pcap can hold no other; libpcap reads no other pcapng):
 * when interfaces differ we rewrite each packet as LINKTYPE_LINUX_SLL
 * (direction, protocol and source address kept; pcapng keeps the interface
 * in its interface block), as libpcap's "any" device does. LINUX_SLL rather
 * than SLL2 by default because tcpreplay (4.4) reads no SLL2; SLL2 (with the
 * ifindex) on request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "pcap_int.h"

#define PW_MAGIC_NS    0xA1B23C4D
#define PW_DEF_SNAPLEN 262144
#define PW_DEF_BUF     (256u * 1024u)
#define SLL_HDR_LEN    16
#define SLL2_HDR_LEN   PW_SLL2_HDR_LEN
#define ETH_HDR_LEN    14
#define VLAN_TAG_LEN   4

int rawcap_pcap_open(int fd, const struct rawcap_pcap_opts *o, struct rawcap_pcap **out)
{
	struct rawcap_pcap *w;

	*out = NULL;
	if (!o || o->sz < sizeof(*o) || (fd < 0 && !o->write_fn))
		return -EINVAL;
	if (o->format != RAWCAP_PCAP_PCAPNG && o->format != RAWCAP_PCAP_CLASSIC)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->write_fn = o->write_fn;
	w->write_arg = o->write_arg;
	w->format = o->format;
	w->snaplen = o->snaplen ? o->snaplen : PW_DEF_SNAPLEN;
	w->native = o->linktype == RAWCAP_PCAP_LT_NATIVE && o->format == RAWCAP_PCAP_PCAPNG;
	w->first_only = o->linktype == RAWCAP_PCAP_LT_FIRST;
	w->force_linktype = w->first_only || o->linktype == RAWCAP_PCAP_LT_NATIVE ? 0 : o->linktype;
	/* A whole record (plus block framing) always fits after one flush. */
	w->cap = (o->buf_size ? o->buf_size : PW_DEF_BUF) + RAWCAP_REC_MAX + 4096;
	w->buf = malloc(w->cap);
	if (o->comment)
		w->comment = strdup(o->comment);
	if (!w->buf || (o->comment && !w->comment)) {
		free(w->buf);
		free(w->comment);
		free(w);
		return -ENOMEM;
	}
	snprintf(w->appl, sizeof(w->appl), "%s", o->appl ? o->appl : "rawcap");
	if (!o->appl)
		snprintf(w->appl, sizeof(w->appl), "rawcap %s", rawcap_version());
	if (w->format == RAWCAP_PCAP_PCAPNG) {
		int err = pw_ng_write_shb(w);

		if (err) {
			rawcap_pcap_close(w);
			return err;
		}
		w->header_done = true;
	}
	*out = w;
	return 0;
}

int rawcap_pcap_flush(struct rawcap_pcap *w)
{
	size_t off = 0;

	if (w->err)
		return w->err;
	if (w->write_fn && w->len) {
		int err = w->write_fn(w->write_arg, w->buf, w->len);

		if (err < 0)
			return w->err = err;
		off = w->len;
		w->wrote = true;
	}
	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? -errno : -EIO;
			rawcap_output_broken(w->fd, w->err); /* it never replaces a file */
			return w->err;
		}
		off += (size_t)n;
	}
	w->wrote = w->wrote || w->len;
	w->len = 0;
	return 0;
}

size_t rawcap_pcap_pending(const struct rawcap_pcap *w)
{
	return w->len;
}

uint8_t *pw_reserve(struct rawcap_pcap *w, size_t n)
{
	if (w->err)
		return NULL;
	if (w->len + n > w->cap && rawcap_pcap_flush(w))
		return NULL;
	if (n > w->cap) {
		w->err = -EMSGSIZE;
		return NULL;
	}
	return w->buf + w->len;
}

/*
 * The file's one link type, chosen at the first packet (or at close): the
 * forced one, else the declared interfaces' when they share it, else
 * LINUX_SLL.
 */
static void pw_pick_linktype(struct rawcap_pcap *w, uint16_t first_lt)
{
	uint16_t lt = w->force_linktype ? w->force_linktype : first_lt;

	if (w->linktype || w->native)
		return;
	for (size_t i = 0; !w->force_linktype && !w->first_only && i < w->nifs; i++)
		if (w->ifs[i].known && w->ifs[i].ifc.linktype != first_lt)
			lt = RAWCAP_LINKTYPE_SLL;
	w->linktype = lt ? lt : RAWCAP_LINKTYPE_ETHERNET;
}

/* The link type of the first declared interface, for a file that gets no packet. */
static uint16_t pw_declared_linktype(const struct rawcap_pcap *w)
{
	for (size_t i = 0; i < w->nifs; i++)
		if (w->ifs[i].known && w->ifs[i].ifc.linktype)
			return w->ifs[i].ifc.linktype;
	return RAWCAP_LINKTYPE_ETHERNET;
}

/* What is held of an interface's packets: what its description says capd kept, or all. */
static uint32_t pw_iface_kept(const struct pw_iface *pi)
{
	return pi->known ? rawcap_iface_snaplen(&pi->ifc) : RAWCAP_SNAPLEN_MAX;
}

/*
 * The snap length a file of link type lt announces for one interface
 * (pcapng) or for all (classic: pi NULL), and cuts its packets to: the
 * caller's, or what capd kept when that is less, as tcpdump -s announces
 * its own. A cooked header and one byte are always kept, as libpcap keeps
 * them for any -s.
 */
uint32_t pw_snaplen(const struct rawcap_pcap *w, const struct pw_iface *pi, uint16_t lt)
{
	uint32_t kept = pi ? pw_iface_kept(pi) : 0, floor = 1, snap;

	for (size_t i = 0; !pi && i < w->nifs; i++)
		if (w->ifs[i].known && pw_iface_kept(&w->ifs[i]) > kept)
			kept = pw_iface_kept(&w->ifs[i]);
	if (!kept)
		kept = RAWCAP_SNAPLEN_MAX;
	if (lt == RAWCAP_LINKTYPE_SLL)
		floor = SLL_HDR_LEN + 1;
	else if (lt == RAWCAP_LINKTYPE_SLL2)
		floor = SLL2_HDR_LEN + 1;
	snap = w->snaplen < kept ? w->snaplen : kept;
	return snap > floor ? snap : floor;
}

/* Classic pcap: one link type for the whole file, in its header. */
static int pw_classic_header(struct rawcap_pcap *w, uint16_t first_lt)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} h = {PW_MAGIC_NS, 2, 4, 0, 0, w->snaplen, 0};
	uint8_t *p;

	pw_pick_linktype(w, first_lt);
	h.linktype = w->linktype;
	h.snaplen = w->file_snaplen = pw_snaplen(w, NULL, w->linktype);
	p = pw_reserve(w, sizeof(h));
	if (!p)
		return w->err;
	memcpy(p, &h, sizeof(h));
	w->len += sizeof(h);
	w->header_done = true;
	return 0;
}

static uint16_t sll_pkttype(uint8_t dir)
{
	return dir <= RAWCAP_DIR_OUTGOING ? dir : 0;
}

/* The cooked header's fields for a packet of another link type. */
struct sll_fields {
	uint16_t proto, hatype; /* network order */
	uint8_t alen, addr[8];
	uint32_t skip; /* leading bytes of the original the cooked payload leaves out */
};

static int sll_fields(const struct pw_iface *pi, const struct rawcap_pcap_pkt *p,
		      struct sll_fields *f)
{
	const uint8_t *d = p->data;

	memset(f, 0, sizeof(*f));
	f->proto = p->pkt->protocol;
	f->hatype = htons(pi->ifc.arphrd ? pi->ifc.arphrd : 0xFFFF);
	switch (p->pkt->linktype) {
	case RAWCAP_LINKTYPE_ETHERNET:
		if (p->caplen < ETH_HDR_LEN)
			return -EPROTONOSUPPORT;
		memcpy(&f->proto, d + 12, 2);
		memcpy(f->addr, d + 6, 6);
		f->alen = 6;
		/* The interface's type, as the kernel tells libpcap: ARPHRD_LOOPBACK on lo. */
		f->hatype = htons(pi->ifc.arphrd ? pi->ifc.arphrd : 1); /* else ARPHRD_ETHER */
		f->skip = ETH_HDR_LEN;
		return 0;
	case RAWCAP_LINKTYPE_RAW:
	case RAWCAP_LINKTYPE_IPV4:
	case RAWCAP_LINKTYPE_IPV6:
		if (p->caplen < 1)
			return -EPROTONOSUPPORT;
		f->proto = htons((d[0] >> 4) == 6 ? 0x86DD : 0x0800);
		return 0;
	}
	return -EPROTONOSUPPORT;
}

/*
 * Build the LINUX_SLL (16 bytes) or LINUX_SLL2 (20 bytes, with the ifindex)
 * header for a packet of another link type into fr. -EPROTONOSUPPORT if its
 * link type cannot be mapped.
 */
static int sll_header(const struct pw_iface *pi, const struct rawcap_pcap_pkt *p, uint16_t lt,
		      struct pw_frame *fr)
{
	uint16_t pkttype = htons(sll_pkttype(p->pkt->dir)), alen;
	uint32_t ifindex = htonl(p->pkt->ifindex);
	uint8_t *h = fr->prefix;
	struct sll_fields f;
	int err = sll_fields(pi, p, &f);

	if (err)
		return err;
	fr->skip = f.skip;
	if (lt == RAWCAP_LINKTYPE_SLL) {
		alen = htons(f.alen);
		memcpy(h, &pkttype, 2);
		memcpy(h + 2, &f.hatype, 2);
		memcpy(h + 4, &alen, 2);
		memcpy(h + 6, f.addr, 8);
		memcpy(h + 14, &f.proto, 2);
		fr->prefix_len = SLL_HDR_LEN;
		return 0;
	}
	memcpy(h, &f.proto, 2);
	memset(h + 2, 0, 2);
	memcpy(h + 4, &ifindex, 4);
	memcpy(h + 8, &f.hatype, 2);
	h[10] = (uint8_t)sll_pkttype(p->pkt->dir);
	h[11] = f.alen;
	memcpy(h + 12, f.addr, 8);
	fr->prefix_len = SLL2_HDR_LEN;
	return 0;
}

/*
 * How packet p goes into a file of link type lt that announces snap length
 * snap: unchanged, or rewritten as LINUX_SLL or LINUX_SLL2, header included
 * in snap. 0, or 1 if lt cannot represent it.
 */
static int pw_fit(const struct pw_iface *pi, const struct rawcap_pcap_pkt *p, uint16_t lt,
		  uint32_t snap, struct pw_frame *f)
{
	f->prefix_len = 0;
	f->skip = 0;
	f->caplen = p->caplen;
	f->orig_len = p->pkt->orig_len > p->caplen ? p->pkt->orig_len : p->caplen;
	if (p->pkt->linktype != lt) {
		if ((lt != RAWCAP_LINKTYPE_SLL && lt != RAWCAP_LINKTYPE_SLL2) ||
		    sll_header(pi, p, lt, f))
			return 1;
		f->caplen = p->caplen > f->skip ? p->caplen - f->skip : 0;
		f->orig_len = f->orig_len - f->skip + f->prefix_len;
	}
	if (f->prefix_len + f->caplen > snap)
		f->caplen = snap > f->prefix_len ? snap - f->prefix_len : 0;
	return 0;
}

static int pw_classic_write(struct rawcap_pcap *w, const struct rawcap_pcap_pkt *p,
			    const struct pw_frame *f)
{
	uint32_t rec[4];
	uint8_t *b;

	rec[0] = (uint32_t)(p->ts_ns / 1000000000u);
	rec[1] = (uint32_t)(p->ts_ns % 1000000000u);
	rec[2] = f->prefix_len + f->caplen;
	rec[3] = f->orig_len;
	b = pw_reserve(w, sizeof(rec) + rec[2]);
	if (!b)
		return w->err;
	memcpy(b, rec, sizeof(rec));
	memcpy(b + sizeof(rec), f->prefix, f->prefix_len);
	memcpy(b + sizeof(rec) + f->prefix_len, p->data + f->skip, f->caplen);
	w->len += sizeof(rec) + rec[2];
	return 0;
}

/* The packet's EPB with the pending note after its own comment (rare: kept out of the packet path). */
static __attribute__((noinline)) int pw_ng_write_noted(struct rawcap_pcap *w, struct pw_iface *pi,
						       const struct rawcap_pcap_pkt *p,
						       const struct pw_frame *f, uint64_t drops)
{
	const char *comment = p->comment;
	char both[1536];

	snprintf(both, sizeof(both), "%s%s%s", comment ? comment : "",
		 comment && *comment ? "; " : "", w->note);
	return pw_ng_write_epb(w, pi, p, f, drops, both);
}

/* pcapng: the interface's block when it is first used, then the packet with pending loss. */
static int pw_ng_write(struct rawcap_pcap *w, struct pw_iface *pi, const struct rawcap_pcap_pkt *p,
		       const struct pw_frame *f)
{
	uint64_t drops;
	int err;

	if (pi->id < 0 && (err = pw_ng_write_idb(w, pi)))
		return err;
	drops = pi->pending_drops + w->pending_any;
	err = w->note[0] ? pw_ng_write_noted(w, pi, p, f, drops)
			 : pw_ng_write_epb(w, pi, p, f, drops, p->comment);
	if (err)
		return err;
	pi->st.drops += w->pending_any; /* loss not tied to an interface: counted where said */
	pi->pending_drops = 0;
	w->pending_any = 0;
	w->note[0] = '\0';
	return 0;
}

int rawcap_pcap_write(struct rawcap_pcap *w, const struct rawcap_pcap_pkt *p)
{
	struct pw_iface *pi = pw_iface_find(w, p->pkt->ifindex);
	struct pw_frame f;
	uint32_t snap;
	uint16_t lt;
	int err;

	if (w->err)
		return w->err;
	if (!pi) {
		pi = pw_iface_add(w, p->pkt->ifindex);
		if (!pi)
			return -ENOMEM;
	}
	if (!pi->known)
		pi->ifc.linktype = p->pkt->linktype;
	if (!w->linktype && !w->native) /* chosen once: the test keeps the call off each packet */
		pw_pick_linktype(w, p->pkt->linktype);
	if (w->format == RAWCAP_PCAP_CLASSIC && !w->header_done &&
	    (err = pw_classic_header(w, p->pkt->linktype)))
		return err;
	lt = w->native ? pi->ifc.linktype : w->linktype;
	snap = w->format == RAWCAP_PCAP_CLASSIC ? w->file_snaplen
	       : pi->id >= 0			? pi->snaplen
						: pw_snaplen(w, pi, lt);
	if (pw_fit(pi, p, lt, snap, &f)) {
		if (w->first_only)
			return -EXDEV; /* the caller starts over with LINUX_SLL */
		w->skipped++;
		return 1;
	}
	err = w->format == RAWCAP_PCAP_CLASSIC ? pw_classic_write(w, p, &f)
					       : pw_ng_write(w, pi, p, &f);
	if (err)
		return err;
	if (!pi->st.packets)
		pi->st.first_ns = p->ts_ns;
	pi->st.last_ns = p->ts_ns;
	pi->st.packets++;
	return 0;
}

int rawcap_pcap_parse_linktype(const char *word, uint16_t *out)
{
	static const struct {
		const char *word;
		uint16_t lt;
	} words[] = {
		{"auto", RAWCAP_PCAP_LT_AUTO},
		{"native", RAWCAP_PCAP_LT_NATIVE},
		{"sll", RAWCAP_LINKTYPE_SLL},
		{"sll2", RAWCAP_LINKTYPE_SLL2},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(word, words[i].word)) {
			*out = words[i].lt;
			return 0;
		}
	return -EINVAL;
}

uint64_t rawcap_pcap_skipped(const struct rawcap_pcap *w)
{
	return w->skipped;
}

/*
 * pcapng's end: every interface with loss gets its block, so its statistics
 * can say so; a file without any interface block gets one (libpcap refuses a
 * section without); loss and notes left over go into the first interface's
 * statistics; then a statistics block per interface.
 */
static void pw_ng_finish(struct rawcap_pcap *w)
{
	char after[sizeof(w->note) + 32] = "";
	struct pw_iface *first = NULL;

	pw_pick_linktype(w, pw_declared_linktype(w));
	for (size_t i = 0; i < w->nifs; i++)
		if (w->ifs[i].id < 0 && w->ifs[i].st.drops)
			pw_ng_write_idb(w, &w->ifs[i]);
	if (w->next_id == 0) {
		struct pw_iface *pi = NULL;

		for (size_t i = 0; i < w->nifs && !pi; i++)
			if (w->ifs[i].known)
				pi = &w->ifs[i];
		if (!pi && (pi = pw_iface_add(w, 0)))
			pi->ifc.linktype = w->linktype ? w->linktype : RAWCAP_LINKTYPE_ETHERNET;
		if (pi)
			pw_ng_write_idb(w, pi);
	}
	for (size_t i = 0; i < w->nifs && !first; i++)
		if (w->ifs[i].id == 0)
			first = &w->ifs[i];
	if (first)
		first->st.drops += w->pending_any;
	if (w->note[0])
		snprintf(after, sizeof(after), "after the last packet: %s", w->note);
	for (size_t i = 0; i < w->nifs; i++)
		if (w->ifs[i].id >= 0)
			pw_ng_write_isb(w, &w->ifs[i], &w->ifs[i] == first ? after : NULL);
}

int rawcap_pcap_abandon(struct rawcap_pcap *w)
{
	if (w->err) /* the output's own failure: said at close, as ever */
		return w->err;
	if (w->wrote)
		return -EALREADY;
	w->abandoned = true;
	w->len = 0;
	return 0;
}

int rawcap_pcap_close(struct rawcap_pcap *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (w->abandoned)
		w->len = 0;
	else if (w->format == RAWCAP_PCAP_PCAPNG)
		pw_ng_finish(w);
	else if (!w->header_done) /* an empty export is still a valid file */
		pw_classic_header(w, pw_declared_linktype(w));
	if (!w->abandoned)
		err = rawcap_pcap_flush(w);
	for (size_t i = 0; i < w->nifs; i++) {
		free(w->ifs[i].label_name);
		free(w->ifs[i].label_desc);
		free(w->ifs[i].isb_comment);
	}
	free(w->ifs);
	free(w->buf);
	free(w->comment);
	free(w);
	return err;
}
