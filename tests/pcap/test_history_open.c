// SPDX-License-Identifier: MIT
/*
 * test_history_open.c - opening a window reads the FIFO once and loses no
 * check, on segments written by the real segment writer:
 *   - the block history_bounds read for the oldest time is the one a seek
 *     to the oldest delivers, with the same records as a history that never
 *     asked for bounds;
 *   - a damaged oldest block still gives the oldest sequence number from its
 *     header, the oldest time from the next intact block, and is skipped
 *     and counted once when read;
 *   - a listing reused while the directory is unchanged is dropped when a
 *     segment appears (bounds and reads see it) or disappears;
 *   - a sealed history whose listed segments vanish while it is read fails
 *     (-ESTALE) instead of ending early and silently.
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

#include "history.h"
#include "seg_read.h"
#include "seg_writer.h"

#define TS_BASE	  1790000000000000000ull
#define SEG_BYTES (2ull * SEG_BLOCK_SIZE + SEG_HDR_SIZE) /* two blocks a segment */

static char tdir[128], tdir2[160];

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static void rm_dirs(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", tdir, tdir2);
	assert_int_equal(system(cmd), 0);
}

/* n packets of ~1.4 KB, seq 0.., ts TS_BASE + 10 * seq, into dir: two blocks per segment. */
static void write_fifo(const char *dir, uint64_t n)
{
	static uint8_t payload[sizeof(struct rawcap_pkt) + 1400];
	struct seg_writer_opts o = {.dir = dir, .gid = -1, .log = quiet, .segment_size = SEG_BYTES};
	struct seg_writer *w;

	assert_int_equal(seg_writer_open(&o, &w), 0);
	for (uint64_t s = 0; s < n; s++) {
		struct rawcap_rec_hdr h = {
			.len = (uint32_t)(sizeof(h) + sizeof(payload)),
			.type = RAWCAP_REC_PACKET,
			.seq = s,
			.ts_ns = TS_BASE + 10 * s,
		};

		assert_int_equal(seg_write_record(w, &h, payload), 0);
	}
	assert_int_equal(seg_writer_close(w), 0);
}

static char *seg_path(const char *dir, uint64_t seg_no)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/" SEG_NAME_FMT, dir, (unsigned long long)seg_no);
	return path;
}

static uint64_t first_seg(const char *dir)
{
	for (uint64_t n = 0; n < 64; n++)
		if (access(seg_path(dir, n), F_OK) == 0)
			return n;
	fail_msg("no segment in %s", dir);
	return 0;
}

/* Every record from the oldest: count, first and last seq; damage counted. */
struct readout {
	uint64_t n, first, last, corrupt;
};

static struct readout read_from_oldest(struct history *h)
{
	struct readout r = {.first = UINT64_MAX};
	struct rawcap_rec rec;

	assert_int_equal(history_seek(h, RAWCAP_SEEK_OLDEST, 0), 0);
	while (history_next(h, &rec, &r.corrupt) > 0) {
		if (r.first == UINT64_MAX)
			r.first = rec.seq;
		r.last = rec.seq;
		r.n++;
	}
	return r;
}

static void should_deliver_the_block_bounds_read(void **state)
{
	uint64_t os, ns, ots, nts;
	struct readout a, b;
	struct history *h;

	(void)state;
	rm_dirs();
	write_fifo(tdir, 3000);
	assert_int_equal(history_open(tdir, &h), 0);
	history_set_sealed(h, true);
	a = read_from_oldest(h);
	history_close(h);

	assert_int_equal(history_open(tdir, &h), 0);
	history_set_sealed(h, true);
	assert_int_equal(history_bounds(h, &os, &ns, &ots, &nts), 0);
	assert_int_equal(os, 0);
	assert_int_equal(ns, 2999);
	assert_int_equal(ots, TS_BASE);
	assert_int_equal(nts, TS_BASE + 10 * 2999);
	b = read_from_oldest(h);
	/* And again: the kept block is used once, then read as any other. */
	assert_memory_equal(&a, &b, sizeof(a));
	b = read_from_oldest(h);
	history_close(h);
	assert_int_equal(a.n, 3000);
	assert_int_equal(a.corrupt, 0);
	assert_memory_equal(&a, &b, sizeof(a));
	rm_dirs();
}

