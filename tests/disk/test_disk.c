// SPDX-License-Identifier: MIT
/*
 * test_disk.c - the disk FIFO's segment format, writer, history reader and
 * persister, in one process: round trips, seeks over many segments, damaged
 * and truncated segments, garbage files, the persister being lapped, and one
 * cursor running from disk into the live ring without a seam.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/rawcap.h>

#include "atomics.h"
#include "crc32c.h"
#include "disk_pattern.h"
#include "history.h"
#include "persister.h"
#include "seg_read.h"
#include "seg_writer.h"

#define TS_BASE 1790000000000000000ull
#define TS_STEP 1000ull

static char tdir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/rc-disk-test-%d", (int)getpid());
	return system("true"); /* dirs are made per test */
}

static void rm_dir(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	assert_int_equal(system(cmd), 0);
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

/* Write records first..first+n-1 in the test pattern. */
static void put(struct seg_writer *w, uint64_t first, uint64_t n, uint32_t maxpay)
{
	static uint8_t payload[RAWCAP_REC_MAX];

	for (uint64_t s = first; s < first + n; s++) {
		uint32_t caplen = disk_pat_caplen(s, maxpay);
		struct rawcap_rec_hdr h = {
			.len = (uint32_t)(sizeof(h) + sizeof(struct rawcap_pkt) + caplen),
			.type = RAWCAP_REC_PACKET,
			.seq = s,
			.ts_ns = TS_BASE + s * TS_STEP,
		};

		disk_pat_fill(payload, s, caplen);
		assert_int_equal(seg_write_record(w, &h, payload), 0);
	}
}

static struct seg_writer *open_writer(bool fifo, uint64_t total, uint64_t segsz)
{
	struct seg_writer_opts o = {.dir = tdir,
				    .total_size = total,
				    .segment_size = segsz,
				    .fifo = fifo,
				    .direct_io = true,
				    .gid = -1,
				    .log = quiet};
	struct seg_writer *w;

	assert_int_equal(seg_writer_open(&o, &w), 0);
	return w;
}

struct readout {
	uint64_t n, first, last, gaps_lost, corrupt, bad;
};

static struct readout read_all(enum rawcap_seek whence, uint64_t value)
{
	struct readout r = {0};
	struct history *h;
	struct rawcap_rec rec;

	assert_int_equal(history_open(tdir, &h), 0);
	if (history_seek(h, whence, value) == 0) {
		while (history_next(h, &rec, &r.corrupt) > 0) {
			if (r.n && rec.seq != r.last + 1)
				r.gaps_lost += rec.seq - r.last - 1;
			if (!r.n)
				r.first = rec.seq;
			r.last = rec.seq;
			r.n++;
			if (!disk_pat_check(rec.payload, rec.len, rec.seq))
				r.bad++;
		}
	}
	history_close(h);
	return r;
}

static void should_compute_crc32c_like_the_standard(void **state)
{
	static uint8_t big[100003];

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c_portable(0, "123456789", 9), 0xe3069283);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	assert_int_equal(crc32c(0, big + 1, sizeof(big) - 1),
			 crc32c_portable(0, big + 1, sizeof(big) - 1));
	assert_int_equal(crc32c(crc32c(0, big, 1000), big + 1000, 5000), crc32c(0, big, 6000));
}

static void should_round_trip_and_seek_across_segments(void **state)
{
	struct seg_writer *w;
	struct readout r;
	uint64_t n = 20000;

	(void)state;
	rm_dir();
	w = open_writer(false, 0, seg_file_size(2));
	put(w, 100, n, 1400);
	assert_int_equal(seg_writer_close(w), 0);

	r = read_all(RAWCAP_SEEK_OLDEST, 0);
	assert_int_equal(r.n, n);
	assert_int_equal(r.first, 100);
	assert_int_equal(r.last, 100 + n - 1);
	assert_int_equal(r.bad + r.corrupt + r.gaps_lost, 0);

	for (uint64_t s = 100; s < 100 + n; s += 1777) {
		r = read_all(RAWCAP_SEEK_SEQ, s);
		assert_int_equal(r.first, s);
		assert_int_equal(r.n, 100 + n - s);
		r = read_all(RAWCAP_SEEK_TIME, TS_BASE + s * TS_STEP - TS_STEP / 2);
		assert_int_equal(r.first, s);
	}
	r = read_all(RAWCAP_SEEK_SEQ, 100 + n); /* past the newest */
	assert_int_equal(r.n, 0);
	rm_dir();
}

