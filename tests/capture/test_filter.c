// SPDX-License-Identifier: MIT
/*
 * test_filter.c - readers' filters (lib/filter.c, lib/bpf_run.c) against
 * libpcap itself: for every expression and packet without capture metadata
 * the answer is pcap_offline_filter()'s; link types are compiled with their
 * DLT_ values (raw IP is LINKTYPE_RAW 101 but DLT_RAW 12); an expression
 * that cannot apply to a link type is an error, not a non-match; the
 * direction answers inbound/outbound; a frame whose tag the kernel had
 * stripped is filtered as live tcpdump filters it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rawcap/filter.h>

struct pkt {
	const char *what;
	uint16_t linktype;
	uint8_t data[256];
	uint32_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 (v6 = 0) or IPv6 packet at p: proto, ports, frag offset; returns its length. */
static uint32_t ip_pkt(uint8_t *p, int v6, uint8_t proto, uint16_t sport, uint16_t dport,
		       uint16_t frag)
{
	uint32_t hl = v6 ? 40 : 20, l4 = 20;

	memset(p, 0, hl + l4);
	if (v6) {
		p[0] = 0x60;
		put16(p + 4, (uint16_t)l4);
		p[6] = proto;
		p[7] = 64;
		p[8] = 0x20; /* 2001:db8::/32 is for documentation */
		p[9] = 0x01;
		p[10] = 0x0d;
		p[11] = 0xb8;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		put16(p + 2, (uint16_t)(hl + l4));
		put16(p + 6, frag);
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, (uint8_t[]){198, 18, 150, 1}, 4);
		memcpy(p + 16, (uint8_t[]){198, 18, 150, 2}, 4);
	}
	put16(p + hl, sport);
	put16(p + hl + 2, dport);
	return hl + l4;
}

static uint32_t eth(uint8_t *p, uint16_t type, const uint16_t *vid)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	uint32_t n = 12;

	memcpy(p, macs, 12);
	if (vid) {
		put16(p + 12, 0x8100);
		put16(p + 14, *vid);
		n = 16;
	}
	put16(p + n, type);
	return n + 2;
}

static struct pkt pkts[16];
static unsigned npkts;

static void add_ip(const char *what, uint16_t linktype, const uint16_t *vid, int v6, uint8_t proto,
		   uint16_t sport, uint16_t dport, uint16_t frag)
{
	struct pkt *k = &pkts[npkts++];
	uint32_t h = 0;

	k->what = what;
	k->linktype = linktype;
	if (linktype == 1)
		h = eth(k->data, v6 ? 0x86dd : 0x0800, vid);
	k->len = h + ip_pkt(k->data + h, v6, proto, sport, dport, frag);
}

static int setup(void **state)
{
	static const uint16_t vid100 = 100;
	struct pkt *arp;

	(void)state;
	add_ip("eth udp", 1, NULL, 0, 17, 40000, 7102, 0);
	add_ip("eth tcp", 1, NULL, 0, 6, 7102, 443, 0);
	add_ip("eth udp6", 1, NULL, 1, 17, 53, 7102, 0);
	add_ip("eth fragment", 1, NULL, 0, 17, 0, 0, 185);
	add_ip("eth icmp", 1, NULL, 0, 1, 0x0800, 0, 0);
	add_ip("eth vlan 100 udp", 1, &vid100, 0, 17, 40000, 7102, 0);
	add_ip("raw udp", 101, NULL, 0, 17, 40000, 7102, 0);
	add_ip("raw tcp6", 101, NULL, 1, 6, 80, 7103, 0);
	add_ip("raw fragment", 101, NULL, 0, 6, 0, 0, 1);
	arp = &pkts[npkts++];
	arp->what = "eth arp";
	arp->linktype = 1;
	arp->len = eth(arp->data, 0x0806, NULL) + 28;
	return 0;
}

static const char *const exprs[] = {
	"udp",
	"tcp",
	"ip",
	"ip6",
	"arp",
	"udp port 7102",
	"port 7102 or port 443",
	"tcp dst port 443",
	"host 198.18.150.2",
	"net 198.18.0.0/15",
	"ip[6:2] & 0x1fff != 0",
	"udp[2:2] = 7102",
	"ip6 and udp",
	"icmp",
	"greater 60",
	"less 60",
	"not udp",
	"portrange 7000-7200",
	"proto 17",
};

/* The answer libpcap gives for a packet without metadata, for its link type. */
static int pcap_answer(const char *expr, const struct pkt *k)
{
	pcap_t *p = pcap_open_dead(k->linktype == 101 ? DLT_RAW : k->linktype, 262144);
	struct pcap_pkthdr h = {.caplen = k->len, .len = k->len};
	struct bpf_program prog;
	int r;

	assert_non_null(p);
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		pcap_close(p);
		return -1;
	}
	r = pcap_offline_filter(&prog, &h, k->data) != 0;
	pcap_freecode(&prog);
	pcap_close(p);
	return r;
}

