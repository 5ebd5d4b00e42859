// SPDX-License-Identifier: MIT
/*
 * test_merge.c - the k-way merge as a unit: timestamp order with ties in
 * node order, interfaces named per node, each node's loss kept, a cut or
 * failed node named while the rest is merged, memory that does not grow
 * with the window, one link type per file by default (LINUX_SLL when nodes
 * differ, in pcapng and classic pcap) and each interface's own on request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "blocks.h"
#include "merge.h"
#include "pcapng_read.h"

static const uint8_t eth[64] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45};
static const uint8_t rawip[40] = {0x45, 0, 0, 40};

struct out_pkt {
	uint64_t ts;
	char iface[64];
	uint32_t caplen;
	uint64_t drops;
	uint8_t first;
};

struct out {
	struct out_pkt pkt[64];
	unsigned npkt;
	char names[8][96], descs[8][160];
	uint16_t linktype[8];
	unsigned nif;
	char shb_comment[512];
	uint64_t isb_drop[8];
};

/* Feed each stream in chunks of `chunk` bytes, honouring the merge's back-pressure. */
static int feed_all(struct merge *m, struct merge_in **in, struct blk **s, const bool *cut,
		    size_t n, size_t chunk)
{
	size_t off[8] = {0};
	int rc = 0;

	while (rc == 0) {
		for (size_t i = 0; i < n; i++) {
			size_t k = s[i]->len - off[i] < chunk ? s[i]->len - off[i] : chunk;

			if (!merge_wants(in[i]))
				continue;
			if (!k) {
				merge_end(in[i], cut && cut[i] ? "connection reset" : NULL);
				continue;
			}
			if (merge_feed(in[i], s[i]->buf + off[i], k) == 0)
				off[i] += k;
		}
		rc = merge_run(m, NULL);
	}
	return rc;
}

/* Parse a merged pcapng with the reader itself (tested on its own). */
static void read_out(int fd, struct out *o)
{
	static uint8_t buf[1 << 20];
	off_t end = lseek(fd, 0, SEEK_END);
	struct pcapng_rd *r;
	struct pcapng_ev ev;

	memset(o, 0, sizeof(*o));
	assert_true(end > 0 && end < (off_t)sizeof(buf));
	assert_int_equal(pread(fd, buf, (size_t)end, 0), end);
	/* the section header's comment: the first option of the first block */
	if (buf[24] == 1 && buf[25] == 0)
		snprintf(o->shb_comment, sizeof(o->shb_comment), "%.*s", buf[26] | buf[27] << 8,
			 (const char *)buf + 28);
	assert_int_equal(pcapng_rd_new(&r), 0);
	assert_int_equal(pcapng_rd_feed(r, buf, (size_t)end), 0);
	while (pcapng_rd_next(r, &ev) > 0) {
		if (ev.type == PCAPNG_EV_IFACE && o->nif < 8) {
			snprintf(o->names[o->nif], 96, "%s", ev.iface->name);
			snprintf(o->descs[o->nif], 160, "%s", ev.iface->desc);
			o->linktype[o->nif] = ev.iface->linktype;
			o->nif++;
		}
		if (ev.type == PCAPNG_EV_PACKET && o->npkt < 64) {
			struct out_pkt *p = &o->pkt[o->npkt++];

			p->ts = ev.ts_ns;
			memcpy(p->iface, o->names[ev.if_id], sizeof(p->iface) - 1);
			p->caplen = ev.caplen;
			p->drops = ev.has_drops ? ev.drops : 0;
			p->first = ev.caplen ? ev.data[ev.caplen - 1] : 0;
		}
		if (ev.type == PCAPNG_EV_STATS && ev.if_id < 8)
			o->isb_drop[ev.if_id] = ev.ifdrop;
	}
	assert_int_equal(pcapng_rd_pending(r), 0);
	pcapng_rd_free(r);
}

static struct merge *new_merge_lt(int fd, enum rawcap_pcap_format fmt, const char *comment,
				  uint16_t linktype)
{
	struct merge_opts mo = {.format = fmt, .fd = fd, .comment = comment, .linktype = linktype};
	struct merge *m;

	assert_int_equal(merge_new(&mo, &m), 0);
	return m;
}

static struct merge *new_merge(int fd, enum rawcap_pcap_format fmt, const char *comment)
{
	return new_merge_lt(fd, fmt, comment, RAWCAP_PCAP_LT_AUTO);
}

