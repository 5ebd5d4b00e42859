// SPDX-License-Identifier: MIT
/*
 * test_stream.c - the msgpack stream's frames: what the forwarder encodes
 * decodes to the same values; receivers' HELLO/ACK round-trip; truncated,
 * oversized and malformed bytes are rejected, never read past.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "forward_int.h"

static struct fwd_buf b;

static int setup(void **state)
{
	(void)state;
	return fwd_buf_init(&b, 1 << 20);
}

static int teardown(void **state)
{
	(void)state;
	fwd_buf_free(&b);
	return 0;
}

static void should_round_trip_a_packet_frame(void **state)
{
	uint8_t rec_buf[sizeof(struct rawcap_pkt) + 100];
	struct rawcap_pkt *p = (void *)rec_buf;
	struct rawcap_rec rec = {.seq = 77,
				 .ts_ns = 1790000000123456789ull,
				 .type = RAWCAP_REC_PACKET,
				 .len = sizeof(rec_buf),
				 .payload = rec_buf};
	struct rawcap_stream_frame f;
	int n;

	(void)state;
	memset(rec_buf, 0xab, sizeof(rec_buf));
	memset(p, 0, sizeof(*p));
	p->ifindex = 3, p->orig_len = 1500, p->linktype = 1, p->dir = RAWCAP_DIR_OUTGOING;
	p->pkt_flags = RAWCAP_PKT_CGROUP, p->cgroup_id = 4242;
	b.len = b.off = 0;
	assert_int_equal(fwd_stream_record(&b, &rec, 0), 0);
	n = rawcap_stream_decode(b.p, b.len, &f);
	assert_int_equal(n, (int)b.len);
	assert_int_equal(f.type, RAWCAP_STREAM_PACKET);
	assert_int_equal(f.seq, 77);
	assert_true(f.ts_ns == rec.ts_ns);
	assert_int_equal(f.ifindex, 3);
	assert_int_equal(f.orig_len, 1500);
	assert_int_equal(f.dir, RAWCAP_DIR_OUTGOING);
	assert_int_equal(f.cgroup_id, 4242);
	assert_int_equal(f.data_len, 100);
	assert_memory_equal(f.data, rec_buf + sizeof(*p), 100);
	/* Every truncation asks for more bytes; none decodes. */
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(rawcap_stream_decode(b.p, i, &f), 0);
}

static void should_round_trip_gap_end_and_pause(void **state)
{
	struct rawcap_stream_frame f;
	size_t off = 0;
	int n;

	(void)state;
	b.len = b.off = 0;
	assert_int_equal(fwd_stream_gap(&b, 1000, 250, RAWCAP_STREAM_GAP_RECYCLED), 0);
	assert_int_equal(fwd_stream_end(&b, 1249), 0);
	assert_int_equal(fwd_stream_pause(&b, true, 99), 0);
	n = rawcap_stream_decode(b.p, b.len, &f);
	assert_true(n > 0);
	assert_int_equal(f.type, RAWCAP_STREAM_GAP);
	assert_int_equal(f.seq, 1000);
	assert_int_equal(f.count, 250);
	assert_int_equal(f.reason, RAWCAP_STREAM_GAP_RECYCLED);
	off += (size_t)n;
	n = rawcap_stream_decode(b.p + off, b.len - off, &f);
	assert_int_equal(f.type, RAWCAP_STREAM_END);
	assert_int_equal(f.seq, 1249);
	off += (size_t)n;
	n = rawcap_stream_decode(b.p + off, b.len - off, &f);
	assert_int_equal(f.type, RAWCAP_STREAM_PAUSE);
	assert_true(f.paused);
	assert_int_equal(off + (size_t)n, b.len);
}

static void should_round_trip_receiver_hello_and_ack(void **state)
{
	uint8_t buf[256];
	struct rawcap_stream_frame f;
	int n;

	(void)state;
	n = rawcap_stream_hello(buf, sizeof(buf), "zeek-1", true, 123456);
	assert_true(n > 0);
	assert_int_equal(rawcap_stream_decode(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, RAWCAP_STREAM_HELLO);
	assert_string_equal(f.stream_id, "zeek-1");
	assert_true(f.has_resume);
	assert_int_equal(f.resume_seq, 123456);
	n = rawcap_stream_ack(buf, sizeof(buf), 99);
	assert_int_equal(rawcap_stream_decode(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, RAWCAP_STREAM_ACK);
	assert_int_equal(f.seq, 99);
	assert_int_equal(rawcap_stream_hello(buf, 8, "x", false, 0), -ENOSPC);
}

static void should_reject_malformed_frames(void **state)
{
	struct rawcap_stream_frame f;
	uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff};
	uint8_t zero[4] = {0, 0, 0, 0};
	uint8_t not_array[5] = {0, 0, 0, 1, 0x05};	      /* a bare integer */
	uint8_t short_ack[6] = {0, 0, 0, 2, 0x91, 0x07};      /* [7] without seq */
	uint8_t trailing[7] = {0, 0, 0, 3, 0x91, 0x07, 0x01}; /* bytes after the array */
	uint8_t bin_as_seq[9] = {0, 0, 0, 5, 0x92, 0x07, 0xc4, 0x01, 0x00};

	(void)state;
	assert_int_equal(rawcap_stream_decode(huge, 4, &f), -EBADMSG);
	assert_int_equal(rawcap_stream_decode(zero, 4, &f), -EBADMSG);
	assert_int_equal(rawcap_stream_decode(not_array, 5, &f), -EBADMSG);
	assert_int_equal(rawcap_stream_decode(short_ack, 6, &f), -EBADMSG);
	assert_int_equal(rawcap_stream_decode(trailing, 7, &f), -EBADMSG);
	assert_int_equal(rawcap_stream_decode(bin_as_seq, 9, &f), -EBADMSG);
}

static void should_never_grow_the_queue_past_its_bound(void **state)
{
	struct fwd_buf small;
	uint8_t x[100] = {0};
	int ok = 0;

	(void)state;
	assert_int_equal(fwd_buf_init(&small, 1000), 0);
	while (fwd_buf_put(&small, x, sizeof(x)) == 0)
		ok++;
	assert_int_equal(ok, 10);
	assert_int_equal(fwd_stream_gap(&small, 1, 1, 1), -ENOBUFS);
	fwd_buf_consume(&small, 550);
	assert_int_equal(fwd_buf_put(&small, x, sizeof(x)), 0); /* compacts */
	assert_int_equal(small.len, 550);
	fwd_buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_round_trip_a_packet_frame),
		cmocka_unit_test(should_round_trip_gap_end_and_pause),
		cmocka_unit_test(should_round_trip_receiver_hello_and_ack),
		cmocka_unit_test(should_reject_malformed_frames),
		cmocka_unit_test(should_never_grow_the_queue_past_its_bound),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
