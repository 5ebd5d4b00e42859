// SPDX-License-Identifier: MIT
/*
 * kfilter.c - capd's kernel filter: one classic BPF program for sockets that
 * see every interface, meaning what the same expression means to tcpdump on
 * each interface.
 *
 * libpcap compiles an expression for one link type, but capd's sockets are
 * bound to no interface and see Ethernet frames and raw IP packets alike. So
 * the program dispatches on the interface type the kernel reports
 * (SKF_AD_HATYPE) to one libpcap program per link type capd records
 * (frame.h):
 *
 *	drop loopback's outgoing copy (libpcap drops it in user space),
 *	or every outgoing packet with --duplicates ingress
 *	A = hatype
 *	hatype in Ethernet types?  -> program for DLT_EN10MB
 *	hatype in raw-IP types?    -> program for DLT_RAW, loads made relative
 *	                              to the network header (SKF_NET_OFF)
 *	otherwise                  -> drop (a type capd does not record)
 *
 * The Ethernet program comes from a live libpcap handle on "lo", so it is
 * the very code tcpdump would attach: libpcap then generates its Linux
 * special cases, in particular "vlan" tests that read the tag the kernel
 * moved into packet metadata (SKF_AD_VLAN_TAG_PRESENT). Without that handle
 * (no CAP_NET_RAW) it falls back to pcap_open_dead(), whose "vlan" only sees
 * tags left in the frame. The raw-IP program is compiled offline: on those
 * interfaces libpcap uses no metadata. Its loads are rebased on the network
 * header because a tunnel with a link header (gre without a remote) shows
 * the outer header first on a raw socket, and capd records from the network
 * header (libpcap's cooked capture of such an interface holds the same bytes).
 *
 * A link type the expression cannot be compiled for is an error, never a
 * program that silently matches nothing: every type is required, unless
 * --interfaces names its interfaces (no "any", no pattern); then theirs are.
 */
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capd.h"
#include "frame.h"

struct kf_class {
	const char *what;
	int dlt;
	const uint16_t *hatypes;
	unsigned nhatypes;
	bool net_relative;
};

static const struct kf_class kf_classes[] = {
	{"Ethernet and loopback interfaces", DLT_EN10MB, capd_eth_hatypes, CAPD_N_ETH_HATYPES,
	 false},
	{"raw-IP interfaces (tun, wireguard, ipip, sit, gre, ppp)", DLT_RAW, capd_raw_hatypes,
	 CAPD_N_RAW_HATYPES, true},
};
#define KF_NCLASSES (sizeof(kf_classes) / sizeof(kf_classes[0]))

/*
 * Loopback hands every packet to packet sockets twice: once as it is sent
 * (PACKET_OUTGOING) and once as it is received (PACKET_HOST), byte for byte
 * the same. Drop the sent copy in the kernel, before it costs a copy, as
 * libpcap does in user space. Loopback is ifindex 1 in every namespace.
 */
static const struct sock_filter kf_prefix[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 3),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_HATYPE),
};

/*
 * --duplicates ingress: no packet as it is sent, on any interface. Sockets
 * also set PACKET_IGNORE_OUTGOING, but that is a property of a socket's own
 * hook: with --threads > 1 the kernel delivers through the fanout group's
 * hook, which does not have it, so the filter is what holds the policy.
 */
static const struct sock_filter kf_prefix_ingress[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_HATYPE),
};

struct kf_prefix {
	const struct sock_filter *insns;
	size_t len;
};

static struct kf_prefix kf_prefix_for(const struct capd_config *cfg)
{
	if (cfg->dup == CAPD_DUP_INGRESS)
		return (struct kf_prefix){kf_prefix_ingress,
					  sizeof(kf_prefix_ingress) / sizeof(kf_prefix_ingress[0])};
	return (struct kf_prefix){kf_prefix, sizeof(kf_prefix) / sizeof(kf_prefix[0])};
}

_Static_assert(sizeof(struct bpf_insn) == sizeof(struct sock_filter), "same insn layout");

/* The handle tcpdump would compile with, for its Linux code generation; NULL if unavailable. */
static pcap_t *kf_live_handle(uint32_t snaplen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_create("lo", errbuf);

	if (!p)
		return NULL;
	pcap_set_snaplen(p, (int)snaplen);
	pcap_set_immediate_mode(p, 1); /* a small ring: it lives for one compile */
	pcap_set_buffer_size(p, 1 << 16);
	if (pcap_activate(p) < 0 || pcap_datalink(p) != DLT_EN10MB) {
		pcap_close(p);
		return NULL;
	}
	return p;
}

/* Rebase packet loads on the network header; metadata loads stay as they are. */
static void kf_net_relative(struct bpf_insn *in, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned cls = BPF_CLASS(in[i].code), mode = BPF_MODE(in[i].code);

		if (((cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND)) ||
		     (cls == BPF_LDX && mode == BPF_MSH)) &&
		    in[i].k < (uint32_t)SKF_AD_OFF)
			in[i].k += (uint32_t)SKF_NET_OFF;
	}
}

