// SPDX-License-Identifier: MIT
/*
 * filter.c - pcap filters over packet records (rawcap/filter.h), meaning
 * what tcpdump means on the interface the packet was captured on.
 *
 * libpcap compiles an expression for one link type (a DLT_ value, which is
 * not always the LINKTYPE_ value a record carries: raw IP is LINKTYPE_RAW
 * 101 but DLT_RAW 12); records carry their own, so we keep one program per
 * link type met, compiled on first use. An expression that cannot be
 * compiled for a link type is an error the caller reports, never a filter
 * that silently matches nothing.
 *
 * VLAN tags: when the kernel stripped a tag into metadata, capd put it back
 * into the recorded frame (RAWCAP_PKT_VLAN). tcpdump filters such a packet
 * before the tag is back: "udp port 53" matches it, and "vlan 100" reads the
 * metadata. So a tagged record is filtered without its tag unless the
 * expression says "vlan", and then with the tag in place, where libpcap's
 * offline "vlan" finds it. The two agree with tcpdump on every expression
 * without "vlan" and every one that starts with it ("vlan 100 and udp");
 * "udp and vlan" matches here as in tcpdump -r of the export, not as live.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/filter.h>

#include "bpf_run.h"

#define FILTER_MAX_LINKTYPES 16
#define FILTER_ETH_TYPE_OFF  12
#define FILTER_VLAN_TAG_LEN  4

struct filter_prog {
	uint16_t linktype;
	bool ok; /* false: the expression does not apply to this link type */
	struct bpf_program prog;
	char error[320];
};

struct rawcap_filter {
	char *expr;
	bool says_vlan; /* the expression has a "vlan" primitive */
	struct filter_prog progs[FILTER_MAX_LINKTYPES];
	unsigned nprogs;
	struct filter_prog *last; /* the one used last: records come in runs of a link type */
};

/* libpcap's DLT_ for a LINKTYPE_ (the values differ for a few old types). */
static int filter_dlt(uint16_t linktype)
{
	switch (linktype) {
	case 101:
		return DLT_RAW;
	case 100:
		return DLT_ATM_RFC1483;
	case 102:
		return DLT_SLIP_BSDOS;
	case 103:
		return DLT_PPP_BSDOS;
	default:
		return linktype;
	}
}

static int filter_compile(const char *expr, uint16_t linktype, struct bpf_program *prog,
			  char *errbuf, size_t errlen)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(filter_dlt(linktype), RAWCAP_SNAPLEN_MAX,
							 PCAP_TSTAMP_PRECISION_NANO);
	int err = 0;

	if (!p) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(errbuf, errlen, "%s", pcap_geterr(p));
		err = -EINVAL;
	} else if (!bpf_validate(prog->bf_insns, (int)prog->bf_len) ||
		   !bpf_run_supported(prog->bf_insns, prog->bf_len)) {
		snprintf(errbuf, errlen, "it needs packet metadata a recorded packet lacks");
		pcap_freecode(prog);
		err = -EINVAL;
	}
	pcap_close(p);
	return err;
}

static bool filter_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Whether the expression has the word "vlan" (a primitive, not part of a host name). */
static bool filter_says_vlan(const char *expr)
{
	for (const char *p = strstr(expr, "vlan"); p; p = strstr(p + 1, "vlan"))
		if ((p == expr || !filter_word_char(p[-1])) && !filter_word_char(p[4]))
			return true;
	return false;
}

int rawcap_filter_new(const char *expr, struct rawcap_filter **out, char *errbuf, size_t errlen)
{
	struct rawcap_filter *f;
	struct bpf_program prog;
	char msg[256];
	int err;

	*out = NULL;
	if (!expr)
		return -EINVAL;
	err = filter_compile(expr, 1 /* Ethernet */, &prog, msg, sizeof(msg));
	if (err) {
		if (errbuf)
			snprintf(errbuf, errlen, "%s", msg);
		return err;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->expr = strdup(expr))) {
		free(f);
		pcap_freecode(&prog);
		return -ENOMEM;
	}
	f->says_vlan = filter_says_vlan(expr);
	f->progs[0] = (struct filter_prog){.linktype = 1, .ok = true, .prog = prog};
	f->nprogs = 1;
	*out = f;
	return 0;
}

static struct filter_prog *filter_prog_for(struct rawcap_filter *f, uint16_t linktype)
{
	struct filter_prog *fp;
	char msg[200];

	if (f->last && f->last->linktype == linktype)
		return f->last;
	for (unsigned i = 0; i < f->nprogs; i++)
		if (f->progs[i].linktype == linktype)
			return f->last = &f->progs[i];
	if (f->nprogs == FILTER_MAX_LINKTYPES)
		return NULL;
	fp = f->last = &f->progs[f->nprogs++];
	fp->linktype = linktype;
	fp->ok = filter_compile(f->expr, linktype, &fp->prog, msg, sizeof(msg)) == 0;
	if (!fp->ok)
		snprintf(fp->error, sizeof(fp->error),
			 "filter '%.32s%s' cannot be applied to packets of link type %u: %s",
			 f->expr, strlen(f->expr) > 32 ? "..." : "", linktype, msg);
	return fp;
}

int rawcap_filter_match(struct rawcap_filter *f, const struct rawcap_pkt *pkt, const uint8_t *data,
			uint32_t caplen, char *why, size_t whylen)
{
	struct filter_prog *fp = filter_prog_for(f, pkt->linktype);
	struct bpf_run_view v = {.data = data, .len = caplen, .gap_at = UINT32_MAX};
	struct bpf_run_aux aux = {
		.protocol = ntohs(pkt->protocol),
		.pkttype = pkt->dir,
		.ifindex = pkt->ifindex,
		.hatype = 0xffff,
		.vlan = (pkt->pkt_flags & RAWCAP_PKT_VLAN) != 0,
		.vlan_tci = pkt->vlan_tci,
		.vlan_tpid = pkt->vlan_tpid,
	};
	uint32_t wirelen = pkt->orig_len > caplen ? pkt->orig_len : caplen;

	if (!fp) {
		if (why && whylen)
			snprintf(why, whylen, "filter '%.32s%s' meets more than %u link types",
				 f->expr, strlen(f->expr) > 32 ? "..." : "", FILTER_MAX_LINKTYPES);
		return -E2BIG;
	}
	if (!fp->ok) {
		if (why && whylen)
			snprintf(why, whylen, "%s", fp->error);
		return -EINVAL;
	}
	/* Filter a frame whose tag the kernel had stripped as tcpdump did: without it. */
	if (aux.vlan && !f->says_vlan && pkt->linktype == 1 &&
	    caplen >= FILTER_ETH_TYPE_OFF + FILTER_VLAN_TAG_LEN) {
		v.gap_at = FILTER_ETH_TYPE_OFF;
		v.gap_len = FILTER_VLAN_TAG_LEN;
		wirelen -= FILTER_VLAN_TAG_LEN;
	}
	return bpf_run(fp->prog.bf_insns, &v, wirelen, &aux) != 0;
}

const char *rawcap_filter_expr(const struct rawcap_filter *f)
{
	return f->expr;
}

void rawcap_filter_free(struct rawcap_filter *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->nprogs; i++)
		if (f->progs[i].ok)
			pcap_freecode(&f->progs[i].prog);
	free(f->expr);
	free(f);
}