static void flip_byte(uint64_t seg_no, uint64_t off)
{
	char path[256];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/" SEG_NAME_FMT, tdir, (unsigned long long)seg_no);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static uint32_t block_nrec(uint64_t seg_no, uint32_t blk)
{
	char path[256];
	struct seg_blk_hdr b;
	int fd;

	snprintf(path, sizeof(path), "%s/" SEG_NAME_FMT, tdir, (unsigned long long)seg_no);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, sizeof(b), (off_t)seg_blk_off(blk)), sizeof(b));
	close(fd);
	return b.nrec;
}

static void should_skip_exactly_the_damaged_block(void **state)
{
	struct seg_writer *w;
	struct readout r;
	uint64_t n = 20000;
	uint32_t lost_data, lost_hdr;

	(void)state;
	rm_dir();
	w = open_writer(false, 0, seg_file_size(4));
	put(w, 0, n, 1400);
	assert_int_equal(seg_writer_close(w), 0);
	/* Segment 2, block 1: a byte in the data; segment 3, block 2: its header magic. */
	lost_data = block_nrec(2, 1);
	lost_hdr = block_nrec(3, 2);
	flip_byte(2, seg_blk_off(1) + 64 + 5000);
	flip_byte(3, seg_blk_off(2) + 1);

	r = read_all(RAWCAP_SEEK_OLDEST, 0);
	assert_int_equal(r.corrupt, 2);
	assert_int_equal(r.gaps_lost, lost_data + lost_hdr);
	assert_int_equal(r.n, n - lost_data - lost_hdr);
	assert_int_equal(r.bad, 0);
	rm_dir();
}

static void should_recover_from_truncation_and_garbage(void **state)
{
	char path[256];
	struct seg_writer *w;
	struct seg_writer_stats st;
	struct readout r;
	static uint8_t junk[300000];
	int fd;

	(void)state;
	rm_dir();
	w = open_writer(true, 16 * seg_file_size(2), seg_file_size(2));
	put(w, 0, 10000, 1400);
	assert_int_equal(seg_writer_close(w), 0);

	/* Truncate the newest segment in the middle of its first block. */
	r = read_all(RAWCAP_SEEK_OLDEST, 0);
	assert_int_equal(r.n, 10000);
	for (uint64_t s = 1;; s++) {
		snprintf(path, sizeof(path), "%s/" SEG_NAME_FMT, tdir, (unsigned long long)s + 1);
		if (access(path, F_OK)) {
			snprintf(path, sizeof(path), "%s/" SEG_NAME_FMT, tdir,
				 (unsigned long long)s);
			break;
		}
	}
	assert_int_equal(truncate(path, seg_blk_off(0) + 1000), 0);
	/* Garbage: a file with our name pattern, one with another name, random bytes. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 2654435761u >> 13);
	snprintf(path, sizeof(path), "%s/seg-00000000000000ff.rcs", tdir);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	snprintf(path, sizeof(path), "%s/notes.txt", tdir);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	assert_int_equal(write(fd, junk, 100), 100);
	close(fd);

	r = read_all(RAWCAP_SEEK_OLDEST, 0); /* the reader survives it all */
	assert_true(r.n > 0 && r.n < 10000);
	assert_int_equal(r.bad, 0);

	w = open_writer(true, 16 * seg_file_size(2), seg_file_size(2));
	seg_writer_get_stats(w, &st);
	assert_int_equal(st.next_seq, r.last + 1); /* continues after what survived */
	put(w, r.last + 1, 5000, 1400);
	assert_int_equal(seg_writer_close(w), 0);
	r = read_all(RAWCAP_SEEK_OLDEST, 0);
	assert_int_equal(r.last, st.next_seq + 5000 - 1);
	assert_int_equal(r.gaps_lost + r.bad, 0);
	snprintf(path, sizeof(path), "%s/seg-00000000000000ff.rcs", tdir);
	assert_int_not_equal(access(path, F_OK), 0); /* the FIFO removed the torn file */
	rm_dir();
}

