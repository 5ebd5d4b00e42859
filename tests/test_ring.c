// SPDX-License-Identifier: MIT
/*
 * test_ring.c - deterministic unit tests of the shm ring and librawcap's
 * cursor over it: framing, alignment, wrap padding, lap detection and loss
 * accounting, seeking, the interface table, restarts, hostile ring contents,
 * and the shared parsers.
 *
 * Everything runs in one process: the test drives struct ring_writer
 * directly (and sets its positions by hand where a real run would need
 * gigabytes of traffic), and reads through the public rawcap_* API.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/rawcap.h>

#include "cursor.h"
#include "ring/payload.h"
#include "ring/ring_test.h"
#include "ring_prev.h"
#include "ring_writer.h"

#define SZ_64K	(64u * 1024u)
#define SZ_256K (256u * 1024u)
#define TS0	1790000000000000000ull

struct rt {
	struct ring_writer w;
	struct rawcap_cursor *c;
	char name[64];
};

static void rt_open(struct rt *t, uint64_t data_size)
{
	struct ring_writer_opts o = {.data_size = data_size, .gid = (gid_t)-1};

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", rt_name("unit"));
	o.name = t->name;
	assert_int_equal(ring_writer_create(&t->w, &o), 0);
	assert_int_equal(rawcap_open(t->name, &t->c), 0);
}

static void rt_close(struct rt *t)
{
	rawcap_close(t->c);
	ring_writer_close(&t->w);
}

static struct rawcap_stats rt_stats(struct rt *t)
{
	struct rawcap_stats st;

	rawcap_get_stats(t->c, &st);
	return st;
}

/* Append n records of payload len, timestamps ts, ts+step, ...; publish. */
static void rt_fill(struct rt *t, unsigned n, uint32_t len, uint64_t ts, uint64_t step)
{
	for (unsigned i = 0; i < n; i++)
		assert_non_null(
			rt_append(&t->w, RAWCAP_REC_PACKET, ts + i * step, len, (uint8_t)i));
	ring_publish(&t->w);
}

static void should_hide_records_until_published(void **state)
{
	struct rawcap_rec rec;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_append(&t.w, RAWCAP_REC_PACKET, TS0, 10, 1);
	assert_int_equal(rawcap_next(t.c, &rec), 0);
	ring_publish(&t.w);
	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rawcap_next(t.c, &rec), 0);
	rt_close(&t);
}

static void should_frame_records_with_len_type_seq_ts(void **state)
{
	const struct rawcap_rec_hdr *raw;
	struct rawcap_rec rec;
	uint8_t *p;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	p = ring_reserve(&t.w, RAWCAP_REC_PACKET, 0x5a, TS0 + 7, 5);
	memcpy(p, "hello", 5);
	assert_non_null(ring_reserve(&t.w, RAWCAP_REC_META, RAWCAP_META_POD, TS0 + 8, 0));
	assert_non_null(rt_append(&t.w, RAWCAP_REC_LOSS, TS0 + 9, sizeof(struct rawcap_loss), 0));
	ring_publish(&t.w);

	raw = (const void *)t.w.data;
	assert_int_equal(raw->len, 24 + 5);
	assert_int_equal(raw->type, RAWCAP_REC_PACKET);

	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.seq, 0);
	assert_int_equal(rec.ts_ns, TS0 + 7);
	assert_int_equal(rec.type, RAWCAP_REC_PACKET);
	assert_int_equal(rec.flags, 0x5a);
	assert_int_equal(rec.len, 5);
	assert_memory_equal(rec.payload, "hello", 5);
	assert_int_equal(rec.source, RAWCAP_SOURCE_RING);
	assert_true(rawcap_rec_valid(t.c, &rec));

	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.seq, 1);
	assert_int_equal(rec.type, RAWCAP_REC_META);
	assert_int_equal(rec.flags, RAWCAP_META_POD);
	assert_int_equal(rec.len, 0);
	assert_int_equal(rec.pos, 32);

	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.seq, 2);
	assert_int_equal(rec.type, RAWCAP_REC_LOSS);
	assert_int_equal(rec.len, sizeof(struct rawcap_loss));
	assert_int_equal(rec.pos, 56);
	assert_int_equal(rawcap_next(t.c, &rec), 0);

	assert_int_equal(rt_stats(&t).records, 3);
	assert_int_equal(rt_stats(&t).bytes, 5 + 0 + 24);
	assert_int_equal(load_relaxed(&t.w.hdr->counters[RING_CNT_RECORDS]), 3);
	assert_int_equal(load_relaxed(&t.w.hdr->next_seq), 3);
	rt_close(&t);
}

