// SPDX-License-Identifier: MIT
/*
 * test_pcapng_read.c - the push-fed pcapng reader: the same events however
 * the bytes are split, both byte orders, timestamp resolutions, several
 * sections, back-pressure, and a clear error for each kind of broken block.
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

#include <rawcap/pcap.h>

#include "blocks.h"
#include "pcapng_read.h"

static struct blk B;

/* Events of a stream, fed in chunks of `chunk` bytes (0: all at once). */
struct seen {
	unsigned sections, ifaces, packets, stats;
	uint64_t ts[64];
	uint32_t caplen[64], if_id[64], flags[64];
	uint64_t drops[64];
	char comment[64][128];
	char names[8][64];
	uint16_t lt[8];
	uint64_t ifdrop;
	int err;
	size_t pending;
};

static void take(struct seen *s, const struct pcapng_ev *ev)
{
	switch (ev->type) {
	case PCAPNG_EV_SECTION:
		s->sections++;
		break;
	case PCAPNG_EV_IFACE:
		if (s->ifaces < 8) {
			snprintf(s->names[s->ifaces], 64, "%s", ev->iface->name);
			s->lt[s->ifaces] = ev->iface->linktype;
		}
		s->ifaces++;
		break;
	case PCAPNG_EV_PACKET:
		if (s->packets < 64) {
			s->ts[s->packets] = ev->ts_ns;
			s->caplen[s->packets] = ev->caplen;
			s->if_id[s->packets] = ev->if_id;
			s->flags[s->packets] = ev->has_flags ? ev->flags : 0;
			s->drops[s->packets] = ev->has_drops ? ev->drops : 0;
			snprintf(s->comment[s->packets], 128, "%s", ev->comment ? ev->comment : "");
		}
		s->packets++;
		break;
	case PCAPNG_EV_STATS:
		s->stats++;
		s->ifdrop = ev->ifdrop;
		break;
	}
}

static void run(const uint8_t *p, size_t len, size_t chunk, struct seen *s)
{
	struct pcapng_rd *r;
	struct pcapng_ev ev;
	size_t off = 0;
	int n;

	memset(s, 0, sizeof(*s));
	assert_int_equal(pcapng_rd_new(&r), 0);
	while (off < len || chunk == 0) {
		size_t k = chunk ? (len - off < chunk ? len - off : chunk) : len;

		if (k) {
			n = pcapng_rd_feed(r, p + off, k);
			assert_true(n == 0 || n == -EBADMSG);
			if (n)
				break;
			off += k;
		}
		while ((n = pcapng_rd_next(r, &ev)) > 0)
			take(s, &ev);
		if (n < 0) {
			s->err = n;
			break;
		}
		if (!chunk)
			break;
	}
	s->pending = pcapng_rd_pending(r);
	pcapng_rd_free(r);
}

static const uint8_t pkt60[60] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static void build_stream(bool be)
{
	memset(&B, 0, sizeof(B));
	B.be = be;
	blk_shb(&B);
	blk_idb(&B, 1, "eth0", 9);
	blk_epb(&B, 0, 1790000000123456789ull, pkt60, 60, 2, 0, NULL);
	blk_idb(&B, 101, "tun0", 6); /* an interface described mid-stream */
	blk_epb(&B, 1, 1790000000123457ull, pkt60, 21, 5, 7, "first");
	blk_epb(&B, 0, 1790000000223456789ull, pkt60, 3, 0, 0, NULL);
	blk_isb(&B, 1, 9);
}