static void should_refuse_storage_smaller_than_two_segments(void **state)
{
	uint32_t nb, ns;
	uint64_t min;

	(void)state;
	assert_int_equal(seg_geometry(1 << 20, 0, true, &nb, &ns, &min), -EINVAL);
	assert_true(min > (1 << 20));
	assert_int_equal(seg_geometry(min, 0, true, &nb, &ns, &min), 0);
	assert_int_equal(ns, 2);
	assert_int_equal(seg_geometry(1ull << 30, 0, true, &nb, &ns, &min), 0);
	assert_int_equal(ns, 16);
	assert_true(ns * seg_file_size(nb) <= (1ull << 30));
}

static const char *ring_name(void)
{
	static char name[64];

	snprintf(name, sizeof(name), "rc-disk-test-%d", (int)getpid());
	return name;
}

static void ring_put(struct ring_writer *w, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seq = w->next_seq;
		uint32_t caplen = disk_pat_caplen(seq, 1400);
		void *p = ring_reserve(w, RAWCAP_REC_PACKET, 0, TS_BASE + seq * TS_STEP,
				       (uint32_t)sizeof(struct rawcap_pkt) + caplen);

		disk_pat_fill(p, seq, caplen);
	}
	ring_publish(w);
}

static void unlink_ring(void)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/shm/rawcap-%s", ring_name());
	unlink(path);
}

static void should_count_and_announce_when_lapped(void **state)
{
	struct persister_opts po = {.dir = tdir,
				    .size = 16 * seg_file_size(2),
				    .segment_size = seg_file_size(2),
				    .direct_io = true,
				    .uid = -1,
				    .gid = -1,
				    .log = quiet};
	struct ring_writer_opts ro = {.name = ring_name(), .data_size = 1 << 20, .gid = (gid_t)-1};
	struct ring_writer w;
	struct persister *p;
	struct persister_stats ps;
	struct history *h;
	struct rawcap_rec rec;
	uint64_t corrupt = 0, loss = 0, loss_recs = 0;

	(void)state;
	rm_dir();
	assert_int_equal(persister_open(&po, &p), 0);
	assert_int_equal(ring_writer_create(&w, &ro), 0);
	persister_attach(p, &w);
	ring_put(&w, 100);
	persister_pump(p, &w);
	ring_put(&w, 5000); /* ~4 MB through a 1 MiB ring without a pump: lapped */
	persister_pump(p, &w);
	persister_get_stats(p, &ps);
	assert_true(ps.lapped_records > 0);
	assert_int_equal(
		load_relaxed(&w.hdr->counters[RING_CNT_LOSS_BASE + RAWCAP_LOSS_PERSIST_LAPPED]),
		ps.lapped_records);
	assert_int_equal(persister_close(p, &w, NULL), 0);
	ring_writer_close(&w);
	unlink_ring();

	assert_int_equal(history_open(tdir, &h), 0);
	assert_int_equal(history_seek(h, RAWCAP_SEEK_OLDEST, 0), 0);
	while (history_next(h, &rec, &corrupt) > 0) {
		if (rec.type == RAWCAP_REC_LOSS) {
			const struct rawcap_loss *l = rec.payload;

			assert_int_equal(l->cause, RAWCAP_LOSS_PERSIST_LAPPED);
			assert_int_equal(l->first_seq, 100);
			loss += l->count;
			loss_recs++;
		}
	}
	history_close(h);
	assert_int_equal(loss_recs, 1);
	assert_int_equal(loss, ps.lapped_records);
	rm_dir();
}

