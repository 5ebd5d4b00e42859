// SPDX-License-Identifier: MIT
/*
 * ebpf_exact.c - libpcap's program for the eBPF backend's capture filter;
 * see ebpf_exact.h.
 *
 * The bytes it judges are the sample's: for Ethernet the frame with its
 * first VLAN tag still in metadata, as the kernel shows it to tcpdump's live
 * filter; for raw-IP interfaces the packet from its network header.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "ebpf_exact.h"

/* capture.h's CAP_SNAP_MAX: the most bytes the tc program copies per packet. */
#define EXACT_SNAPLEN 262144

struct ebpf_exact {
	struct bpf_program eth, raw;
};

static int exact_compile_one(int dlt, const char *filter, struct bpf_program *prog, char *why,
			     size_t whylen)
{
	pcap_t *p = pcap_open_dead(dlt, EXACT_SNAPLEN);
	int err = 0;

	if (!p) {
		snprintf(why, whylen, "eBPF capture filter: cannot initialise libpcap");
		return -ENOMEM;
	}
	if (pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(why, whylen, "eBPF capture filter: %s", pcap_geterr(p));
		err = -EINVAL;
	}
	pcap_close(p);
	return err;
}

int ebpf_exact_compile(const char *filter, struct ebpf_exact **out, char *why, size_t whylen)
{
	struct ebpf_exact *x;
	int err;

	*out = NULL;
	if (!filter || !*filter)
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(why, whylen, "eBPF capture filter: out of memory");
		return -ENOMEM;
	}
	err = exact_compile_one(DLT_EN10MB, filter, &x->eth, why, whylen);
	if (!err) {
		err = exact_compile_one(DLT_RAW, filter, &x->raw, why, whylen);
		if (err)
			pcap_freecode(&x->eth);
	}
	if (err) {
		free(x);
		return err;
	}
	*out = x;
	return 0;
}

bool ebpf_exact_keeps(const struct ebpf_exact *x, bool raw_ip, const uint8_t *pkt, uint32_t caplen,
		      uint32_t wirelen)
{
	const struct bpf_program *prog = raw_ip ? &x->raw : &x->eth;

	return bpf_filter(prog->bf_insns, pkt, wirelen, caplen) != 0;
}

void ebpf_exact_free(struct ebpf_exact *x)
{
	if (!x)
		return;
	pcap_freecode(&x->eth);
	pcap_freecode(&x->raw);
	free(x);
}
