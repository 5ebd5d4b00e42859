// SPDX-License-Identifier: MIT
/*
 * fuzz_filter.c - libFuzzer target for readers' filters over packet bytes
 * (lib/filter.c, lib/bpf_run.c): the bytes of a record are untrusted (a
 * ring or snapshot anyone could have written). Input: one byte choosing the
 * expression, one of flags (link type raw IP, VLAN stripped, outgoing), then
 * the packet. Beyond "no crash, no UB", libpcap's own interpreter is the
 * oracle: with no metadata in play the answer must equal
 * pcap_offline_filter()'s.
 *
 * Its corpus replay build links tests/fuzz/replay.c instead of libFuzzer
 * (ctest: fuzz_filter_corpus); scripts/fuzz.sh runs the libFuzzer build.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/filter.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const exprs[] = {
	"udp port 53",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
	"ip[6:2] & 0x1fff != 0 or ip6[6] == 44",
	"udp[8:4] == 0x12345678 and len > 100",
	"ip6 and tcp dst port 443",
	"net 198.18.0.0/15 and portrange 7000-7200",
	"icmp or icmp6",
	"ip[0] & 0xf > 5",
	"greater 1000 or less 60",
	"vlan 100 and udp",
	"not vlan and tcp",
	"inbound and udp",
	"ip proto 47 or ip6 proto 41",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
};
#define NEXPRS (sizeof(exprs) / sizeof(exprs[0]))

struct compiled {
	struct rawcap_filter *f;
	struct bpf_program prog[2]; /* Ethernet, raw IP */
	bool ok[2], oracle;	    /* oracle: libpcap can answer without metadata */
};

static struct compiled *compiled(unsigned i)
{
	static struct compiled c[NEXPRS];
	static const int dlt[2] = {DLT_EN10MB, DLT_RAW};

	if (c[i].f)
		return &c[i];
	if (rawcap_filter_new(exprs[i], &c[i].f, NULL, 0))
		abort();
	c[i].oracle = !strstr(exprs[i], "inbound"); /* the direction is metadata */
	for (int k = 0; k < 2; k++) {
		pcap_t *p = pcap_open_dead(dlt[k], 262144);

		c[i].ok[k] = !pcap_compile(p, &c[i].prog[k], exprs[i], 1, PCAP_NETMASK_UNKNOWN);
		pcap_close(p);
	}
	return &c[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rawcap_pkt pkt = {.ifindex = 2};
	struct compiled *c;
	int raw, got;

	if (size < 2)
		return 0;
	c = compiled(data[0] % NEXPRS);
	raw = data[1] & 1;
	pkt.linktype = raw ? 101 : 1;
	pkt.dir = data[1] & 4 ? 4 : 0;
	if (data[1] & 2) {
		pkt.pkt_flags = RAWCAP_PKT_VLAN;
		pkt.vlan_tci = 100;
		pkt.vlan_tpid = 0x8100;
	}
	data += 2;
	size -= 2;
	pkt.orig_len = (uint32_t)size + (data[-1] & 8 ? 100 : 0);
	got = rawcap_filter_match(c->f, &pkt, data, (uint32_t)size, NULL, 0);
	if (got < 0 ? c->ok[raw] : !c->ok[raw] || got > 1)
		abort(); /* an error exactly when libpcap cannot compile it */
	if (got >= 0 && c->oracle && !(data[-1] & 2)) {
		struct pcap_pkthdr h = {.caplen = (uint32_t)size, .len = pkt.orig_len};

		if (got != (pcap_offline_filter(&c->prog[raw], &h, data) != 0))
			abort();
	}
	return 0;
}