static void should_align_every_record_to_8_bytes(void **state)
{
	struct rawcap_rec rec;
	uint64_t expect_pos = 0;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	for (uint32_t len = 0; len <= 40; len++)
		rt_append(&t.w, RAWCAP_REC_PACKET, TS0, len, (uint8_t)len);
	ring_publish(&t.w);
	for (uint32_t len = 0; len <= 40; len++) {
		assert_int_equal(rawcap_next(t.c, &rec), 1);
		assert_int_equal(rec.len, len);
		assert_int_equal(rec.pos, expect_pos);
		assert_int_equal(rec.pos % 8, 0);
		assert_int_equal((uintptr_t)rec.payload % 8, 0);
		expect_pos += rawcap_rec_span(24 + len);
	}
	assert_int_equal(expect_pos % 8, 0);
	assert_int_equal(load_acquire(&t.w.hdr->head), expect_pos);
	rt_close(&t);
}

/* Read everything published; every record must lie wholly inside the data area. */
static unsigned rt_drain_checked(struct rt *t, uint64_t *next_seq)
{
	struct rawcap_rec rec;
	unsigned n = 0;

	while (rawcap_next(t->c, &rec) == 1) {
		assert_int_equal(rec.seq, *next_seq);
		assert_true((rec.pos & t->w.mask) + rawcap_rec_span(24 + rec.len) <= t->w.size);
		assert_int_equal(rec.pos % 8, 0);
		assert_int_not_equal(rec.type, RAWCAP_REC_PAD);
		assert_true(rawcap_rec_valid(t->c, &rec));
		(*next_seq)++;
		n++;
	}
	return n;
}

static void should_pad_at_wrap_without_straddling(void **state)
{
	const struct rawcap_rec_hdr *pad;
	uint64_t seq = 0;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	/* 58 records of span 1128 end at 65424: the 59th does not fit in the last 112 bytes. */
	rt_fill(&t, 58, 1100, TS0, 1);
	assert_int_equal(rt_drain_checked(&t, &seq), 58);
	assert_int_equal(t.w.wpos, 65424);
	rt_fill(&t, 1, 1100, TS0, 1);
	pad = (const void *)(t.w.data + 65424);
	assert_int_equal(pad->type, RAWCAP_REC_PAD);
	assert_int_equal(pad->len, 112);
	assert_int_equal(t.w.last_pos, SZ_64K); /* the record went to offset 0 of lap 1 */
	assert_int_equal(rt_drain_checked(&t, &seq), 1);
	assert_int_equal(load_relaxed(&t.w.hdr->counters[RING_CNT_WRAPS]), 1);
	assert_int_equal(rt_stats(&t).records_lost, 0);
	rt_close(&t);
}

static void should_pad_last_8_bytes_with_short_pad(void **state)
{
	const struct rawcap_rec_hdr *pad;
	uint64_t seq = 0;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	/* 63 records of span 1024 and one of 1016 leave exactly 8 bytes: too few for a header. */
	rt_fill(&t, 63, 1000, TS0, 1);
	rt_fill(&t, 1, 992, TS0, 1);
	assert_int_equal(t.w.wpos, SZ_64K - 8);
	assert_int_equal(rt_drain_checked(&t, &seq), 64);
	rt_fill(&t, 3, 0, TS0, 1);
	pad = (const void *)(t.w.data + SZ_64K - 8);
	assert_int_equal(pad->type, RAWCAP_REC_PAD);
	assert_int_equal(pad->len, 8);
	assert_int_equal(rt_drain_checked(&t, &seq), 3);
	assert_int_equal(rt_stats(&t).records_lost, 0);
	rt_close(&t);
}

/* Positions are 64-bit and never wrap: start the writer far from zero, mid-lap. */
static void should_wrap_at_positions_far_from_zero(void **state)
{
	uint64_t p0 = (1ull << 40) + 3ull * SZ_64K - 40, seq = 1000000000000ull;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	t.w.wpos = t.w.last_pos = t.w.tail = p0;
	t.w.next_seq = seq;
	store_relaxed(&t.w.hdr->tail, p0);
	store_release(&t.w.hdr->head, p0);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_NEWEST, 0), 0);
	for (int i = 0; i < 2000; i++) {
		rt_fill(&t, 1, 100 + (uint32_t)(i % 200), TS0 + (uint64_t)i, 1);
		assert_int_equal(rt_drain_checked(&t, &seq), 1);
		assert_true(load_relaxed(&t.w.hdr->tail) + SZ_64K >= load_relaxed(&t.w.hdr->head));
	}
	assert_int_equal(seq, 1000000000000ull + 2000);
	assert_true(load_relaxed(&t.w.hdr->counters[RING_CNT_WRAPS]) > 5);
	assert_int_equal(rt_stats(&t).records_lost, 0);
	assert_int_equal(rt_stats(&t).times_lapped, 0);
	rt_close(&t);
}