static void check_stream(const struct seen *s)
{
	assert_int_equal(s->err, 0);
	assert_int_equal(s->sections, 1);
	assert_int_equal(s->ifaces, 2);
	assert_string_equal(s->names[0], "eth0");
	assert_string_equal(s->names[1], "tun0");
	assert_int_equal(s->lt[1], 101);
	assert_int_equal(s->packets, 3);
	assert_int_equal(s->ts[0], 1790000000123456789ull);
	assert_int_equal(s->ts[1], 1790000000123457000ull); /* microseconds to ns */
	assert_int_equal(s->caplen[1], 21);
	assert_int_equal(s->if_id[1], 1);
	assert_int_equal(s->flags[0], 2);
	assert_int_equal(s->drops[1], 7);
	assert_string_equal(s->comment[1], "first");
	assert_int_equal(s->caplen[2], 3);
	assert_int_equal(s->stats, 1);
	assert_int_equal(s->ifdrop, 9);
	assert_int_equal(s->pending, 0);
}

static void should_give_the_same_events_however_bytes_are_split(void **state)
{
	static const size_t chunks[] = {0, 1, 2, 3, 7, 13, 64, 100, 4096};
	struct seen s;

	(void)state;
	build_stream(false);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run(B.buf, B.len, chunks[i], &s);
		check_stream(&s);
	}
}

static void should_read_big_endian_sections(void **state)
{
	struct seen s;

	(void)state;
	build_stream(true);
	run(B.buf, B.len, 5, &s);
	check_stream(&s);
}

static void should_start_interfaces_again_in_a_new_section(void **state)
{
	struct seen s;

	(void)state;
	build_stream(false);
	B.be = true; /* the second section in the other byte order */
	blk_shb(&B);
	blk_idb(&B, 276, "any", 9);
	blk_epb(&B, 0, 5, pkt60, 20, 0, 0, NULL);
	blk_epb(&B, 1, 5, pkt60, 20, 0, 0, NULL); /* only one interface in this section */
	run(B.buf, B.len, 11, &s);
	assert_int_equal(s.sections, 2);
	assert_int_equal(s.ifaces, 3);
	assert_int_equal(s.lt[2], 276);
	assert_int_equal(s.packets, 4);
	assert_int_equal(s.if_id[3], 0);
	assert_int_equal(s.err, -EBADMSG);
}

static void should_convert_every_timestamp_resolution(void **state)
{
	struct seen s;

	(void)state;
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	blk_idb(&B, 1, "a", 0xff);				/* default: microseconds */
	blk_idb(&B, 1, "b", 3);					/* milliseconds */
	blk_idb(&B, 1, "c", 0x80 | 10);				/* 2^-10 s */
	blk_idb(&B, 1, "d", 12);				/* picoseconds */
	blk_epb(&B, 0, 1500000, pkt60, 4, 0, 0, NULL);		/* 1.5 s */
	blk_epb(&B, 1, 2500, pkt60, 4, 0, 0, NULL);		/* 2.5 s */
	blk_epb(&B, 2, 3 * 1024 + 512, pkt60, 4, 0, 0, NULL);	/* 3.5 s */
	blk_epb(&B, 3, 4500000000000ull, pkt60, 4, 0, 0, NULL); /* 4.5 s */
	run(B.buf, B.len, 0, &s);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.ts[0], 1500000000ull);
	assert_int_equal(s.ts[1], 2500000000ull);
	assert_int_equal(s.ts[2], 3500000000ull);
	assert_int_equal(s.ts[3], 4500000000ull);
}

static void should_join_comments_and_skip_other_blocks(void **state)
{
	struct seen s;
	size_t at;

	(void)state;
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	at = blk_start(&B, 4); /* a name resolution block */
	blk_u32(&B, 0);
	blk_end(&B, at);
	blk_idb(&B, 1, "eth0", 9);
	at = blk_start(&B, 3); /* a simple packet block: no timestamp to merge by */
	blk_u32(&B, 4);
	blk_u32(&B, 0);
	blk_end(&B, at);
	at = blk_start(&B, 6);
	blk_u32(&B, 0);
	blk_u32(&B, 0);
	blk_u32(&B, 9);
	blk_u32(&B, 0);
	blk_u32(&B, 0);
	blk_opt(&B, 1, "one", 3);
	blk_opt(&B, 1, "two", 3);
	blk_opt_end(&B);
	blk_end(&B, at);
	run(B.buf, B.len, 0, &s);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.ts[0], 9);
	assert_string_equal(s.comment[0], "one; two");
}

