// SPDX-License-Identifier: MIT
/*
 * test_history_damage.c - what the history reader does with damage and with
 * synthesised records, on segments written by the real segment writer:
 * a damaged block of the newest segment is skipped and counted in a sealed
 * history (snapshot, stopped capd) and waited for in a live one until the
 * reader gives up on it; synthesised records share only the number of the
 * record they precede; the oldest time held is the oldest record's.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/rawcap.h>

#include "crc32c.h"
#include "history.h"
#include "seg_read.h"
#include "seg_writer.h"

#define TS_BASE 1790000000000000000ull

static char tdir[128];

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static void rm_dir(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	assert_int_equal(system(cmd), 0);
}

static struct seg_writer *open_writer(void)
{
	struct seg_writer_opts o = {.dir = tdir, .gid = -1, .log = quiet};
	struct seg_writer *w;

	rm_dir();
	assert_int_equal(seg_writer_open(&o, &w), 0);
	return w;
}

/* A packet record of about 1400 bytes. */
static void put_pkt(struct seg_writer *w, uint64_t seq, uint64_t ts)
{
	static uint8_t payload[sizeof(struct rawcap_pkt) + 1400];
	struct rawcap_rec_hdr h = {
		.len = (uint32_t)(sizeof(h) + sizeof(payload)),
		.type = RAWCAP_REC_PACKET,
		.seq = seq,
		.ts_ns = ts,
	};

	assert_int_equal(seg_write_record(w, &h, payload), 0);
}

static void put_iface(struct seg_writer *w, uint64_t seq, uint16_t flags)
{
	struct rawcap_iface ifc = {.ifindex = 7, .linktype = 1};
	struct rawcap_rec_hdr h = {
		.len = (uint32_t)(sizeof(h) + sizeof(ifc)),
		.type = RAWCAP_REC_IFACE,
		.flags = flags,
		.seq = seq,
		.ts_ns = TS_BASE,
	};

	assert_int_equal(seg_write_record(w, &h, &ifc), 0);
}

static char *seg_path(uint64_t seg_no)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/" SEG_NAME_FMT, tdir, (unsigned long long)seg_no);
	return path;
}

/* The one segment the writer made (numbers start wherever it starts them). */
static uint64_t only_seg(void)
{
	for (uint64_t n = 0; n < 16; n++)
		if (access(seg_path(n), F_OK) == 0)
			return n;
	fail_msg("no segment in %s", tdir);
	return 0;
}

static uint32_t block_nrec(uint64_t seg, uint32_t blk)
{
	struct seg_blk_hdr b;
	int fd = open(seg_path(seg), O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, sizeof(b), (off_t)seg_blk_off(blk)), sizeof(b));
	close(fd);
	return b.nrec;
}