static void should_report_exact_gap_when_lapped(void **state)
{
	struct rawcap_rec rec;
	uint64_t tail_seq, seq;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 10, 1000, TS0, 1); /* span 1024: seq n lives at position n * 1024 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(rawcap_next(t.c, &rec), 1);
	for (int i = 0; i < 100; i++)
		rt_fill(&t, 1, 1000, TS0, 1);
	tail_seq = load_relaxed(&t.w.hdr->tail) / 1024;
	assert_true(tail_seq > 3);

	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.seq, tail_seq);
	assert_int_equal(rt_stats(&t).records_lost, tail_seq - 3);
	assert_int_equal(rt_stats(&t).times_lapped, 1);
	seq = rec.seq + 1;
	rt_drain_checked(&t, &seq);
	assert_int_equal(seq, 110);
	assert_int_equal(rt_stats(&t).records + rt_stats(&t).records_lost, 110);
	rt_close(&t);
}

/*
 * The writer reclaims through its time index, or by walking headers when a
 * large record leaves an index chunk without a record start: either way the
 * tail must land on a record boundary, and everything from it to head must
 * read back intact.
 */
static void should_keep_tail_on_a_record_boundary_when_reclaiming(void **state)
{
	struct rawcap_rec_hdr h;
	struct rawcap_rec rec;
	uint64_t x = 7;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K); /* 4 KiB index chunks, max record 16 KiB */
	for (int i = 0; i < 3000; i++) {
		uint32_t len = (x = payload_mix(x)) % 7 == 0 ? 4096 + (uint32_t)(x % 9000)
							     : (uint32_t)(x % 700);
		uint64_t tail, head, seq;

		rt_fill(&t, 1, len, TS0 + (uint64_t)i, 1);
		tail = load_relaxed(&t.w.hdr->tail);
		head = load_acquire(&t.w.hdr->head);
		assert_true(head - tail <= SZ_64K);
		assert_int_equal(ring_peek(&t.c->ring, tail, &h), 0);
		if (i % 50)
			continue;
		assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_OLDEST, 0), 0);
		assert_int_equal(rawcap_next(t.c, &rec), 1);
		seq = rec.seq;
		while (rawcap_next(t.c, &rec) == 1)
			assert_int_equal(rec.seq, ++seq);
		assert_int_equal(seq, (uint64_t)i);
	}
	assert_int_equal(rt_stats(&t).records_lost, 0);
	rt_close(&t);
}

/* The writer publishes tail before overwriting: a record read before that is rejected. */
static void should_discard_record_overwritten_while_read(void **state)
{
	struct rawcap_rec rec, next;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 10, 1000, TS0, 1);
	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.seq, 1);
	/* By hand: the writer reclaims records 0..4 (as ring_make_room would). */
	store_relaxed(&t.w.hdr->tail, 5 * 1024);
	assert_false(rawcap_rec_valid(t.c, &rec));
	assert_int_equal(rt_stats(&t).torn_discarded, 1);
	assert_int_equal(rt_stats(&t).records, 1);

	assert_int_equal(rawcap_next(t.c, &next), 1);
	assert_int_equal(next.seq, 5);
	/* seq 1 (discarded) and 2..4 (overwritten) */
	assert_int_equal(rt_stats(&t).records_lost, 4);
	assert_int_equal(rt_stats(&t).times_lapped, 1);
	assert_int_equal(rt_stats(&t).records + rt_stats(&t).records_lost, 6);
	rt_close(&t);
}

static void should_count_upstream_sequence_gaps_as_loss(void **state)
{
	struct rawcap_rec rec;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 2, 10, TS0, 1);
	t.w.next_seq += 5;
	rt_fill(&t, 2, 10, TS0, 1);
	while (rawcap_next(t.c, &rec) == 1)
		;
	assert_int_equal(rec.seq, 8);
	assert_int_equal(rt_stats(&t).records, 4);
	assert_int_equal(rt_stats(&t).records_lost, 5);
	rt_close(&t);
}