static int kf_compile_class(const struct kf_class *k, const char *expr, uint32_t snaplen,
			    struct bpf_program *prog, char *err, size_t errlen)
{
	pcap_t *p = k->dlt == DLT_EN10MB ? kf_live_handle(snaplen) : NULL;
	int ret = 0;

	if (!p)
		p = pcap_open_dead(k->dlt, (int)snaplen);
	if (!p) {
		snprintf(err, errlen, "cannot initialise libpcap");
		return -ENOMEM;
	}
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		ret = -EINVAL;
	} else if (k->net_relative) {
		kf_net_relative(prog->bf_insns, prog->bf_len);
	}
	pcap_close(p);
	return ret;
}

/* Which classes the program must serve: all, or those of the interfaces named. */
static bool kf_required(const struct capd_config *cfg, bool need[KF_NCLASSES])
{
	bool all = false;

	memset(need, 0, KF_NCLASSES * sizeof(need[0]));
	for (unsigned i = 0; i < cfg->n_ifaces && !all; i++) {
		int arphrd = strcmp(cfg->ifaces[i], "any") && !capd_iface_is_pattern(cfg->ifaces[i])
				     ? capd_iface_arphrd(cfg->ifaces[i])
				     : -1;

		all = arphrd < 0; /* any, a pattern, or a name we cannot look up */
		for (unsigned c = 0; c < KF_NCLASSES && !all; c++)
			for (unsigned h = 0; h < kf_classes[c].nhatypes; h++)
				need[c] |= kf_classes[c].hatypes[h] == arphrd;
	}
	for (unsigned c = 0; c < KF_NCLASSES && all; c++)
		need[c] = true;
	return all;
}

/* Lay out prefix, dispatch and the class programs into out. */
static int kf_link(struct kf_prefix prefix, struct bpf_program progs[KF_NCLASSES],
		   const bool have[KF_NCLASSES], struct sock_fprog *out)
{
	size_t len = prefix.len + 1, at;
	struct sock_filter *f;
	uint32_t target;

	for (unsigned c = 0; c < KF_NCLASSES; c++)
		if (have[c])
			len += 2 * kf_classes[c].nhatypes + progs[c].bf_len;
	if (len > BPF_MAXINSNS)
		return -E2BIG;
	f = malloc(len * sizeof(*f));
	if (!f)
		return -ENOMEM;
	memcpy(f, prefix.insns, prefix.len * sizeof(*f));
	at = prefix.len;
	target = (uint32_t)len;
	for (unsigned c = KF_NCLASSES; c-- > 0;)
		if (have[c])
			target -= progs[c].bf_len;
	/* target: where the first class program starts; each jeq falls into a ja. */
	for (unsigned c = 0; c < KF_NCLASSES; c++) {
		if (!have[c])
			continue;
		for (unsigned h = 0; h < kf_classes[c].nhatypes; h++) {
			f[at] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							     kf_classes[c].hatypes[h], 0, 1);
			f[at + 1] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA,
								 target - (uint32_t)(at + 2));
			at += 2;
		}
		target += progs[c].bf_len;
	}
	f[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	for (unsigned c = 0; c < KF_NCLASSES; c++) {
		if (!have[c])
			continue;
		memcpy(f + at, progs[c].bf_insns, progs[c].bf_len * sizeof(*f));
		at += progs[c].bf_len;
	}
	out->len = (unsigned short)len;
	out->filter = f;
	return 0;
}

int capd_filter_compile(const struct capd_config *cfg, struct sock_fprog *out, char *err,
			size_t errlen)
{
	struct bpf_program progs[KF_NCLASSES];
	bool need[KF_NCLASSES], have[KF_NCLASSES] = {0}, all = kf_required(cfg, need);
	int ret = 0;

	for (unsigned c = 0; c < KF_NCLASSES && !ret; c++) {
		char msg[PCAP_ERRBUF_SIZE];

		if (!kf_compile_class(&kf_classes[c], cfg->filter, cfg->snaplen, &progs[c], msg,
				      sizeof(msg))) {
			have[c] = true;
		} else if (need[c]) {
			snprintf(err, errlen, "%s on %s%s", msg, kf_classes[c].what,
				 all ? " (with \"any\" or a pattern, capd captures every link "
				       "type: name the interfaces)"
				     : "");
			ret = -EINVAL;
		}
	}
	if (!ret) {
		ret = kf_link(kf_prefix_for(cfg), progs, have, out);
		if (ret == -E2BIG)
			snprintf(err, errlen, "the compiled filter exceeds %d instructions",
				 BPF_MAXINSNS);
		else if (ret)
			snprintf(err, errlen, "out of memory");
	}
	for (unsigned c = 0; c < KF_NCLASSES; c++)
		if (have[c])
			pcap_freecode(&progs[c]);
	return ret;
}
