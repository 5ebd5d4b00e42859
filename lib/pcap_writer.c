// SPDX-License-Identifier: MIT
/*
 * pcap_writer.c - the pcap/pcapng sink's buffering, interface table and
 * classic pcap output (see rawcap/pcap.h).
 *
 * Output goes through one buffer written with write(2), so a stream (-o -)
 * decides its own latency with rawcap_pcap_flush(). Classic pcap can hold a
 * single link type: when interfaces differ we rewrite each packet as
 * LINKTYPE_LINUX_SLL2 (ifindex, direction and protocol kept).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "pcap_int.h"

#define PCAP_MAGIC_NS	 0xA1B23C4D
#define PCAP_DEF_SNAPLEN 262144
#define PCAP_DEF_BUF	 (256u * 1024u)
#define SLL2_HDR_LEN	 20
#define ETH_HDR_LEN	 14
#define VLAN_TAG_LEN	 4

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
	w->snaplen = o->snaplen ? o->snaplen : PCAP_DEF_SNAPLEN;
	w->force_linktype = o->linktype;
	/* A whole record (plus block framing) always fits after one flush. */
	w->cap = (o->buf_size ? o->buf_size : PCAP_DEF_BUF) + RAWCAP_REC_MAX + 4096;
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
		int err = pcapng_write_shb(w);

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
	}
	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? -errno : -EIO;
			return w->err;
		}
		off += (size_t)n;
	}
	w->len = 0;
	return 0;
}

size_t rawcap_pcap_pending(const struct rawcap_pcap *w)
{
	return w->len;
}

uint8_t *pcap_reserve(struct rawcap_pcap *w, size_t n)
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

struct pcap_if *pcap_if_find(struct rawcap_pcap *w, uint32_t ifindex)
{
	/* Callers that number interfaces 1..n (a merge of nodes) find theirs at once. */
	if (ifindex && ifindex <= w->nifs && w->ifs[ifindex - 1].ifc.ifindex == ifindex)
		return &w->ifs[ifindex - 1];
	for (size_t i = 0; i < w->nifs; i++)
		if (w->ifs[i].ifc.ifindex == ifindex)
			return &w->ifs[i];
	return NULL;
}

static struct pcap_if *pcap_if_add(struct rawcap_pcap *w, uint32_t ifindex)
{
	struct pcap_if *pi;

	if (w->nifs == w->ifs_cap) {
		size_t ncap = w->ifs_cap ? w->ifs_cap * 2 : 8;
		struct pcap_if *n = realloc(w->ifs, ncap * sizeof(*n));

		if (!n)
			return NULL;
		w->ifs = n;
		w->ifs_cap = ncap;
	}
	pi = &w->ifs[w->nifs++];
	memset(pi, 0, sizeof(*pi));
	pi->ifc.ifindex = ifindex;
	pi->id = -1;
	return pi;
}

int rawcap_pcap_add_iface(struct rawcap_pcap *w, const struct rawcap_iface *ifc)
{
	struct pcap_if *pi = pcap_if_find(w, ifc->ifindex);

	if (!pi)
		pi = pcap_if_add(w, ifc->ifindex);
	if (!pi)
		return -ENOMEM;
	/* Once its IDB is written an interface's link type is fixed in the file. */
	if (pi->id >= 0 && pi->ifc.linktype != ifc->linktype)
		return 0;
	pi->ifc = *ifc;
	pi->ifc.name[RAWCAP_IFNAMSIZ - 1] = '\0';
	pi->ifc.filter[RAWCAP_FILTER_MAX - 1] = '\0';
	pi->known = true;
	return 0;
}

static struct pcap_if *pcap_if_get(struct rawcap_pcap *w, uint32_t ifindex)
{
	struct pcap_if *pi = pcap_if_find(w, ifindex);

	return pi ? pi : pcap_if_add(w, ifindex);
}