static void should_count_record_too_large_for_copy_buffer(void **state)
{
	struct rawcap_rec rec;
	uint8_t buf[64];
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 1, 100, TS0, 1);
	rt_fill(&t, 1, 50, TS0, 1);
	assert_int_equal(rawcap_next_copy(t.c, &rec, buf, sizeof(buf)), -EMSGSIZE);
	assert_int_equal(rawcap_next_copy(t.c, &rec, buf, sizeof(buf)), 1);
	assert_int_equal(rec.seq, 1);
	assert_ptr_equal(rec.payload, buf);
	assert_int_equal(rt_stats(&t).records, 1);
	assert_int_equal(rt_stats(&t).records_lost, 1);
	rt_close(&t);
}

static void rt_expect_seek(struct rt *t, enum rawcap_seek whence, uint64_t v, uint64_t seq)
{
	struct rawcap_rec rec;

	assert_int_equal(rawcap_seek(t->c, whence, v), 0);
	assert_int_equal(rawcap_next(t->c, &rec), 1);
	assert_int_equal(rec.seq, seq);
}

static void should_seek_by_time_through_index(void **state)
{
	struct rawcap_rec rec;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_256K);
	rt_fill(&t, 2000, 40, TS0, 1000); /* span 64: many index chunks */
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 500 * 1000, 500);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 500 * 1000 + 1, 501);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 1999 * 1000, 1999);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, 0, 0);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 63 * 1000 + 999, 64);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_TIME, TS0 + 1999 * 1000 + 1), -ENOENT);
	assert_int_equal(rawcap_next(t.c, &rec), 0);
	rt_expect_seek(&t, RAWCAP_SEEK_OLDEST, 0, 0);
	assert_int_equal(rt_stats(&t).records_lost, 0); /* seeking is not loss */
	rt_close(&t);
}

static void should_seek_by_time_when_clock_jumps_backwards(void **state)
{
	struct rt t;

	(void)state;
	rt_open(&t, SZ_256K);
	rt_fill(&t, 1000, 40, TS0, 1000);	       /* seq 0..999: TS0 .. TS0+999us */
	rt_fill(&t, 1000, 40, TS0 + 500 * 1000, 1000); /* seq 1000..: clock stepped back 499us */
	/* The first record in ring order whose own timestamp reaches the target. */
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 600 * 1000, 600);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 999 * 1000 + 500, 1500);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 1200 * 1000, 1700);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0 + 1499 * 1000, 1999);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_TIME, TS0 + 1499 * 1000 + 1), -ENOENT);
	rt_close(&t);
}

static void should_seek_by_sequence(void **state)
{
	struct rawcap_rec rec;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_256K);
	rt_fill(&t, 1000, 40, TS0, 1);
	t.w.next_seq = 2000; /* upstream gap 1000..1999 */
	rt_fill(&t, 1000, 40, TS0 + 1000, 1);
	rt_expect_seek(&t, RAWCAP_SEEK_SEQ, 0, 0);
	rt_expect_seek(&t, RAWCAP_SEEK_SEQ, 777, 777);
	rt_expect_seek(&t, RAWCAP_SEEK_SEQ, 999, 999);
	rt_expect_seek(&t, RAWCAP_SEEK_SEQ, 1500, 2000); /* in the gap: the next one held */
	rt_expect_seek(&t, RAWCAP_SEEK_SEQ, 2999, 2999);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_SEQ, 3000), -ENOENT);
	assert_int_equal(rawcap_next(t.c, &rec), 0);
	assert_int_equal(rawcap_seek(t.c, 99, 0), -EINVAL);
	assert_int_equal(rt_stats(&t).records_lost, 0);
	rt_close(&t);
}

static void should_seek_to_oldest_held_when_sequence_was_overwritten(void **state)
{
	struct rawcap_rec rec;
	uint64_t tail_seq;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 200, 1000, TS0, 1000);
	tail_seq = load_relaxed(&t.w.hdr->tail) / 1024;
	assert_true(tail_seq > 100);
	rt_expect_seek(&t, RAWCAP_SEEK_SEQ, 3, tail_seq);
	rt_expect_seek(&t, RAWCAP_SEEK_TIME, TS0, tail_seq);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_NEWEST, 0), 0);
	assert_int_equal(rawcap_next(t.c, &rec), 0);
	rt_close(&t);
}

