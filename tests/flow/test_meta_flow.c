// SPDX-License-Identifier: MIT
/*
 * test_meta_flow.c - process context in packet comments: the flow table fed
 * by process records (both directions, both ends, time with skew, unbound
 * UDP, eviction when full, hostile records) and the transport ports that
 * rawcap_pkt_flow() reads from untrusted packet bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include <rawcap/meta.h>

#include "meta_flow.h"

#define S   1000000000ull
#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void pk_s(msgpack_packer *p, const char *s)
{
	msgpack_pack_str_with_body(p, s, strlen(s));
}

static void pk_kv(msgpack_packer *p, const char *k, const char *v)
{
	pk_s(p, k);
	pk_s(p, v);
}

static void pk_ku(msgpack_packer *p, const char *k, uint64_t v)
{
	pk_s(p, k);
	msgpack_pack_uint64(p, v);
}

struct prec {
	const char *event, *proto, *saddr, *daddr, *comm, *cid;
	unsigned family, sport, dport, pid;
};

/* A process record as capd's proc_meta.c writes it (docs/METADATA.md). */
static void pack_proc(msgpack_sbuffer *sb, const struct prec *r)
{
	msgpack_packer p;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&p, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&p, 7 + (r->daddr ? 4 : 0) + (r->cid ? 2 : 0) + 1);
	pk_ku(&p, "v", 1);
	pk_kv(&p, "kind", "process");
	pk_kv(&p, "event", r->event);
	pk_kv(&p, "proto", r->proto);
	pk_ku(&p, "family", r->family ? r->family : 4);
	if (r->daddr) {
		pk_kv(&p, "saddr", r->saddr);
		pk_ku(&p, "sport", r->sport);
		pk_kv(&p, "daddr", r->daddr);
		pk_ku(&p, "dport", r->dport);
	}
	pk_ku(&p, "pid", r->pid);
	pk_kv(&p, "comm", r->comm);
	pk_ku(&p, "cookie", 4118);
	if (r->cid) {
		pk_kv(&p, "container_id", r->cid);
		pk_kv(&p, "runtime", "containerd");
	}
}

static int feed(struct rawcap_meta_index *ix, uint64_t t, const struct prec *r)
{
	msgpack_sbuffer sb;
	int err;

	pack_proc(&sb, r);
	err = rawcap_meta_index_add(ix, RAWCAP_META_PROCESS, t, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return err;
}

static int feed_ft(struct meta_flow *ft, uint64_t t, const struct prec *r)
{
	msgpack_sbuffer sb;
	int err;

	pack_proc(&sb, r);
	err = meta_flow_add(ft, t, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return err;
}

struct pktbuf {
	struct rawcap_rec rec;
	uint8_t b[256];
};

/* Ethernet + IPv4 or IPv6 + a TCP or UDP header, caplen bytes of it captured (0: all). */
static struct rawcap_rec *mkpkt(struct pktbuf *pb, uint8_t proto, const char *src, uint16_t sport,
				const char *dst, uint16_t dport, uint64_t t, uint32_t caplen)
{
	struct rawcap_pkt *p = (struct rawcap_pkt *)pb->b;
	uint8_t *d = pb->b + sizeof(*p), *l4;
	bool v6 = strchr(src, ':') != NULL;
	uint32_t len = 14 + (v6 ? 40 : 20) + 20;

	memset(pb, 0, sizeof(*pb));
	p->linktype = 1;
	p->orig_len = len;
	d[12] = v6 ? 0x86 : 0x08;
	d[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		d[14] = 0x60;
		d[14 + 6] = proto;
		inet_pton(AF_INET6, src, d + 14 + 8);
		inet_pton(AF_INET6, dst, d + 14 + 24);
		l4 = d + 54;
	} else {
		d[14] = 0x45;
		d[14 + 9] = proto;
		inet_pton(AF_INET, src, d + 14 + 12);
		inet_pton(AF_INET, dst, d + 14 + 16);
		l4 = d + 34;
	}
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	pb->rec.type = RAWCAP_REC_PACKET;
	pb->rec.ts_ns = t;
	pb->rec.len = (uint32_t)sizeof(*p) + (caplen ? caplen : len);
	pb->rec.payload = pb->b;
	return &pb->rec;
}

static const char *comment(struct rawcap_meta_index *ix, const struct rawcap_rec *rec)
{
	static char c[256];

	assert_true(rawcap_meta_pkt_comment(ix, rec, c, sizeof(c)) >= 0);
	return c;
}

/* A record: event, protocol, local end, remote end, pid, comm, container id. */
#define PREC(ev, pr, sa, sp, da, dp, pid_, comm_, cid_)                                            \
	{                                                                                          \
		.event = ev, .proto = pr, .saddr = sa, .sport = sp, .daddr = da, .dport = dp,      \
		.pid = pid_, .comm = comm_, .cid = cid_                                            \
	}

static const struct prec cli =
	PREC("connect", "tcp", "198.18.49.1", 51476, "198.18.49.2", 7001, 4720, "curl", CID);
static const struct prec srv =
	PREC("accept", "tcp", "198.18.49.2", 7001, "198.18.49.1", 51476, 900, "nginx", NULL);

static void should_name_the_local_process_in_both_directions(void **state)
{
	struct rawcap_meta_index *ix;
	struct pktbuf pb;

	(void)state;
	assert_int_equal(rawcap_meta_index_new(&ix), 0);
	assert_int_equal(feed(ix, 100 * S, &cli), 0);
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 101 * S, 0)),
			    "pid=4720 comm=curl container=0123456789ab");
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.2", 7001, "198.18.49.1",
					      51476, 101 * S, 0)),
			    "pid=4720 comm=curl container=0123456789ab");
	/* another port, another protocol, or ports not captured: not this flow */
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51477, "198.18.49.2",
					      7001, 101 * S, 0)),
			    "");
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_UDP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 101 * S, 0)),
			    "");
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 101 * S, 14 + 20 + 3)),
			    "");
	rawcap_meta_index_free(ix);
}