static void flip_data_byte(uint64_t seg, uint32_t blk)
{
	int fd = open(seg_path(seg), O_RDWR);
	off_t off = (off_t)seg_blk_off(blk) + 64 + 1000;
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0xFF;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

struct readout {
	uint64_t n, gaps, corrupt, last;
	int end;
};

static struct readout read_all(bool sealed, bool skip_holes)
{
	struct readout r = {0};
	struct rawcap_rec rec;
	struct history *h;
	uint64_t expect = 0;

	assert_int_equal(history_open(tdir, &h), 0);
	history_set_sealed(h, sealed);
	r.end = history_seek(h, RAWCAP_SEEK_OLDEST, 0);
	if (r.end) { /* nothing readable at all */
		assert_int_equal(r.end, -ENOENT);
		history_damage(h, &r.corrupt, &expect);
		history_close(h);
		return r;
	}
	for (;;) {
		r.end = history_next(h, &rec, &r.corrupt);
		if (r.end == 0 && skip_holes && history_skip_hole(h) == 0)
			continue;
		if (r.end <= 0)
			break;
		if (rec.seq > expect)
			r.gaps += rec.seq - expect;
		expect = rec.seq + 1;
		r.last = rec.seq;
		r.n++;
	}
	history_close(h);
	return r;
}

/* 3000 packets of ~1.4 KB: about 8 blocks, one segment (the newest). */
static uint64_t write_blocks(void)
{
	struct seg_writer *w = open_writer();

	for (uint64_t s = 0; s < 3000; s++)
		put_pkt(w, s, TS_BASE + s);
	assert_int_equal(seg_writer_close(w), 0);
	return only_seg();
}

static void should_skip_a_damaged_block_of_a_sealed_history(void **state)
{
	uint64_t seg = write_blocks(), blocks, recs;
	uint32_t lost = block_nrec(seg, 1);
	struct readout r;
	struct history *h;
	struct rawcap_rec rec;

	(void)state;
	flip_data_byte(seg, 1);
	r = read_all(true, false);
	assert_int_equal(r.corrupt, 1);
	assert_int_equal(r.gaps, lost);
	assert_int_equal(r.n, 3000 - lost);
	assert_int_equal(r.last, 2999);
	/* The records the damaged block's intact header listed are counted. */
	assert_int_equal(history_open(tdir, &h), 0);
	history_set_sealed(h, true);
	assert_int_equal(history_seek(h, RAWCAP_SEEK_OLDEST, 0), 0);
	while (history_next(h, &rec, NULL) > 0)
		;
	history_damage(h, &blocks, &recs);
	assert_int_equal(blocks, 1);
	assert_int_equal(recs, lost);
	history_close(h);
	rm_dir();
}

/* The last block written: where no valid block follows to tell damage from the end. */
static uint32_t last_block(uint64_t seg)
{
	struct seg_blk_hdr b;
	int fd = open(seg_path(seg), O_RDONLY);
	uint32_t n = 0;

	assert_true(fd >= 0);
	while (pread(fd, &b, sizeof(b), (off_t)seg_blk_off(n)) == sizeof(b) &&
	       b.magic == SEG_BLK_MAGIC && b.blk_no == n)
		n++;
	close(fd);
	assert_true(n > 1);
	return n - 1;
}

static void should_count_damage_in_the_last_block_of_a_sealed_history(void **state)
{
	uint64_t seg = write_blocks();
	uint32_t last = last_block(seg), lost = block_nrec(seg, last);
	struct readout r;

	(void)state;
	flip_data_byte(seg, last);
	r = read_all(true, false);
	assert_int_equal(r.corrupt, 1);
	assert_int_equal(r.n, 3000 - lost);
	assert_int_equal(r.last, 2999 - lost);
	rm_dir();
}

static void should_wait_for_a_gap_of_a_live_history_until_told(void **state)
{
	uint64_t seg = write_blocks();
	uint32_t lost = block_nrec(seg, 1);
	struct readout r;

	(void)state;
	flip_data_byte(seg, 1);
	/* Live: the gap may be writes in flight; the reader stops before it. */
	r = read_all(false, false);
	assert_int_equal(r.end, 0);
	assert_int_equal(r.corrupt, 0);
	assert_int_equal(r.n, block_nrec(seg, 0));
	/* Told that they will not come (the ring does not hold them): skip, count, go on. */
	r = read_all(false, true);
	assert_int_equal(r.corrupt, 1);
	assert_int_equal(r.n, 3000 - lost);
	assert_int_equal(r.last, 2999);
	rm_dir();
}

static void should_let_synthesised_records_share_only_the_next_number(void **state)
{
	struct seg_writer *w;
	struct readout r;

	(void)state;
	/* A window that starts at the first record: descriptions share its number 0. */
	w = open_writer();
	put_iface(w, 0, RAWCAP_REC_F_SYNTH);
	put_iface(w, 0, RAWCAP_REC_F_SYNTH);
	put_pkt(w, 0, TS_BASE);
	put_pkt(w, 1, TS_BASE + 1);
	put_iface(w, 2, RAWCAP_REC_F_SYNTH); /* trailing: the number the next record gets */
	assert_int_equal(seg_writer_close(w), 0);
	r = read_all(true, false);
	assert_int_equal(r.corrupt, 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.gaps, 0);
	/* Unmarked records that share a number are damage: the block is refused. */
	w = open_writer();
	put_iface(w, 0, 0);
	put_iface(w, 0, 0);
	put_pkt(w, 0, TS_BASE);
	assert_int_equal(seg_writer_close(w), 0);
	r = read_all(true, false);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.end, -ENOENT);
	/* A synthesised record followed by another number is refused too. */
	w = open_writer();
	put_iface(w, 0, RAWCAP_REC_F_SYNTH);
	put_pkt(w, 1, TS_BASE);
	assert_int_equal(seg_writer_close(w), 0);
	r = read_all(true, false);
	assert_int_equal(r.n, 0);
	rm_dir();
}

static void should_report_the_oldest_record_as_oldest(void **state)
{
	struct seg_writer *w = open_writer();
	uint64_t os, ns, ots, nts;
	struct history *h;

	(void)state;
	put_pkt(w, 0, TS_BASE + 500);
	put_pkt(w, 1, TS_BASE + 100); /* a packet stamped earlier, drained later */
	put_pkt(w, 2, TS_BASE + 900);
	assert_int_equal(seg_writer_close(w), 0);
	assert_int_equal(history_open(tdir, &h), 0);
	assert_int_equal(history_bounds(h, &os, &ns, &ots, &nts), 0);
	assert_int_equal(os, 0);
	assert_int_equal(ns, 2);
	assert_int_equal(ots, TS_BASE + 100);
	assert_int_equal(nts, TS_BASE + 900);
	history_close(h);
	rm_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_skip_a_damaged_block_of_a_sealed_history),
		cmocka_unit_test(should_count_damage_in_the_last_block_of_a_sealed_history),
		cmocka_unit_test(should_wait_for_a_gap_of_a_live_history_until_told),
		cmocka_unit_test(should_let_synthesised_records_share_only_the_next_number),
		cmocka_unit_test(should_report_the_oldest_record_as_oldest),
	};

	snprintf(tdir, sizeof(tdir), "/tmp/rc-histdmg-%d", (int)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