static void should_shrink_last_record(void **state)
{
	struct rawcap_rec rec;
	void *p0, *p1;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	p0 = rt_append(&t.w, RAWCAP_REC_PACKET, TS0, 1000, 1);
	ring_shrink_last(&t.w, p0, 2000); /* growing is refused */
	ring_shrink_last(&t.w, p0, 100);
	p1 = rt_append(&t.w, RAWCAP_REC_PACKET, TS0, 50, 2);
	assert_ptr_equal(p1, (uint8_t *)p0 + 128); /* 24 + 100 rounds to 128 */
	ring_shrink_last(&t.w, p0, 10);		   /* not the last record any more: no-op */
	ring_publish(&t.w);

	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.len, 100);
	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.len, 50);
	assert_int_equal(rec.pos, 128);
	assert_int_equal(rawcap_next(t.c, &rec), 0);
	assert_int_equal(load_relaxed(&t.w.hdr->counters[RING_CNT_BYTES]), 124 + 74);
	assert_int_equal(load_acquire(&t.w.hdr->head), 128 + 80);
	rt_close(&t);
}

static void rt_iface(struct rawcap_iface *i, uint32_t ifindex, const char *name)
{
	memset(i, 0, sizeof(*i));
	i->ifindex = ifindex;
	i->linktype = 1;
	i->mtu = 1500;
	snprintf(i->name, sizeof(i->name), "%s", name);
	snprintf(i->filter, sizeof(i->filter), "tcp port %u", ifindex);
}

static void should_describe_interfaces_from_table(void **state)
{
	struct rawcap_iface in, out;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_iface(&in, 2, "eth0");
	assert_int_equal(ring_iface_set(&t.w, &in), 0);
	rt_iface(&in, 7, "veth1");
	assert_int_equal(ring_iface_set(&t.w, &in), 0);
	rt_iface(&in, 2, "eth0b"); /* update in place */
	in.mtu = 9000;
	assert_int_equal(ring_iface_set(&t.w, &in), 0);

	assert_int_equal(rawcap_iface_get(t.c, 2, &out), 0);
	assert_string_equal(out.name, "eth0b");
	assert_int_equal(out.mtu, 9000);
	assert_int_equal(rawcap_iface_get(t.c, 7, &out), 0);
	assert_string_equal(out.name, "veth1");
	assert_string_equal(out.filter, "tcp port 7");
	assert_int_equal(rawcap_iface_get(t.c, 9, &out), -ENOENT);
	ring_iface_del(&t.w, 7);
	assert_int_equal(rawcap_iface_get(t.c, 7, &out), -ENOENT);
	assert_int_equal(rawcap_iface_get(t.c, 2, &out), 0);

	for (uint32_t i = 100; i < 100 + RING_IFACE_SLOTS - 1; i++) {
		rt_iface(&in, i, "x");
		assert_int_equal(ring_iface_set(&t.w, &in), 0);
	}
	rt_iface(&in, 9999, "full");
	assert_int_equal(ring_iface_set(&t.w, &in), -ENOSPC);
	assert_int_equal(rawcap_iface_get(t.c, 100 + RING_IFACE_SLOTS - 2, &out), 0);
	rt_close(&t);
}

/* What the kernel does for a writer that dies: its lock on the object goes. */
static void rt_writer_dies(struct ring_writer *w)
{
	struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};

	assert_int_equal(fcntl(w->fd, F_OFD_SETLK, &fl), 0);
}

static void should_reattach_and_count_gap_after_restart(void **state)
{
	struct ring_writer_opts o = {.data_size = SZ_64K, .gid = (gid_t)-1};
	struct rawcap_ring_info info;
	struct ring_writer w2;
	struct rawcap_rec rec;
	struct ring_prev p;
	uint64_t gen1;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	gen1 = t.w.hdr->generation;
	rt_fill(&t, 10, 100, TS0, 1);
	while (rawcap_next(t.c, &rec) == 1)
		;
	assert_int_equal(rawcap_wait(t.c, 0), 0);

	/* capd is killed (the kernel drops its writer lock) and restarts: the sequence
	 * continues, minus 3 records it could not persist. */
	rt_writer_dies(&t.w);
	assert_int_equal(ring_prev_open(t.name, &p), 0);
	o.name = t.name;
	o.base_seq = load_relaxed(&p.hdr->next_seq) + 3;
	o.prev_generation = p.hdr->generation;
	assert_int_equal(ring_writer_create(&w2, &o), 0);
	ring_prev_retire(&p);
	for (int i = 0; i < 4; i++)
		rt_append(&w2, RAWCAP_REC_PACKET, TS0 + 100, 10, 1);
	ring_publish(&w2);
	ring_notify(&w2);

	assert_int_equal(rawcap_wait(t.c, 2000), 1);
	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.seq, 13);
	assert_int_equal(rt_stats(&t).records_lost, 3);
	assert_int_equal(rt_stats(&t).generations, 2);
	assert_int_equal(rawcap_ring_info(t.c, &info), 0);
	assert_int_not_equal(info.generation, gen1);
	assert_int_equal(info.generation, w2.hdr->generation);
	assert_int_equal(info.base_seq, 13);
	assert_int_equal(info.retired, 0);
	ring_writer_close(&w2);
	rt_close(&t);
}