static int match(struct rawcap_filter *f, const struct pkt *k, uint8_t dir, bool stripped)
{
	struct rawcap_pkt rp = {
		.ifindex = 3, .orig_len = k->len, .linktype = k->linktype, .dir = dir};

	if (stripped) {
		rp.pkt_flags = RAWCAP_PKT_VLAN;
		rp.vlan_tci = 100;
		rp.vlan_tpid = 0x8100;
	}
	return rawcap_filter_match(f, &rp, k->data, k->len, NULL, 0);
}

static void test_same_as_libpcap(void **state)
{
	unsigned checked = 0;

	(void)state;
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		struct rawcap_filter *f;
		char err[256];

		assert_int_equal(rawcap_filter_new(exprs[e], &f, err, sizeof(err)), 0);
		for (unsigned i = 0; i < npkts; i++) {
			int want = pcap_answer(exprs[e], &pkts[i]);

			if (want < 0) {
				assert_int_equal(match(f, &pkts[i], 0, false), -EINVAL);
				continue;
			}
			if (want != match(f, &pkts[i], 0, false))
				fail_msg("'%s' on %s: libpcap says %d", exprs[e], pkts[i].what,
					 want);
			checked++;
		}
		rawcap_filter_free(f);
	}
	assert_true(checked > 150);
}

static void test_raw_ip_is_dlt_raw(void **state)
{
	struct rawcap_filter *f;

	(void)state;
	assert_int_equal(rawcap_filter_new("udp port 7102", &f, NULL, 0), 0);
	assert_int_equal(match(f, &pkts[6], 0, false), 1); /* raw udp */
	assert_int_equal(match(f, &pkts[7], 0, false), 0); /* raw tcp6 */
	rawcap_filter_free(f);
}

static void test_cannot_apply_is_an_error(void **state)
{
	struct rawcap_pkt rp = {.orig_len = pkts[6].len, .linktype = pkts[6].linktype};
	struct rawcap_filter *f;
	char why[320] = "";

	(void)state;
	assert_int_equal(rawcap_filter_new("ether src 02:00:00:00:00:01", &f, NULL, 0), 0);
	assert_int_equal(match(f, &pkts[0], 0, false), 1);
	assert_int_equal(match(f, &pkts[6], 0, false), -EINVAL);
	assert_int_equal(rawcap_filter_match(f, &rp, pkts[6].data, pkts[6].len, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "link type 101"));
	rawcap_filter_free(f);
}

static void test_direction(void **state)
{
	struct rawcap_filter *in, *out;

	(void)state;
	assert_int_equal(rawcap_filter_new("inbound", &in, NULL, 0), 0);
	assert_int_equal(rawcap_filter_new("outbound", &out, NULL, 0), 0);
	assert_int_equal(match(in, &pkts[0], 0 /* PACKET_HOST */, false), 1);
	assert_int_equal(match(in, &pkts[0], 4 /* PACKET_OUTGOING */, false), 0);
	assert_int_equal(match(out, &pkts[0], 4, false), 1);
	assert_int_equal(match(out, &pkts[0], 0, false), 0);
	rawcap_filter_free(in);
	rawcap_filter_free(out);
}

/* tcpdump filters a frame whose tag the kernel stripped before the tag is back. */
static void test_stripped_vlan_tag(void **state)
{
	static const struct {
		const char *expr;
		int stripped, inband;
	} cases[] = {
		{"udp port 7102", 1, 0},
		{"vlan 100", 1, 1},
		{"vlan 200", 0, 0},
		{"vlan", 1, 1},
		{"not vlan", 0, 0},
		{"vlan 100 and udp port 7102", 1, 1},
		{"vlan and host 198.18.150.2", 1, 1},
		{"udp", 1, 0},
	};
	const struct pkt *tagged = &pkts[5];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rawcap_filter *f;

		assert_int_equal(rawcap_filter_new(cases[i].expr, &f, NULL, 0), 0);
		if (match(f, tagged, 0, true) != cases[i].stripped)
			fail_msg("'%s' on a frame whose tag was stripped", cases[i].expr);
		if (match(f, tagged, 0, false) != cases[i].inband)
			fail_msg("'%s' on a frame tagged on the wire", cases[i].expr);
		rawcap_filter_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_libpcap),
		cmocka_unit_test(test_raw_ip_is_dlt_raw),
		cmocka_unit_test(test_cannot_apply_is_an_error),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_stripped_vlan_tag),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