static void should_take_the_oldest_time_past_a_damaged_first_block(void **state)
{
	uint64_t seg, os, ns, ots, nts;
	struct seg_blk_hdr b0, b1;
	struct readout r;
	struct history *h;
	uint8_t byte;
	int fd;

	(void)state;
	rm_dirs();
	write_fifo(tdir, 3000);
	seg = first_seg(tdir);
	fd = open(seg_path(tdir, seg), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b0, sizeof(b0), (off_t)seg_blk_off(0)), sizeof(b0));
	assert_int_equal(pread(fd, &b1, sizeof(b1), (off_t)seg_blk_off(1)), sizeof(b1));
	assert_int_equal(pread(fd, &byte, 1, (off_t)seg_blk_off(0) + 1000), 1);
	byte ^= 0xff; /* the data, not the header: the header stays valid */
	assert_int_equal(pwrite(fd, &byte, 1, (off_t)seg_blk_off(0) + 1000), 1);
	close(fd);

	assert_int_equal(history_open(tdir, &h), 0);
	history_set_sealed(h, true);
	assert_int_equal(history_bounds(h, &os, &ns, &ots, &nts), 0);
	assert_int_equal(os, b0.first_seq);
	assert_int_equal(ots, TS_BASE + 10 * b1.first_seq);
	r = read_from_oldest(h);
	history_close(h);
	assert_int_equal(r.corrupt, 1);
	assert_int_equal(r.first, b1.first_seq);
	assert_int_equal(r.n, 3000 - b0.nrec);
	rm_dirs();
}

/* Copy segment seg_no of dir src into dst (same bytes, same name). */
static void copy_seg(const char *src, const char *dst, uint64_t seg_no)
{
	char cmd[640];

	snprintf(cmd, sizeof(cmd), "cp -p %s ", seg_path(src, seg_no));
	strcat(cmd, seg_path(dst, seg_no));
	assert_int_equal(system(cmd), 0);
}

static void should_see_segments_that_appear_or_go_after_a_listing(void **state)
{
	uint64_t seg, last, os, ns, ots, nts;
	struct readout r;
	struct history *h;

	(void)state;
	rm_dirs();
	/* The same stream twice, the second longer: its extra segment continues the first. */
	write_fifo(tdir, 3000);
	write_fifo(tdir2, 4000);
	seg = first_seg(tdir);
	for (last = seg; access(seg_path(tdir, last + 1), F_OK) == 0;)
		last++;
	assert_int_equal(access(seg_path(tdir2, last + 1), F_OK), 0);
	/* Only a directory unchanged for over a second has its listing reused. */
	sleep(2);
	assert_int_equal(history_open(tdir, &h), 0);
	history_set_sealed(h, true);
	assert_int_equal(history_bounds(h, &os, &ns, &ots, &nts), 0);
	assert_int_equal(ns, 2999);

	copy_seg(tdir2, tdir, last + 1);
	assert_int_equal(history_bounds(h, &os, &ns, &ots, &nts), 0);
	assert_true(ns > 2999);
	r = read_from_oldest(h);
	assert_int_equal(r.last, ns);
	assert_int_equal(r.corrupt, 0);

	assert_int_equal(unlink(seg_path(tdir, seg)), 0);
	assert_int_equal(history_bounds(h, &os, &ns, &ots, &nts), 0);
	assert_true(os > 0);
	r = read_from_oldest(h);
	assert_int_equal(r.first, os);
	history_close(h);
	rm_dirs();
}

/*
 * A sealed history (a snapshot) whose later segments are removed while it is
 * read fails with -ESTALE where they were: the read ended there, early and
 * silently, as if the snapshot were shorter (rawcap-snapshot delete from
 * another process under rawcap-pcap's export).
 */
static void should_fail_when_a_sealed_historys_segments_vanish_mid_read(void **state)
{
	uint64_t seg, last, n = 0, corrupt = 0;
	struct rawcap_rec rec;
	struct history *h;
	int ret;

	(void)state;
	rm_dirs();
	write_fifo(tdir, 3000);
	seg = first_seg(tdir);
	for (last = seg; access(seg_path(tdir, last + 1), F_OK) == 0;)
		last++;
	assert_true(last > seg + 1);
	assert_int_equal(history_open(tdir, &h), 0);
	history_set_sealed(h, true);
	assert_int_equal(history_seek(h, RAWCAP_SEEK_OLDEST, 0), 0);
	assert_int_equal(history_next(h, &rec, &corrupt), 1);
	for (uint64_t s = seg + 1; s <= last; s++)
		assert_int_equal(unlink(seg_path(tdir, s)), 0);
	while ((ret = history_next(h, &rec, &corrupt)) > 0)
		n++;
	assert_int_equal(ret, -ESTALE);
	assert_true(n < 3000);
	history_close(h);
	rm_dirs();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_deliver_the_block_bounds_read),
		cmocka_unit_test(should_take_the_oldest_time_past_a_damaged_first_block),
		cmocka_unit_test(should_see_segments_that_appear_or_go_after_a_listing),
		cmocka_unit_test(should_fail_when_a_sealed_historys_segments_vanish_mid_read),
	};

	snprintf(tdir, sizeof(tdir), "/tmp/rc-histopen-%d", (int)getpid());
	snprintf(tdir2, sizeof(tdir2), "%s-long", tdir);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