/* A restart that replaces the object without retiring it (capd killed hard). */
static void should_reattach_when_ring_is_replaced_without_retire(void **state)
{
	struct ring_writer_opts o = {.data_size = SZ_64K, .gid = (gid_t)-1};
	struct ring_writer w2;
	struct rawcap_rec rec;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 5, 100, TS0, 1);
	while (rawcap_next(t.c, &rec) == 1)
		;
	o.name = t.name;
	o.base_seq = 5;
	o.prev_generation = t.w.hdr->generation;
	assert_int_equal(ring_writer_create(&w2, &o), 0);
	rt_append(&w2, RAWCAP_REC_PACKET, TS0, 10, 1);
	ring_publish(&w2); /* no notify: the idle check must notice the unlinked object */
	assert_int_equal(rawcap_wait(t.c, 3000), 1);
	assert_int_equal(rawcap_next(t.c, &rec), 1);
	assert_int_equal(rec.seq, 5);
	assert_int_equal(rt_stats(&t).records_lost, 0);
	assert_int_equal(rt_stats(&t).generations, 2);
	ring_writer_close(&w2);
	rt_close(&t);
}

static void should_reject_missing_ring_and_bad_names(void **state)
{
	struct rawcap_cursor *c = (void *)1;

	(void)state;
	assert_int_equal(rawcap_open("no-such-ring-here", &c), -ENOENT);
	assert_null(c);
	assert_int_equal(rawcap_open("../etc", &c), -EINVAL);
	assert_int_equal(rawcap_open(".hidden", &c), -EINVAL);
	assert_int_equal(rawcap_open("", &c), -EINVAL);
}

/* Break the header of a fresh ring with fn, then expect rawcap_open to fail with err. */
static void rt_expect_open_error(void (*fn)(struct ring_writer *), int err)
{
	struct ring_writer_opts o = {.data_size = SZ_64K, .gid = (gid_t)-1};
	struct rawcap_cursor *c = NULL;
	struct ring_writer w;

	o.name = rt_name("bad");
	assert_int_equal(ring_writer_create(&w, &o), 0);
	fn(&w);
	assert_int_equal(rawcap_open(o.name, &c), err);
	assert_null(c);
	munmap(w.hdr, w.map_len);
	close(w.fd);
}

static void break_magic(struct ring_writer *w)
{
	w->hdr->magic ^= 1;
}

static void break_version(struct ring_writer *w)
{
	w->hdr->version = RING_LAYOUT_VERSION + 1;
}

static void break_data_size(struct ring_writer *w)
{
	w->hdr->data_size = SZ_64K + 8;
}

static void break_iface_off(struct ring_writer *w)
{
	w->hdr->iface_off = UINT64_MAX - 4096; /* its end wraps around to a small number */
}

static void break_truncate_data(struct ring_writer *w)
{
	assert_int_equal(ftruncate(w->fd, (off_t)(w->map_len - 4096)), 0);
}

static void break_truncate_header(struct ring_writer *w)
{
	assert_int_equal(ftruncate(w->fd, 100), 0);
}

static void break_truncate_empty(struct ring_writer *w)
{
	assert_int_equal(ftruncate(w->fd, 0), 0);
}

static void should_reject_broken_ring_objects(void **state)
{
	(void)state;
	rt_expect_open_error(break_magic, -EBADMSG);
	rt_expect_open_error(break_version, -EPROTO);
	rt_expect_open_error(break_data_size, -EBADMSG);
	rt_expect_open_error(break_iface_off, -EBADMSG);
	rt_expect_open_error(break_truncate_data, -EBADMSG);
	rt_expect_open_error(break_truncate_header, -EBADMSG);
	rt_expect_open_error(break_truncate_empty, -EBADMSG);
}