/*
 * Pump until everything published is copied (bounded: 10 s). On a loaded
 * machine the writes may complete late, and more records would then lap the
 * persister: lapping has its own test, this one needs every record on disk.
 */
static void pump_until_caught_up(struct persister *p, struct ring_writer *w)
{
	struct persister_stats ps;

	for (int i = 0; i < 10000; i++) {
		persister_pump(p, w);
		persister_get_stats(p, &ps);
		if (!ps.behind_bytes)
			return;
		usleep(1000);
	}
}

static void should_read_from_disk_into_the_ring_without_a_seam(void **state)
{
	struct persister_opts po = {.dir = tdir,
				    .size = 32 * seg_file_size(2),
				    .segment_size = seg_file_size(2),
				    .direct_io = true,
				    .uid = -1,
				    .gid = -1,
				    .log = quiet};
	struct ring_writer_opts ro = {.name = ring_name(), .data_size = 1 << 20, .gid = (gid_t)-1};
	struct rawcap_open_opts oo = {.sz = sizeof(oo), .ring = ring_name(), .storage_dir = tdir};
	static uint8_t buf[RAWCAP_REC_MAX];
	struct rawcap_cursor *c;
	struct ring_writer w;
	struct persister *p;
	struct rawcap_stats st;
	struct rawcap_rec rec;
	uint64_t n = 0, disk = 0, ring = 0, t1, t2, expect;
	int ret;

	(void)state;
	rm_dir();
	assert_int_equal(persister_open(&po, &p), 0);
	assert_int_equal(ring_writer_create(&w, &ro), 0);
	persister_attach(p, &w);
	for (int i = 0; i < 200; i++) { /* ~8 MB through a 1 MiB ring, pumped like capd */
		ring_put(&w, 50);
		pump_until_caught_up(p, &w);
	}
	assert_int_equal(persister_close(p, &w, NULL), 0);
	ring_put(&w, 1000); /* newer than the disk: only in the ring */

	assert_int_equal(rawcap_open_opts(&oo, &c), 0);
	assert_int_equal(rawcap_seek(c, RAWCAP_SEEK_OLDEST, 0), 0);
	while ((ret = rawcap_next_copy(c, &rec, buf, sizeof(buf))) > 0) {
		assert_int_equal(rec.seq, n);
		assert_true(disk_pat_check(rec.payload, rec.len, rec.seq));
		rec.source == RAWCAP_SOURCE_DISK ? disk++ : ring++;
		n++;
	}
	rawcap_get_stats(c, &st);
	assert_int_equal(n, 11000);
	assert_int_equal(st.records_lost, 0);
	assert_int_equal(disk, 10000);
	assert_int_equal(ring, 1000);

	/* A time window spanning both: exactly the records inside it. */
	t1 = TS_BASE + 3000 * TS_STEP + 1;
	t2 = TS_BASE + 10500 * TS_STEP;
	assert_int_equal(rawcap_seek(c, RAWCAP_SEEK_TIME, t1), 0);
	n = disk = ring = 0;
	expect = 3001;
	while ((ret = rawcap_next_copy(c, &rec, buf, sizeof(buf))) > 0 && rec.ts_ns < t2) {
		assert_int_equal(rec.seq, expect);
		assert_true(disk_pat_check(rec.payload, rec.len, rec.seq));
		rec.source == RAWCAP_SOURCE_DISK ? disk++ : ring++;
		expect++;
		n++;
	}
	assert_int_equal(n, 10500 - 3001);
	assert_true(disk > 0 && ring > 0); /* the window really spans both */
	rawcap_close(c);
	ring_writer_close(&w);
	unlink_ring();
	rm_dir();
}

static void unlink_ring(void);

/* Runs even when a test failed: leave nothing behind. */
static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	unlink_ring();
	return system(cmd) ? -1 : 0;
}

/* What a snapshot's retired callback saw: each segment's number and its bytes' CRC then. */
struct retired_log {
	uint64_t seg_no[64];
	uint32_t crc[64];
	unsigned n;
};