static void should_name_both_ends_of_a_flow_between_local_processes(void **state)
{
	struct rawcap_meta_index *ix;
	struct pktbuf pb;

	(void)state;
	assert_int_equal(rawcap_meta_index_new(&ix), 0);
	assert_int_equal(feed(ix, 100 * S, &cli), 0);
	assert_int_equal(feed(ix, 100 * S, &srv), 0);
	assert_string_equal(
		comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2", 7001,
				  101 * S, 0)),
		"src pid=4720 comm=curl container=0123456789ab; dst pid=900 comm=nginx");
	assert_string_equal(
		comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.2", 7001, "198.18.49.1", 51476,
				  101 * S, 0)),
		"src pid=900 comm=nginx; dst pid=4720 comm=curl container=0123456789ab");
	rawcap_meta_index_free(ix);
}

static void should_apply_a_record_from_its_time_less_one_second(void **state)
{
	struct rawcap_meta_index *ix;
	struct pktbuf pb;

	(void)state;
	assert_int_equal(rawcap_meta_index_new(&ix), 0);
	assert_int_equal(feed(ix, 100 * S, &cli), 0);
	/* the SYN went out before connect() returned */
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 100 * S - S / 2, 0)),
			    "pid=4720 comm=curl container=0123456789ab");
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 98 * S, 0)),
			    "");
	/* the same process again later keeps its start */
	assert_int_equal(feed(ix, 200 * S, &cli), 0);
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 150 * S, 0)),
			    "pid=4720 comm=curl container=0123456789ab");
	rawcap_meta_index_free(ix);
}

static void should_not_give_a_reused_tuple_to_its_earlier_packets(void **state)
{
	struct prec next = cli;
	struct rawcap_meta_index *ix;
	struct pktbuf pb;

	(void)state;
	next.pid = 5555;
	next.comm = "wget";
	next.cid = NULL;
	assert_int_equal(rawcap_meta_index_new(&ix), 0);
	assert_int_equal(feed(ix, 100 * S, &cli), 0);
	assert_int_equal(feed(ix, 300 * S, &next), 0);
	assert_int_equal(feed(ix, 200 * S, &cli), 0); /* late report of the old owner: ignored */
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 301 * S, 0)),
			    "pid=5555 comm=wget");
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2",
					      7001, 250 * S, 0)),
			    "");
	rawcap_meta_index_free(ix);
}

static void should_match_udp_sockets_with_unbound_local_addresses(void **state)
{
	const struct prec send =
		PREC("udp_send", "udp", "0.0.0.0", 40000, "198.18.49.2", 53, 77, "dig", NULL);
	const struct prec recv =
		PREC("udp_recv", "udp", "0.0.0.0", 53, "198.18.49.1", 40000, 88, "named", NULL);
	struct prec v6 = PREC("connect", "udp", "::ffff:198.18.49.1", 40001, "::ffff:198.18.49.2",
			      53, 99, "dual", NULL);
	struct rawcap_meta_index *ix;
	struct pktbuf pb;

	(void)state;
	v6.family = 6;
	assert_int_equal(rawcap_meta_index_new(&ix), 0);
	assert_int_equal(feed(ix, 100 * S, &send), 0);
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_UDP, "198.18.49.1", 40000, "198.18.49.2",
					      53, 100 * S, 0)),
			    "pid=77 comm=dig");
	assert_int_equal(feed(ix, 100 * S, &recv), 0);
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_UDP, "198.18.49.1", 40000, "198.18.49.2",
					      53, 100 * S, 0)),
			    "src pid=77 comm=dig; dst pid=88 comm=named");
	/* a dual-stack socket's IPv4-mapped addresses name IPv4 packets */
	assert_int_equal(feed(ix, 100 * S, &v6), 0);
	assert_string_equal(comment(ix, mkpkt(&pb, IPPROTO_UDP, "198.18.49.2", 53, "198.18.49.1",
					      40001, 100 * S, 0)),
			    "pid=99 comm=dual");
	rawcap_meta_index_free(ix);
}