/* Drain, allowing bounded calls; returns the number of -EBADMSG results. */
static unsigned rt_drain_hostile(struct rt *t, unsigned max_calls, unsigned *delivered)
{
	struct rawcap_rec rec;
	unsigned bad = 0;

	*delivered = 0;
	for (unsigned i = 0; i < max_calls; i++) {
		int ret = rawcap_next(t->c, &rec);

		if (ret == 0)
			return bad;
		if (ret == 1) {
			assert_true(rec.len <= t->w.max_record);
			assert_true((rec.pos & t->w.mask) + 24 + rec.len <= t->w.size);
			(*delivered)++;
		} else {
			assert_int_equal(ret, -EBADMSG);
			bad++;
		}
	}
	fail_msg("rawcap_next did not reach the end in %u calls", max_calls);
	return bad;
}

static void should_skip_garbage_without_looping(void **state)
{
	unsigned delivered, bad;
	uint64_t x = 42;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 200, 200, TS0, 1); /* span 224, 44800 bytes */
	for (uint64_t off = 8000; off < 30000; off += 8) {
		x = payload_mix(x);
		memcpy(t.w.data + off, &x, 8);
	}
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_OLDEST, 0), 0);
	bad = rt_drain_hostile(&t, 10000, &delivered);
	assert_true(bad >= 1);
	assert_true(delivered >= 8000 / 224);
	assert_int_equal(rt_stats(&t).corrupt, bad);
	rt_close(&t);
}

/* Lengths chosen to overflow an 8-byte round-up, pads of length 0, headers that lie. */
static void should_survive_hostile_lengths_and_positions(void **state)
{
	struct rawcap_rec_hdr *r;
	unsigned delivered, bad;
	struct rt t;

	(void)state;
	rt_open(&t, SZ_64K);
	rt_fill(&t, 10, 100, TS0, 1);
	r = (void *)(t.w.data + 128);
	r->len = 0xfffffff9u; /* rounds up to 0 in 32 bits */
	r->type = RAWCAP_REC_PAD;
	r = (void *)(t.w.data + 256);
	r->len = 0;
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_OLDEST, 0), 0);
	bad = rt_drain_hostile(&t, 1000, &delivered);
	assert_true(bad >= 1);
	assert_true(delivered >= 1);

	/* A writer that claims far more than the data area holds, all zero pads. */
	memset(t.w.data, 0, t.w.size);
	for (uint64_t off = 0; off < t.w.size; off += 8) {
		r = (void *)(t.w.data + off);
		r->len = 8;
		r->type = RAWCAP_REC_PAD;
	}
	store_relaxed(&t.w.hdr->tail, 0);
	store_release(&t.w.hdr->head, 1ull << 50);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_OLDEST, 0), 0);
	rt_drain_hostile(&t, 1000, &delivered);
	assert_int_equal(delivered, 0);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_TIME, TS0), -ENOENT);
	assert_int_equal(rawcap_seek(t.c, RAWCAP_SEEK_SEQ, 5), -ENOENT);
	rt_close(&t);
}

