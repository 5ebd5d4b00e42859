// SPDX-License-Identifier: MIT
/*
 * filter.c - offline pcap filters over packet records (rawcap/filter.h).
 *
 * libpcap compiles an expression for one link type; records carry their
 * own, so we keep one program per link type met, compiled on first use.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/filter.h>

#define FILTER_MAX_LINKTYPES 8
#define FILTER_SNAPLEN	     262144

struct filter_prog {
	uint16_t linktype;
	bool ok; /* false: the expression does not apply to this link type */
	struct bpf_program prog;
};

struct rawcap_filter {
	char *expr;
	struct filter_prog progs[FILTER_MAX_LINKTYPES];
	unsigned nprogs;
};

static int filter_compile(const char *expr, uint16_t linktype, struct bpf_program *prog,
			  char *errbuf, size_t errlen)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(linktype, FILTER_SNAPLEN,
							 PCAP_TSTAMP_PRECISION_NANO);
	int err = 0;

	if (!p)
		return -ENOMEM;
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		if (errbuf)
			snprintf(errbuf, errlen, "%s", pcap_geterr(p));
		err = -EINVAL;
	}
	pcap_close(p);
	return err;
}

int rawcap_filter_new(const char *expr, struct rawcap_filter **out, char *errbuf, size_t errlen)
{
	struct rawcap_filter *f;
	struct bpf_program prog;
	int err;

	*out = NULL;
	if (!expr)
		return -EINVAL;
	err = filter_compile(expr, 1 /* Ethernet */, &prog, errbuf, errlen);
	if (err)
		return err;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->expr = strdup(expr))) {
		free(f);
		pcap_freecode(&prog);
		return -ENOMEM;
	}
	f->progs[0] = (struct filter_prog){.linktype = 1, .ok = true, .prog = prog};
	f->nprogs = 1;
	*out = f;
	return 0;
}

static struct filter_prog *filter_prog_for(struct rawcap_filter *f, uint16_t linktype)
{
	struct filter_prog *fp;

	for (unsigned i = 0; i < f->nprogs; i++)
		if (f->progs[i].linktype == linktype)
			return &f->progs[i];
	if (f->nprogs == FILTER_MAX_LINKTYPES)
		return NULL;
	fp = &f->progs[f->nprogs++];
	fp->linktype = linktype;
	fp->ok = filter_compile(f->expr, linktype, &fp->prog, NULL, 0) == 0;
	return fp;
}

int rawcap_filter_match(struct rawcap_filter *f, const struct rawcap_pkt *pkt, const uint8_t *data,
			uint32_t caplen)
{
	struct filter_prog *fp = filter_prog_for(f, pkt->linktype);
	struct pcap_pkthdr h = {.caplen = caplen,
				.len = pkt->orig_len > caplen ? pkt->orig_len : caplen};

	if (!fp || !fp->ok)
		return 0;
	return pcap_offline_filter(&fp->prog, &h, data) != 0;
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