/* Replace *slot with a copy of text cut at RAWCAP_PCAP_LABEL_MAX bytes (NULL: keep). */
static int set_label(char **slot, const char *text)
{
	char *copy;

	if (!text)
		return 0;
	copy = strndup(text, RAWCAP_PCAP_LABEL_MAX);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

int rawcap_pcap_iface_label(struct rawcap_pcap *w, uint32_t ifindex, const char *name,
			    const char *desc)
{
	struct pcap_if *pi = pcap_if_get(w, ifindex);

	if (!pi)
		return -ENOMEM;
	return set_label(&pi->label_name, name) ?: set_label(&pi->label_desc, desc);
}

int rawcap_pcap_iface_comment(struct rawcap_pcap *w, uint32_t ifindex, const char *comment)
{
	struct pcap_if *pi = pcap_if_get(w, ifindex);

	return pi ? set_label(&pi->isb_comment, comment) : -ENOMEM;
}

void rawcap_pcap_note_loss(struct rawcap_pcap *w, uint32_t ifindex, uint64_t count)
{
	struct pcap_if *pi = ifindex ? pcap_if_find(w, ifindex) : NULL;

	if (ifindex && !pi)
		pi = pcap_if_add(w, ifindex);
	if (pi) {
		pi->pending_drops += count;
		pi->st.drops += count;
	} else {
		w->pending_any += count;
	}
}

/* Classic pcap: one link type for the whole file, chosen at the first packet. */
static int pcap_classic_header(struct rawcap_pcap *w, uint16_t first_lt)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} h = {PCAP_MAGIC_NS, 2, 4, 0, 0, w->snaplen, 0};
	uint16_t lt = w->force_linktype ? w->force_linktype : first_lt;
	uint8_t *p;

	for (size_t i = 0; !w->force_linktype && i < w->nifs; i++)
		if (w->ifs[i].known && w->ifs[i].ifc.linktype != first_lt)
			lt = RAWCAP_LINKTYPE_SLL2;
	h.linktype = lt;
	p = pcap_reserve(w, sizeof(h));
	if (!p)
		return w->err;
	memcpy(p, &h, sizeof(h));
	w->len += sizeof(h);
	w->linktype = lt;
	w->header_done = true;
	return 0;
}

static uint16_t sll2_pkttype(uint8_t dir)
{
	return dir <= RAWCAP_DIR_OUTGOING ? dir : 0;
}

/*
 * Build the SLL2 header for a packet of another link type; *skip is how many
 * leading bytes of the original the SLL2 payload leaves out. -EPROTONOSUPPORT
 * if the link type cannot be mapped.
 */