static void should_parse_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(rawcap_parse_size("64k", &v), 0);
	assert_int_equal(v, 64000);
	assert_int_equal(rawcap_parse_size("64K", &v), 0);
	assert_int_equal(v, 64000);
	assert_int_equal(rawcap_parse_size("64Ki", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(rawcap_parse_size("256Mi", &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(rawcap_parse_size("1G", &v), 0);
	assert_int_equal(v, 1000000000ull);
	assert_int_equal(rawcap_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(rawcap_parse_size("1Ti", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(rawcap_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rawcap_parse_size("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(rawcap_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(rawcap_parse_size("16777216Ti", &v), -ERANGE);
	assert_int_equal(rawcap_parse_size("", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("k", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("-1", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("12x", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("1 G", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("1GiBB", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size("1Gi ", &v), -EINVAL);
	assert_int_equal(rawcap_parse_size(NULL, &v), -EINVAL);
}

static void should_parse_durations(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_duration("5m", &v), 0);
	assert_int_equal(v, 300ull * 1000000000ull);
	assert_int_equal(rawcap_parse_duration("90s", &v), 0);
	assert_int_equal(v, 90ull * 1000000000ull);
	assert_int_equal(rawcap_parse_duration("1h30m", &v), 0);
	assert_int_equal(v, 5400ull * 1000000000ull);
	assert_int_equal(rawcap_parse_duration("250ms", &v), 0);
	assert_int_equal(v, 250000000ull);
	assert_int_equal(rawcap_parse_duration("3us", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(rawcap_parse_duration("7ns", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(rawcap_parse_duration("6000000000h", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("5124095h5124095h", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("99999999999999999999s", &v), -ERANGE);
	assert_int_equal(rawcap_parse_duration("", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("5", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("m", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("5x", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("5m ", &v), -EINVAL);
	assert_int_equal(rawcap_parse_duration("-5m", &v), -EINVAL);
}

static void should_parse_times(void **state)
{
	const uint64_t now = 1790000000ull * 1000000000ull;
	char buf[64];
	uint64_t v;

	(void)state;
	assert_int_equal(rawcap_parse_time("now", now, &v), 0);
	assert_int_equal(v, now);
	assert_int_equal(rawcap_parse_time("-5m", now, &v), 0);
	assert_int_equal(v, now - 300ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("+10s", now, &v), 0);
	assert_int_equal(v, now + 10ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("1790000000.5", now, &v), 0);
	assert_int_equal(v, now + 500000000ull);
	assert_int_equal(rawcap_parse_time("2026-11-26T10:02:00Z", now, &v), 0);
	assert_int_equal(v, 1795687320ull * 1000000000ull);
	assert_int_equal(rawcap_parse_time("2026-11-26T12:02:00.25+02:00", now, &v), 0);
	assert_int_equal(v, 1795687320ull * 1000000000ull + 250000000ull);
	assert_int_equal(rawcap_parse_time("2026-11-26 10:02:00.000000001z", now, &v), 0);
	assert_int_equal(v, 1795687320ull * 1000000000ull + 1);
	assert_string_equal(rawcap_format_time(1795687320ull * 1000000000ull + 1, buf, sizeof(buf)),
			    "2026-11-26T10:02:00.000000001Z");

	assert_int_equal(rawcap_parse_time("-100y", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("-1000000000h", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("+5124095h", UINT64_MAX - 5, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("99999999999999999999", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("18446744074", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("2026-13-01T00:00:00Z", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("2026-11-26T10:02:00", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("2026-11-26T10:02:00Zjunk", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("2026-11-26T25:02:00Z", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("1969-12-31T23:59:59Z", now, &v), -ERANGE);
	assert_int_equal(rawcap_parse_time("12.", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("12.5s", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("yesterday", now, &v), -EINVAL);
	assert_int_equal(rawcap_parse_time("", now, &v), -EINVAL);
}

static int group_setup(void **state)
{
	(void)state;
	rt_shm_dir();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rt_shm_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_hide_records_until_published),
		cmocka_unit_test(should_frame_records_with_len_type_seq_ts),
		cmocka_unit_test(should_align_every_record_to_8_bytes),
		cmocka_unit_test(should_pad_at_wrap_without_straddling),
		cmocka_unit_test(should_pad_last_8_bytes_with_short_pad),
		cmocka_unit_test(should_wrap_at_positions_far_from_zero),
		cmocka_unit_test(should_report_exact_gap_when_lapped),
		cmocka_unit_test(should_keep_tail_on_a_record_boundary_when_reclaiming),
		cmocka_unit_test(should_discard_record_overwritten_while_read),
		cmocka_unit_test(should_count_upstream_sequence_gaps_as_loss),
		cmocka_unit_test(should_count_record_too_large_for_copy_buffer),
		cmocka_unit_test(should_seek_by_time_through_index),
		cmocka_unit_test(should_seek_by_time_when_clock_jumps_backwards),
		cmocka_unit_test(should_seek_by_sequence),
		cmocka_unit_test(should_seek_to_oldest_held_when_sequence_was_overwritten),
		cmocka_unit_test(should_shrink_last_record),
		cmocka_unit_test(should_describe_interfaces_from_table),
		cmocka_unit_test(should_reattach_and_count_gap_after_restart),
		cmocka_unit_test(should_reattach_when_ring_is_replaced_without_retire),
		cmocka_unit_test(should_reject_missing_ring_and_bad_names),
		cmocka_unit_test(should_reject_broken_ring_objects),
		cmocka_unit_test(should_skip_garbage_without_looping),
		cmocka_unit_test(should_survive_hostile_lengths_and_positions),
		cmocka_unit_test(should_parse_sizes),
		cmocka_unit_test(should_parse_durations),
		cmocka_unit_test(should_parse_times),
	};

	alarm(60); /* a test that loops forever fails instead of hanging ctest */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