static uint32_t file_crc(uint64_t seg_no, uint64_t *size)
{
	char path[256];
	uint8_t buf[65536];
	uint32_t crc = 0;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "%s/" SEG_NAME_FMT, tdir, (unsigned long long)seg_no);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	*size = 0;
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		crc = crc32c(crc, buf, (size_t)got);
		*size += (uint64_t)got;
	}
	close(fd);
	return crc;
}

static void log_retired(void *arg, uint64_t seg_no)
{
	struct retired_log *l = arg;
	uint64_t size;

	assert_true(l->n < 64);
	l->seg_no[l->n] = seg_no;
	l->crc[l->n++] = file_crc(seg_no, &size);
	assert_true(size > SEG_HDR_SIZE); /* its blocks, not only its header */
}

/* A snapshot hashes segments as they are reported: their bytes must be final then. */
static void should_report_each_left_snapshot_segment_once_final(void **state)
{
	struct retired_log l = {0};
	struct seg_writer_opts o = {.dir = tdir,
				    .segment_size = seg_file_size(2),
				    .direct_io = true,
				    .gid = -1,
				    .sync_retired = true,
				    .retired = log_retired,
				    .retired_arg = &l,
				    .log = quiet};
	struct seg_writer_stats st;
	struct seg_writer *w;
	uint64_t size;

	(void)state;
	rm_dir();
	assert_int_equal(seg_writer_open(&o, &w), 0);
	put(w, 0, 6000, 1400); /* several MiB: four or more 1 MiB segments */
	seg_writer_get_stats(w, &st);
	assert_int_equal(seg_writer_close(w), 0);
	assert_true(st.nsegs >= 4);
	/*
	 * Every segment but the last (still being written at close), once. Not
	 * necessarily in order: each is reported when its own fdatasync
	 * completes, and io_uring completes them in any order.
	 */
	assert_int_equal(l.n, st.nsegs - 1);
	for (unsigned i = 0; i < l.n; i++) {
		unsigned seen = 0;

		for (unsigned j = 0; j < l.n; j++)
			if (l.seg_no[j] == i + 1) {
				seen++;
				assert_int_equal(file_crc(l.seg_no[j], &size), l.crc[j]);
			}
		assert_int_equal(seen, 1);
	}
	assert_int_equal(read_all(RAWCAP_SEEK_OLDEST, 0).n, 6000);
}

/* What a snapshot's sealed callback saw, laid out as a file: CRC and length per segment. */
struct sealed_log {
	uint64_t seg_no[64], pos[64];
	uint32_t crc[64];
	unsigned n;
};

static void log_sealed(void *arg, uint64_t seg_no, uint64_t off, const void *buf, size_t len)
{
	static const uint8_t zeros[SEG_BLOCK_SIZE];
	struct sealed_log *l = arg;
	unsigned i = l->n;

	if (!l->n || l->seg_no[l->n - 1] != seg_no) { /* a segment starts with its header */
		assert_true(l->n < 64);
		assert_int_equal(off, 0);
		assert_int_equal(len, SEG_HDR_SIZE);
		l->seg_no[l->n++] = seg_no;
	} else {
		i = l->n - 1;
	}
	assert_true(off >= l->pos[i]); /* in file order, each byte once */
	assert_true(off - l->pos[i] <= sizeof(zeros));
	l->crc[i] = crc32c(l->crc[i], zeros, off - l->pos[i]); /* a hole reads as zeros */
	l->crc[i] = crc32c(l->crc[i], buf, len);
	l->pos[i] = off + len;
}

/* A snapshot writer of segments of nblocks blocks whose sealed blocks go to arg. */
static struct seg_writer_opts sealed_opts(uint32_t nblocks, void *arg)
{
	return (struct seg_writer_opts){.dir = tdir,
					.segment_size = seg_file_size(nblocks),
					.gid = -1,
					.sync_retired = true,
					.sealed_arg = arg,
					.log = quiet};
}