static void stream(struct blk *b, uint16_t lt, const char *ifname, const uint64_t *ts, size_t n,
		   uint8_t tag)
{
	uint8_t data[64];

	memset(b, 0, sizeof(*b));
	blk_shb(b);
	blk_idb(b, lt, ifname, 9);
	for (size_t i = 0; i < n; i++) {
		memcpy(data, lt == 1 ? eth : rawip, lt == 1 ? sizeof(eth) : sizeof(rawip));
		data[19] = (uint8_t)(tag + i); /* which packet this is, in its last byte */
		blk_epb(b, 0, ts[i], data, 20, 0, 0, NULL);
	}
}

static void should_merge_by_time_with_ties_in_node_order(void **state)
{
	static struct blk a, b;
	static const uint64_t ta[] = {10, 20, 20, 40}, tb[] = {5, 20, 30};
	struct blk *s[2] = {&a, &b};
	struct merge_in *in[2];
	struct merge *m;
	struct out o;
	int fd = memfd_create("m", 0);
	static const struct {
		uint64_t ts;
		const char *iface;
		uint8_t tag;
	} want[] = {{5, "b/eth0", 100},	 {10, "a/eth0", 0},   {20, "a/eth0", 1}, {20, "a/eth0", 2},
		    {20, "b/eth0", 101}, {30, "b/eth0", 102}, {40, "a/eth0", 3}};

	(void)state;
	stream(&a, 1, "eth0", ta, 4, 0);
	stream(&b, 1, "eth0", tb, 3, 100);
	for (size_t chunk = 1; chunk <= 4097; chunk += 512) {
		assert_int_equal(ftruncate(fd, 0), 0);
		lseek(fd, 0, SEEK_SET);
		m = new_merge(fd, RAWCAP_PCAP_PCAPNG, NULL);
		assert_int_equal(merge_add(m, "a", &in[0]), 0);
		assert_int_equal(merge_add(m, "b", &in[1]), 0);
		assert_int_equal(feed_all(m, in, s, NULL, 2, chunk), 1);
		assert_int_equal(merge_finish(m), 0);
		merge_free(m);
		read_out(fd, &o);
		assert_int_equal(o.npkt, 7);
		for (unsigned i = 0; i < 7; i++) {
			assert_int_equal(o.pkt[i].ts, want[i].ts);
			assert_string_equal(o.pkt[i].iface, want[i].iface);
			assert_int_equal(o.pkt[i].first, want[i].tag);
		}
	}
	close(fd);
}

static void should_name_interfaces_per_node_and_keep_loss(void **state)
{
	static struct blk a, b;
	struct blk *s[2] = {&a, &b};
	struct merge_in *in[2];
	struct merge_in_stats st;
	struct merge *m;
	struct out o;
	int fd = memfd_create("m", 0);

	(void)state;
	memset(&a, 0, sizeof(a));
	blk_shb(&a);
	blk_idb(&a, 1, "eth0", 9);
	blk_epb(&a, 0, 100, eth, 20, 2, 0, NULL);
	blk_epb(&a, 0, 300, eth, 20, 1 | 1 << 2, 7, "pod web-1"); /* 7 dropped before it */
	blk_isb(&a, 0, 12); /* the node counted 12 in all: 5 more without a packet after */
	memset(&b, 0, sizeof(b));
	blk_shb(&b);
	blk_idb(&b, 1, "eth0", 9);
	blk_epb(&b, 0, 200, eth, 20, 0, 0, NULL);
	m = new_merge(fd, RAWCAP_PCAP_PCAPNG, "window X .. Y");
	assert_int_equal(merge_add(m, "node-a.example", &in[0]), 0);
	assert_int_equal(merge_add(m, "node-b.example", &in[1]), 0);
	assert_int_equal(feed_all(m, in, s, NULL, 2, 64), 1);
	assert_int_equal(merge_finish(m), 0);
	merge_in_stats(in[0], &st);
	assert_int_equal(st.state, MERGE_IN_COMPLETE);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.drops, 12);
	merge_free(m);
	read_out(fd, &o);
	assert_int_equal(o.nif, 2);
	assert_string_equal(o.names[0], "node-a.example/eth0");
	assert_string_equal(o.names[1], "node-b.example/eth0");
	assert_non_null(strstr(o.descs[0], "node node-a.example"));
	assert_int_equal(o.npkt, 3);
	assert_int_equal(o.pkt[2].drops, 7);
	assert_int_equal(o.isb_drop[0], 12);
	assert_int_equal(o.isb_drop[1], 0);
	assert_string_equal(o.shb_comment, "window X .. Y");
	close(fd);
}