static int sll2_header(const struct pcap_if *pi, const struct rawcap_pcap_pkt *p,
		       uint8_t hdr[SLL2_HDR_LEN], uint32_t *skip)
{
	const uint8_t *d = p->data;
	uint16_t proto = p->pkt->protocol, hatype = pi->ifc.arphrd ? pi->ifc.arphrd : 0xFFFF;
	uint32_t ifindex = htonl(p->pkt->ifindex);
	uint8_t alen = 0, addr[8] = {0};

	*skip = 0;
	switch (p->pkt->linktype) {
	case RAWCAP_LINKTYPE_ETHERNET:
		if (p->caplen < ETH_HDR_LEN)
			return -EPROTONOSUPPORT;
		memcpy(&proto, d + 12, 2);
		memcpy(addr, d + 6, 6);
		alen = 6;
		hatype = 1; /* ARPHRD_ETHER */
		*skip = ETH_HDR_LEN;
		break;
	case RAWCAP_LINKTYPE_RAW:
	case RAWCAP_LINKTYPE_IPV4:
	case RAWCAP_LINKTYPE_IPV6:
		if (p->caplen < 1)
			return -EPROTONOSUPPORT;
		proto = htons((d[0] >> 4) == 6 ? 0x86DD : 0x0800);
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	memcpy(hdr, &proto, 2);
	memset(hdr + 2, 0, 2);
	memcpy(hdr + 4, &ifindex, 4);
	hatype = htons(hatype);
	memcpy(hdr + 8, &hatype, 2);
	hdr[10] = (uint8_t)sll2_pkttype(p->pkt->dir);
	hdr[11] = alen;
	memcpy(hdr + 12, addr, 8);
	return 0;
}

static int pcap_classic_write(struct rawcap_pcap *w, struct pcap_if *pi,
			      const struct rawcap_pcap_pkt *p, uint32_t caplen)
{
	uint8_t sll[SLL2_HDR_LEN], *b;
	uint32_t skip = 0, prefix = 0,
		 orig = p->pkt->orig_len > p->caplen ? p->pkt->orig_len : p->caplen;
	uint32_t rec[4];

	if (p->pkt->linktype != w->linktype) {
		if (w->linktype != RAWCAP_LINKTYPE_SLL2 || sll2_header(pi, p, sll, &skip)) {
			w->skipped++;
			return 1;
		}
		prefix = SLL2_HDR_LEN;
		caplen = caplen > skip ? caplen - skip : 0;
		orig = orig - skip + prefix;
		if (caplen + prefix > w->snaplen)
			caplen = w->snaplen - prefix;
	}
	rec[0] = (uint32_t)(p->ts_ns / 1000000000u);
	rec[1] = (uint32_t)(p->ts_ns % 1000000000u);
	rec[2] = caplen + prefix;
	rec[3] = orig;
	b = pcap_reserve(w, sizeof(rec) + prefix + caplen);
	if (!b)
		return w->err;
	memcpy(b, rec, sizeof(rec));
	memcpy(b + sizeof(rec), sll, prefix);
	memcpy(b + sizeof(rec) + prefix, p->data + skip, caplen);
	w->len += sizeof(rec) + prefix + caplen;
	return 0;
}

int rawcap_pcap_write(struct rawcap_pcap *w, const struct rawcap_pcap_pkt *p)
{
	struct pcap_if *pi = pcap_if_find(w, p->pkt->ifindex);
	uint32_t caplen = p->caplen < w->snaplen ? p->caplen : w->snaplen;
	uint64_t drops;
	int err;

	if (w->err)
		return w->err;
	if (!pi) {
		pi = pcap_if_add(w, p->pkt->ifindex);
		if (!pi)
			return -ENOMEM;
	}
	if (!pi->known)
		pi->ifc.linktype = p->pkt->linktype;
	if (w->format == RAWCAP_PCAP_CLASSIC) {
		if (!w->header_done && (err = pcap_classic_header(w, p->pkt->linktype)))
			return err;
		err = pcap_classic_write(w, pi, p, caplen);
		if (err)
			return err;
	} else {
		if (pi->id < 0 && (err = pcapng_write_idb(w, pi)))
			return err;
		if (p->pkt->linktype != pi->ifc.linktype) {
			w->skipped++;
			return 1;
		}
		drops = pi->pending_drops + w->pending_any;
		err = pcapng_write_epb(w, pi, p, caplen, drops);
		if (err)
			return err;
		pi->pending_drops = 0;
		w->pending_any = 0;
	}
	if (!pi->st.packets)
		pi->st.first_ns = p->ts_ns;
	pi->st.last_ns = p->ts_ns;
	pi->st.packets++;
	return 0;
}

int rawcap_pcap_ifstats(const struct rawcap_pcap *w, uint32_t ifindex,
			struct rawcap_pcap_ifstats *out)
{
	for (size_t i = 0; i < w->nifs; i++) {
		if (w->ifs[i].ifc.ifindex == ifindex) {
			*out = w->ifs[i].st;
			return 0;
		}
	}
	return -ENOENT;
}

uint64_t rawcap_pcap_skipped(const struct rawcap_pcap *w)
{
	return w->skipped;
}

int rawcap_pcap_close(struct rawcap_pcap *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (w->format == RAWCAP_PCAP_PCAPNG) {
		for (size_t i = 0; i < w->nifs; i++)
			if (w->ifs[i].id >= 0)
				pcapng_write_isb(w, &w->ifs[i]);
	} else if (!w->header_done) {
		/* An empty export is still a valid file. */
		pcap_classic_header(w, w->nifs ? w->ifs[0].ifc.linktype : RAWCAP_LINKTYPE_ETHERNET);
	}
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