static void should_leave_a_cut_block_pending(void **state)
{
	struct seen s;

	(void)state;
	build_stream(false);
	run(B.buf, B.len - 7, 9, &s);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.packets, 3);
	assert_int_equal(s.stats, 0);
	assert_true(s.pending > 0);
}

/* Each broken stream: an error, never a crash or a wrong packet. */
static void expect_error(const char *what)
{
	struct seen s;

	run(B.buf, B.len, 0, &s);
	if (s.err != -EBADMSG)
		fail_msg("%s: not refused", what);
}

static void should_refuse_each_kind_of_broken_block(void **state)
{
	uint32_t v;

	(void)state;
	/* classic pcap is not pcapng */
	memset(&B, 0, sizeof(B));
	blk_u32(&B, 0xa1b2c3d4);
	blk_u32(&B, 0x00040002);
	blk_u32(&B, 0);
	expect_error("classic pcap");
	{ /* and it is named as one, with what to do */
		struct pcapng_rd *r;
		struct pcapng_ev ev;

		assert_int_equal(pcapng_rd_new(&r), 0);
		assert_int_equal(pcapng_rd_feed(r, B.buf, B.len), 0);
		assert_int_equal(pcapng_rd_next(r, &ev), -EBADMSG);
		assert_non_null(strstr(pcapng_rd_error(r), "a pcap file; export pcapng"));
		pcapng_rd_free(r);
	}
	/* bad byte-order magic */
	build_stream(false);
	B.buf[8] ^= 0xff;
	expect_error("byte-order magic");
	/* trailing length differs */
	build_stream(false);
	B.buf[B.len - 1] ^= 1;
	expect_error("trailing length");
	/* length not a multiple of 4 */
	build_stream(false);
	memcpy(&v, B.buf + 28 + 4, 4);
	v += 2;
	memcpy(B.buf + 28 + 4, &v, 4);
	expect_error("odd length");
	/* a packet for an interface never described */
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	blk_epb(&B, 0, 1, pkt60, 4, 0, 0, NULL);
	expect_error("undescribed interface");
	/* captured length beyond its block */
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	blk_idb(&B, 1, "x", 9);
	blk_epb(&B, 0, 1, pkt60, 8, 0, 0, NULL);
	v = 4000; /* caplen sits before origlen, the 8 data bytes and the trailing length */
	memcpy(B.buf + B.len - 20, &v, 4);
	expect_error("caplen");
	/* an option running past its block */
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	{
		size_t at = blk_start(&B, 1);

		blk_u16(&B, 1);
		blk_u16(&B, 0);
		blk_u32(&B, 65535);
		blk_u16(&B, 2);
		blk_u16(&B, 400);
		blk_u32(&B, 0);
		blk_end(&B, at);
	}
	expect_error("option length");
	/* a block larger than the reader takes */
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	blk_u32(&B, 6);
	blk_u32(&B, PCAPNG_RD_BLOCK_MAX + 4);
	blk_u32(&B, 0);
	expect_error("huge block");
	/* pcapng version 2 */
	build_stream(false);
	B.buf[12] = 2;
	expect_error("version");
	/* if_tsresol out of range */
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	blk_idb(&B, 1, "x", 40);
	expect_error("tsresol");
}