static void should_name_cut_and_failed_nodes_and_merge_the_rest(void **state)
{
	static struct blk a, b, c;
	static const uint64_t ta[] = {1, 3, 5, 7}, tb[] = {2, 4, 6, 8};
	struct blk *s[3] = {&a, &b, &c};
	bool cut[3] = {false, true, false};
	struct merge_in *in[3];
	struct merge_in_stats st;
	struct merge *m;
	struct out o;
	int fd = memfd_create("m", 0);

	(void)state;
	stream(&a, 1, "eth0", ta, 4, 0);
	stream(&b, 1, "eth0", tb, 4, 10);
	b.len -= 30; /* the node died inside its last block */
	memset(&c, 0, sizeof(c));
	m = new_merge(fd, RAWCAP_PCAP_PCAPNG, "w");
	assert_int_equal(merge_add(m, "a", &in[0]), 0);
	assert_int_equal(merge_add(m, "b", &in[1]), 0);
	assert_int_equal(merge_add(m, "c", &in[2]), 0);
	merge_fail(in[2], "Couldn't connect to server");
	assert_int_equal(feed_all(m, in, s, cut, 3, 16), 1);
	assert_int_equal(merge_finish(m), 0);
	merge_in_stats(in[0], &st);
	assert_int_equal(st.state, MERGE_IN_COMPLETE);
	assert_int_equal(st.packets, 4);
	merge_in_stats(in[1], &st);
	assert_int_equal(st.state, MERGE_IN_TRUNCATED);
	assert_int_equal(st.packets, 3);
	assert_non_null(strstr(st.why, "connection reset"));
	merge_in_stats(in[2], &st);
	assert_int_equal(st.state, MERGE_IN_FAILED);
	assert_int_equal(st.packets, 0);
	merge_free(m);
	read_out(fd, &o);
	assert_int_equal(o.npkt, 7);
	assert_non_null(strstr(o.shb_comment, "node c: Couldn't connect to server"));
	for (unsigned i = 1; i < o.npkt; i++)
		assert_true(o.pkt[i].ts >= o.pkt[i - 1].ts);
	close(fd);
}

/* Input in, output through write_fn to nowhere; the inputs' memory stays flat. */
static int discard(void *arg, const void *buf, size_t len)
{
	(void)buf;
	*(uint64_t *)arg += len;
	return 0;
}