/* Write n small records, then big ones far apart from the next block (holes); close. */
static struct seg_writer_stats write_sealed(const struct seg_writer_opts *o, uint64_t n,
					    uint64_t big)
{
	struct seg_writer_stats st;
	struct seg_writer *w;

	rm_dir();
	assert_int_equal(seg_writer_open(o, &w), 0);
	put(w, 0, n, 1400);
	put(w, n, big, 60000);
	seg_writer_get_stats(w, &st);
	assert_int_equal(seg_writer_close(w), 0);
	return st;
}

/* The stream logged is every segment's exact bytes, the last one's too (truncated at close). */
static void check_sealed_log(const struct sealed_log *l, uint32_t nsegs)
{
	uint64_t size;

	assert_int_equal(l->n, nsegs);
	for (unsigned i = 0; i < l->n; i++) {
		assert_int_equal(l->seg_no[i], i + 1);
		assert_int_equal(file_crc(l->seg_no[i], &size), l->crc[i]);
		assert_int_equal(size, l->pos[i]);
	}
}

/* A snapshot hashes what the writer submits: that stream must be exactly the files' bytes. */
static void should_report_sealed_bytes_equal_to_the_files(void **state)
{
	struct sealed_log l = {0};
	struct seg_writer_opts o = sealed_opts(2, &l);
	struct seg_writer_stats st;

	(void)state;
	o.sealed = log_sealed;
	st = write_sealed(&o, 3000, 40);
	assert_true(st.nsegs >= 3);
	check_sealed_log(&l, st.nsegs);
	assert_int_equal(read_all(RAWCAP_SEEK_OLDEST, 0).n, 3040);
}

/*
 * A consumer that reads the reported buffers later (a hashing thread): it
 * holds every report until the writer says it will reuse that buffer
 * (sealed_wait), then reads the held ones in order. Had the writer refilled
 * or freed a buffer first, the late read would see other bytes.
 */
struct deferred_log {
	struct sealed_log l;
	struct {
		uint64_t seg_no, off;
		const void *buf;
		size_t len;
	} held[256];
	unsigned nheld, most_held, waits, blocks;
};

static void defer_sealed(void *arg, uint64_t seg_no, uint64_t off, const void *buf, size_t len)
{
	struct deferred_log *d = arg;

	assert_true(d->nheld < 256);
	d->held[d->nheld].seg_no = seg_no;
	d->held[d->nheld].off = off;
	d->held[d->nheld].buf = buf;
	d->held[d->nheld].len = len;
	d->blocks += off != 0;
	if (++d->nheld > d->most_held)
		d->most_held = d->nheld;
}

static void defer_wait(void *arg, const void *buf)
{
	struct deferred_log *d = arg;
	unsigned upto = 0, k = 0;

	d->waits++;
	for (unsigned i = 0; i < d->nheld; i++)
		if (!buf || d->held[i].buf == buf)
			upto = i + 1;
	for (unsigned i = 0; i < upto; i++)
		log_sealed(&d->l, d->held[i].seg_no, d->held[i].off, d->held[i].buf,
			   d->held[i].len);
	for (unsigned i = upto; i < d->nheld; i++)
		d->held[k++] = d->held[i];
	d->nheld = k;
}

static void should_keep_reported_buffers_until_the_consumer_is_done(void **state)
{
	struct deferred_log d = {0};
	struct seg_writer_opts o = sealed_opts(64, &d);
	struct seg_writer_stats st;

	(void)state;
	o.sealed = defer_sealed;
	o.sealed_wait = defer_wait;
	st = write_sealed(&o, 60000, 40); /* more blocks in a segment than the writer has buffers */
	assert_true(d.blocks > 2 * 32);
	assert_int_equal(d.nheld, 0); /* close waited for every buffer before freeing them */
	assert_true(d.most_held > 2); /* the reads really came late */
	check_sealed_log(&d.l, st.nsegs);
}

/* Frame records first..first+n-1 of the test pattern into data as a block holds them. */
static struct seg_block_in frame_block(uint8_t *data, uint64_t first, uint64_t n)
{
	struct seg_block_in in = {
		.data = data, .nrec = (uint32_t)n, .first_seq = first, .last_seq = first + n - 1};