static void should_follow_a_pod_comment_and_report_no_space(void **state)
{
	struct rawcap_meta_index *ix;
	msgpack_sbuffer sb;
	msgpack_packer p;
	struct pktbuf pb;
	char c[40];

	(void)state;
	assert_int_equal(rawcap_meta_index_new(&ix), 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&p, 7);
	pk_kv(&p, "kind", "pod");
	pk_kv(&p, "event", "added");
	pk_kv(&p, "uid", "u1");
	pk_kv(&p, "namespace", "ns");
	pk_kv(&p, "name", "web");
	pk_kv(&p, "phase", "Running");
	pk_s(&p, "ips");
	msgpack_pack_array(&p, 1);
	pk_s(&p, "198.18.49.1");
	assert_int_equal(rawcap_meta_index_add(ix, RAWCAP_META_POD, 90 * S, sb.data, sb.size), 0);
	msgpack_sbuffer_destroy(&sb);
	assert_int_equal(feed(ix, 100 * S, &cli), 0);
	mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 51476, "198.18.49.2", 7001, 101 * S, 0);
	assert_string_equal(comment(ix, &pb.rec),
			    "src pod ns/web; pid=4720 comm=curl container=0123456789ab");
	assert_int_equal(rawcap_meta_pkt_comment(ix, &pb.rec, c, sizeof(c)), -ENOSPC);
	assert_string_equal(c, "");
	rawcap_meta_index_free(ix);
}

static void should_forget_the_least_recently_reported_socket_when_full(void **state)
{
	struct meta_flow_stats st;
	struct meta_flow *ft;
	struct prec r = cli;
	uint8_t l[16] = {198, 18, 49, 1}, rm[16] = {198, 18, 49, 2};

	(void)state;
	assert_int_equal(meta_flow_new(&ft, 4), 0);
	for (unsigned i = 0; i < 4; i++) {
		r.sport = 1000 + i;
		r.pid = 10 + i;
		assert_int_equal(feed_ft(ft, (100 + i) * S, &r), 0);
	}
	r.sport = 1000; /* reported again: now the youngest */
	r.pid = 10;
	assert_int_equal(feed_ft(ft, 110 * S, &r), 0);
	r.sport = 1004;
	r.pid = 14;
	assert_int_equal(feed_ft(ft, 111 * S, &r), 0); /* evicts 1001 */
	assert_non_null(meta_flow_find(ft, AF_INET, IPPROTO_TCP, l, 1000, rm, 7001, 120 * S));
	assert_null(meta_flow_find(ft, AF_INET, IPPROTO_TCP, l, 1001, rm, 7001, 120 * S));
	for (unsigned port = 1002; port <= 1004; port++) {
		const struct meta_flow_proc *p = meta_flow_find(ft, AF_INET, IPPROTO_TCP, l,
								(uint16_t)port, rm, 7001, 120 * S);

		assert_non_null(p);
		assert_int_equal(p->pid, port - 990);
	}
	/* many more: memory stays bounded, the newest are kept */
	for (unsigned i = 0; i < 1000; i++) {
		r.sport = (uint16_t)(2000 + i);
		assert_int_equal(feed_ft(ft, (200 + i) * S, &r), 0);
	}
	meta_flow_stats(ft, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evicted, 1001);
	assert_non_null(meta_flow_find(ft, AF_INET, IPPROTO_TCP, l, 2999, rm, 7001, 2000 * S));
	assert_null(meta_flow_find(ft, AF_INET, IPPROTO_TCP, l, 2995, rm, 7001, 2000 * S));
	meta_flow_free(ft);
}