static void should_hold_memory_flat_as_the_window_grows(void **state)
{
	static struct blk one; /* one node's next few blocks at a time */
	uint64_t written = 0, ts[2] = {0, 0};
	struct merge_opts mo = {
		.format = RAWCAP_PCAP_PCAPNG, .fd = -1, .write_fn = discard, .write_arg = &written};
	struct merge_in *in[2];
	struct merge *m;
	size_t peak = 0;
	int rc = 0;

	(void)state;
	assert_int_equal(merge_new(&mo, &m), 0);
	assert_int_equal(merge_add(m, "a", &in[0]), 0);
	assert_int_equal(merge_add(m, "b", &in[1]), 0);
	for (int i = 0; i < 2; i++) {
		memset(&one, 0, sizeof(one));
		blk_shb(&one);
		blk_idb(&one, 1, "eth0", 9);
		assert_int_equal(merge_feed(in[i], one.buf, one.len), 0);
	}
	/* 400k packets per node (about 60 MB in all) in pieces of 16 blocks */
	while (rc == 0) {
		for (int i = 0; i < 2; i++) {
			if (!merge_wants(in[i]))
				continue;
			if (ts[i] >= 400000) {
				merge_end(in[i], NULL);
				continue;
			}
			memset(&one, 0, 16 * 128);
			one.len = 0;
			for (int k = 0; k < 16; k++, ts[i]++)
				blk_epb(&one, 0, ts[i] * 2 + (uint64_t)i, eth, 64, 0, 0, NULL);
			assert_int_equal(merge_feed(in[i], one.buf, one.len), 0);
		}
		rc = merge_run(m, NULL);
		if (merge_footprint(m) > peak)
			peak = merge_footprint(m);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(merge_finish(m), 0);
	merge_free(m);
	assert_true(written > 800000ull * 64);
	/* two readers' buffers and tables: independent of the 800k packets */
	assert_true(peak < 2u * (512u << 10));
}

/* Node a Ethernet, node b raw IP: three packets a1 b1 a2, through merge_run(). */
static struct merge *merge_mixed(int fd, enum rawcap_pcap_format fmt, uint16_t linktype)
{
	static struct blk a, b;
	static const uint64_t ta[] = {1, 3}, tb[] = {2};
	struct blk *s[2] = {&a, &b};
	struct merge_in *in[2];
	struct merge *m = new_merge_lt(fd, fmt, NULL, linktype);

	stream(&a, 1, "eth0", ta, 2, 0);
	stream(&b, 101, "wg0", tb, 1, 0);
	assert_int_equal(merge_add(m, "a", &in[0]), 0);
	assert_int_equal(merge_add(m, "b", &in[1]), 0);
	assert_int_equal(feed_all(m, in, s, NULL, 2, 100), 1);
	assert_int_equal(merge_finish(m), 0);
	return m;
}

static void should_write_classic_pcap_as_sll_for_mixed_link_types(void **state)
{
	uint32_t hdr[6];
	int fd = memfd_create("m", 0);

	(void)state;
	merge_free(merge_mixed(fd, RAWCAP_PCAP_CLASSIC, RAWCAP_PCAP_LT_AUTO));
	assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
	assert_int_equal(hdr[0], 0xA1B23C4D); /* nanosecond pcap */
	assert_int_equal(hdr[5], 113);	      /* LINKTYPE_LINUX_SLL */
	/* three records: 24-byte header + 3 x (16 + 16 + (eth: 20 - 14 | raw: 20)) */
	assert_int_equal(lseek(fd, 0, SEEK_END), 24 + (16 + 16 + 6) * 2 + (16 + 16 + 20));
	close(fd);
}

/*
 * pcapng: by default one link type (libpcap refuses interfaces that differ),
 * LINUX_SLL when the nodes' differ; native keeps each interface's own, as
 * mergecap does.
 */
static void should_give_pcapng_one_link_type_unless_native(void **state)
{
	static const uint16_t want[2][2] = {{113, 113}, {1, 101}};
	static const uint16_t mode[2] = {RAWCAP_PCAP_LT_AUTO, RAWCAP_PCAP_LT_NATIVE};
	struct out o;

	(void)state;
	for (int k = 0; k < 2; k++) {
		int fd = memfd_create("m", 0);

		merge_free(merge_mixed(fd, RAWCAP_PCAP_PCAPNG, mode[k]));
		read_out(fd, &o);
		assert_int_equal(o.npkt, 3);
		assert_int_equal(o.nif, 2);
		assert_string_equal(o.names[0], "a/eth0");
		assert_int_equal(o.linktype[0], want[k][0]);
		assert_int_equal(o.linktype[1], want[k][1]);
		assert_int_equal(o.pkt[0].caplen, k ? 20 : 16 + 6);
		close(fd);
	}
}

/*
 * An interface that appears after the first packet with another link type
 * than the file's cannot be held: its packets are skipped and counted
 * against their node, never written under the wrong link type.
 */
static void should_count_packets_the_file_link_type_cannot_hold(void **state)
{
	static struct blk a;
	static uint8_t data[20] = {0x45};
	struct blk *s[1] = {&a};
	struct merge_in *in[1];
	struct merge_in_stats st;
	struct merge *m;
	struct out o;
	int fd = memfd_create("m", 0);

	(void)state;
	stream(&a, 1, "eth0", (const uint64_t[]){1}, 1, 0);
	blk_idb(&a, 200, "odd0", 9); /* a link type SLL cannot take */
	blk_epb(&a, 1, 2, data, sizeof(data), 0, 0, NULL);
	m = new_merge(fd, RAWCAP_PCAP_PCAPNG, NULL);
	assert_int_equal(merge_add(m, "a", &in[0]), 0);
	assert_int_equal(feed_all(m, in, s, NULL, 1, 4096), 1);
	merge_in_stats(in[0], &st);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(merge_finish(m), 0);
	merge_free(m);
	read_out(fd, &o);
	assert_int_equal(o.npkt, 1);
	assert_int_equal(o.linktype[0], 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_merge_by_time_with_ties_in_node_order),
		cmocka_unit_test(should_name_interfaces_per_node_and_keep_loss),
		cmocka_unit_test(should_name_cut_and_failed_nodes_and_merge_the_rest),
		cmocka_unit_test(should_hold_memory_flat_as_the_window_grows),
		cmocka_unit_test(should_write_classic_pcap_as_sll_for_mixed_link_types),
		cmocka_unit_test(should_give_pcapng_one_link_type_unless_native),
		cmocka_unit_test(should_count_packets_the_file_link_type_cannot_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