/* While a packet event is held its bytes never move; feed says -ENOBUFS when full. */
static void should_push_back_while_a_packet_is_held(void **state)
{
	static uint8_t big[200000];
	struct pcapng_rd *r;
	struct pcapng_ev ev;
	size_t fed = 0, refused = 0;
	uint8_t first[16];
	int n;

	(void)state;
	memset(&B, 0, sizeof(B));
	blk_shb(&B);
	blk_idb(&B, 1, "eth0", 9);
	for (unsigned i = 0; i < 5; i++) {
		memset(big, (int)i + 1, sizeof(big));
		blk_epb(&B, 0, i, big, sizeof(big), 0, 0, NULL);
	}
	assert_int_equal(pcapng_rd_new(&r), 0);
	/* feed until the first packet is out and held */
	while ((n = pcapng_rd_next(r, &ev)) == 0 || ev.type != PCAPNG_EV_PACKET) {
		assert_true(n >= 0);
		if (n == 0) {
			assert_int_equal(pcapng_rd_feed(r, B.buf + fed, 16384), 0);
			fed += 16384;
		}
	}
	memcpy(first, ev.data, sizeof(first));
	/* more bytes until there is no room: the held packet's bytes stay put */
	while (fed + 16384 <= B.len && pcapng_rd_feed(r, B.buf + fed, 16384) == 0)
		fed += 16384;
	refused = fed + 16384 <= B.len;
	assert_true(refused);
	assert_memory_equal(ev.data, first, sizeof(first));
	assert_true(pcapng_rd_footprint(r) < (PCAPNG_RD_BLOCK_MAX + (128u << 10)));
	/* releasing it makes room again */
	while ((n = pcapng_rd_next(r, &ev)) > 0 && ev.type != PCAPNG_EV_PACKET)
		;
	assert_int_equal(pcapng_rd_feed(r, B.buf + fed, 16384), 0);
	pcapng_rd_free(r);
}

/* What librawcap's writer produces reads back packet for packet. */
static void should_read_what_the_writer_writes(void **state)
{
	int fd = memfd_create("t", 0);
	struct rawcap_pcap_opts o = {.sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG};
	struct rawcap_iface i1 = {.ifindex = 4, .linktype = 1};
	struct rawcap_pkt p = {.ifindex = 4, .orig_len = 60, .linktype = 1, .dir = 4};
	struct rawcap_pcap *w;
	struct seen s;
	off_t end;

	(void)state;
	snprintf(i1.name, sizeof(i1.name), "veth0");
	assert_int_equal(rawcap_pcap_open(fd, &o, &w), 0);
	assert_int_equal(rawcap_pcap_add_iface(w, &i1), 0);
	for (unsigned i = 0; i < 40; i++) {
		struct rawcap_pcap_pkt pp = {.ts_ns = 1790000000000000000ull + i,
					     .pkt = &p,
					     .data = pkt60,
					     .caplen = 60 - i};

		if (i == 10)
			rawcap_pcap_note_loss(w, 4, 3);
		assert_int_equal(rawcap_pcap_write(w, &pp), 0);
	}
	assert_int_equal(rawcap_pcap_close(w), 0);
	end = lseek(fd, 0, SEEK_END);
	memset(&B, 0, sizeof(B));
	assert_int_equal(pread(fd, B.buf, (size_t)end, 0), end);
	B.len = (size_t)end;
	run(B.buf, B.len, 333, &s);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.packets, 40);
	assert_string_equal(s.names[0], "veth0");
	assert_int_equal(s.ts[39], 1790000000000000039ull);
	assert_int_equal(s.caplen[39], 21);
	assert_int_equal(s.flags[0], 2);
	assert_int_equal(s.drops[10], 3);
	assert_int_equal(s.stats, 1);
	assert_int_equal(s.ifdrop, 3);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_give_the_same_events_however_bytes_are_split),
		cmocka_unit_test(should_read_big_endian_sections),
		cmocka_unit_test(should_start_interfaces_again_in_a_new_section),
		cmocka_unit_test(should_convert_every_timestamp_resolution),
		cmocka_unit_test(should_join_comments_and_skip_other_blocks),
		cmocka_unit_test(should_leave_a_cut_block_pending),
		cmocka_unit_test(should_refuse_each_kind_of_broken_block),
		cmocka_unit_test(should_push_back_while_a_packet_is_held),
		cmocka_unit_test(should_read_what_the_writer_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