	for (uint64_t s = first; s < first + n; s++) {
		uint32_t caplen = disk_pat_caplen(s, 1400);
		struct rawcap_rec_hdr h = {
			.len = (uint32_t)(sizeof(h) + sizeof(struct rawcap_pkt) + caplen),
			.type = RAWCAP_REC_PACKET,
			.seq = s,
			.ts_ns = TS_BASE + s * TS_STEP,
		};
		uint32_t span = rawcap_rec_span(h.len);

		assert_true(in.used + span <= SEG_BLK_CAP);
		memset(data + in.used, 0, span);
		memcpy(data + in.used, &h, sizeof(h));
		disk_pat_fill(data + in.used + sizeof(h), s, caplen);
		in.used += span;
		in.bytes += h.len;
		in.max_ts = h.ts_ns;
	}
	in.data_crc = crc32c(0, data, in.used);
	return in;
}

/*
 * Whole blocks between records: one framed in a buffer the writer lent (taken
 * back without a copy), one in the caller's memory (copied). Each gets a
 * block of its own, the stream reads back whole and in order, every block
 * checks (the given CRC is the data's), the high-water mark seeks by time,
 * and what is reported for hashing is the files' bytes.
 */
static void should_write_whole_blocks_lent_or_copied(void **state)
{
	static uint8_t mine[SEG_BLOCK_SIZE];
	struct sealed_log l = {0};
	struct seg_writer_opts o = sealed_opts(2, &l);
	struct seg_writer_stats st;
	struct seg_block_in in;
	struct seg_writer *w;
	struct readout r;
	uint8_t *lent;

	(void)state;
	o.sealed = log_sealed;
	rm_dir();
	assert_int_equal(seg_writer_open(&o, &w), 0);
	put(w, 0, 10, 1400);
	lent = seg_writer_lend(w);
	assert_non_null(lent);
	in = frame_block(lent + sizeof(struct seg_blk_hdr), 10, 300);
	assert_int_equal(seg_write_block(w, &in), 0);
	in = frame_block(mine, 310, 200);
	assert_int_equal(seg_write_block(w, &in), 0);
	in.last_seq++; /* the numbers must say as many records as nrec */
	assert_int_equal(seg_write_block(w, &in), -EINVAL);
	put(w, 510, 20, 1400);
	seg_writer_get_stats(w, &st);
	assert_int_equal(st.records, 530);
	assert_int_equal(st.next_seq, 530);
	assert_int_equal(st.ts_hwm, TS_BASE + 529 * TS_STEP);
	assert_int_equal(seg_writer_close(w), 0);
	assert_int_equal(block_nrec(1, 0), 10); /* the partial block was written short */
	assert_int_equal(block_nrec(1, 1), 300);
	assert_int_equal(block_nrec(2, 0), 200);
	assert_int_equal(block_nrec(2, 1), 20);
	r = read_all(RAWCAP_SEEK_OLDEST, 0);
	assert_int_equal(r.n, 530);
	assert_int_equal(r.corrupt + r.bad + r.gaps_lost, 0);
	r = read_all(RAWCAP_SEEK_TIME, TS_BASE + 400 * TS_STEP);
	assert_int_equal(r.first, 400);
	assert_int_equal(r.n, 130);
	check_sealed_log(&l, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_compute_crc32c_like_the_standard),
		cmocka_unit_test(should_round_trip_and_seek_across_segments),
		cmocka_unit_test(should_skip_exactly_the_damaged_block),
		cmocka_unit_test(should_recover_from_truncation_and_garbage),
		cmocka_unit_test(should_refuse_storage_smaller_than_two_segments),
		cmocka_unit_test(should_count_and_announce_when_lapped),
		cmocka_unit_test(should_report_each_left_snapshot_segment_once_final),
		cmocka_unit_test(should_report_sealed_bytes_equal_to_the_files),
		cmocka_unit_test(should_keep_reported_buffers_until_the_consumer_is_done),
		cmocka_unit_test(should_write_whole_blocks_lent_or_copied),
		cmocka_unit_test(should_read_from_disk_into_the_ring_without_a_seam),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