static void should_refuse_bad_records_and_clean_hostile_strings(void **state)
{
	const struct prec create = PREC("create", "tcp", NULL, 0, NULL, 0, 1, "curl", NULL);
	struct prec r = cli;
	struct meta_flow_stats st;
	struct meta_flow *ft;
	const struct meta_flow_proc *p;
	uint8_t l[16] = {198, 18, 49, 1}, rm[16] = {198, 18, 49, 2};

	(void)state;
	assert_int_equal(meta_flow_new(&ft, 0), 0);
	assert_int_equal(feed_ft(ft, S, &create), 0);
	assert_int_equal(meta_flow_add(ft, S, "\xc1", 1), -EBADMSG);
	assert_int_equal(meta_flow_add(ft, S, "\x01", 1), -EBADMSG); /* not a map */
	r.sport = 70000;
	assert_int_equal(feed_ft(ft, S, &r), -EBADMSG);
	r = cli;
	r.family = 5;
	assert_int_equal(feed_ft(ft, S, &r), -EBADMSG);
	r = cli;
	r.saddr = "198.18.49.1; pid=1";
	assert_int_equal(feed_ft(ft, S, &r), -EBADMSG);
	r = cli;
	r.proto = "sctp";
	assert_int_equal(feed_ft(ft, S, &r), -EBADMSG);
	r = cli;
	r.comm = "a b;c=d\n\x7f";
	r.cid = "0123456789ab; pid=1";
	assert_int_equal(feed_ft(ft, S, &r), 0);
	p = meta_flow_find(ft, AF_INET, IPPROTO_TCP, l, 51476, rm, 7001, 2 * S);
	assert_non_null(p);
	assert_string_equal(p->comm, "a?b?c?d??");
	assert_string_equal(p->container, "");
	meta_flow_stats(ft, &st);
	assert_int_equal(st.records, 8);
	assert_int_equal(st.no_tuple, 1);
	assert_int_equal(st.bad, 6);
	assert_int_equal(st.flows, 1);
	meta_flow_free(ft);
}

/* rawcap_pkt_flow on IPv6 with an extension header, fragments and short captures. */
static void should_read_ports_only_where_the_packet_has_them(void **state)
{
	struct rawcap_pkt_flow f;
	struct pktbuf pb;
	uint8_t *ip = pb.b + sizeof(struct rawcap_pkt) + 14;

	(void)state;
	mkpkt(&pb, IPPROTO_UDP, "2001:db8::1", 5353, "2001:db8::2", 53, S, 0);
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET6);
	assert_true(f.ports);
	assert_int_equal(f.proto, IPPROTO_UDP);
	assert_int_equal(f.sport, 5353);
	assert_int_equal(f.dport, 53);
	/* a hop-by-hop header before UDP: move the UDP header 8 bytes on */
	memmove(ip + 48, ip + 40, 8);
	memset(ip + 40, 0, 8);
	ip[40] = IPPROTO_UDP;
	ip[6] = 0;
	pb.rec.len += 8;
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET6);
	assert_true(f.ports);
	assert_int_equal(f.sport, 5353);
	/* its length pointing past the capture */
	ip[41] = 200;
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET6);
	assert_false(f.ports);
	/* a later IPv6 fragment has no transport header */
	ip[6] = 44;
	ip[41] = 0;
	ip[42] = 0x01;
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET6);
	assert_false(f.ports);
	/* IPv4: later fragment, bad header length, header cut short */
	mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 1, "198.18.49.2", 2, S, 0);
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET);
	assert_true(f.ports);
	assert_int_equal(f.dport, 2);
	ip[7] = 0x10;
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET);
	assert_false(f.ports);
	assert_int_equal(f.proto, IPPROTO_TCP);
	ip[7] = 0;
	ip[0] = 0x44;
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET);
	assert_false(f.ports);
	ip[0] = 0x4f; /* 60-byte header: longer than the capture */
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), AF_INET);
	assert_false(f.ports);
	mkpkt(&pb, IPPROTO_TCP, "198.18.49.1", 1, "198.18.49.2", 2, S, 14 + 19);
	assert_int_equal(rawcap_pkt_flow(&pb.rec, &f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_name_the_local_process_in_both_directions),
		cmocka_unit_test(should_name_both_ends_of_a_flow_between_local_processes),
		cmocka_unit_test(should_apply_a_record_from_its_time_less_one_second),
		cmocka_unit_test(should_not_give_a_reused_tuple_to_its_earlier_packets),
		cmocka_unit_test(should_match_udp_sockets_with_unbound_local_addresses),
		cmocka_unit_test(should_follow_a_pod_comment_and_report_no_space),
		cmocka_unit_test(should_forget_the_least_recently_reported_socket_when_full),
		cmocka_unit_test(should_refuse_bad_records_and_clean_hostile_strings),
		cmocka_unit_test(should_read_ports_only_where_the_packet_has_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
