// SPDX-License-Identifier: MIT
/*
 * test_window.c - the window loop itself (rawcap_window_run, and its step
 * API), driven over a
 * ring written in-process with the ring writer: which packets reach the
 * sink, interface descriptions (from the ring's table and from IFACE
 * records) before their first packet, the metadata
 * hooks (lookback, selection, comments), loss records, and records the
 * cursor missed because the writer lapped it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <rawcap/forward.h>
#include <rawcap/rawcap.h>
#include <rawcap/window.h>

#include "ring/ring_test.h"

#define SEC    1000000000ull
#define CAPLEN 60

/* What the sink saw, in order. */
struct seen {
	unsigned packets, records, ifaces, flushes, metas;
	uint32_t iface_order[8]; /* ifindexes as they were described */
	uint32_t pkt_ifindex[64];
	uint64_t pkt_ts[64];
	char comment[64][32];
	uint64_t loss_count[8];
	uint32_t loss_cause[8];
	unsigned losses;
	struct ring_writer *w; /* meta hook: lap the reader once */
	bool lap;
	unsigned gaps; /* the gap hook */
	uint64_t gap_first, gap_count;
	uint32_t gap_reason;
	const struct rawcap_window_result *live; /* rawcap_window_run's res, as it fills */
	uint64_t live_packets[64];		 /* live->packets at each packet */
};

static int sink_iface(void *ctx, const struct rawcap_iface *ifc)
{
	struct seen *s = ctx;

	if (s->ifaces < 8)
		s->iface_order[s->ifaces] = ifc->ifindex;
	s->ifaces++;
	return 0;
}

static int sink_packet(void *ctx, const struct rawcap_window_pkt *p)
{
	struct seen *s = ctx;

	/* Every packet's interface was described before it. */
	bool described = false;
	for (unsigned i = 0; i < s->ifaces && i < 8; i++)
		described |= s->iface_order[i] == p->pkt->ifindex;
	assert_true(described);
	assert_int_equal(p->caplen, CAPLEN);
	if (s->packets < 64) {
		s->pkt_ifindex[s->packets] = p->pkt->ifindex;
		s->pkt_ts[s->packets] = p->rec->ts_ns;
		snprintf(s->comment[s->packets], sizeof(s->comment[0]), "%s", p->comment);
		s->live_packets[s->packets] = s->live ? s->live->packets : 0;
	}
	s->packets++;
	return 0;
}

static int sink_loss(void *ctx, uint32_t ifindex, uint64_t count, uint32_t cause)
{
	struct seen *s = ctx;

	(void)ifindex;
	if (s->losses < 8) {
		s->loss_count[s->losses] = count;
		s->loss_cause[s->losses] = cause;
	}
	s->losses++;
	return 0;
}

static int sink_record(void *ctx, const struct rawcap_rec *rec)
{
	(void)rec;
	((struct seen *)ctx)->records++;
	return 0;
}

static int sink_flush(void *ctx)
{
	((struct seen *)ctx)->flushes++;
	return 0;
}

static void put_packet(struct ring_writer *w, uint64_t ts, uint32_t ifindex, uint8_t fill)
{
	struct rawcap_pkt *p = ring_reserve(w, RAWCAP_REC_PACKET, 0, ts, sizeof(*p) + CAPLEN);

	assert_non_null(p);
	memset(p, 0, sizeof(*p));
	p->ifindex = ifindex;
	p->orig_len = CAPLEN;
	p->linktype = 1; /* LINKTYPE_ETHERNET */
	memset(p + 1, fill, CAPLEN);
}

static void put_iface_record(struct ring_writer *w, uint64_t ts, uint32_t ifindex,
			     const char *name)
{
	struct rawcap_iface *ifc = ring_reserve(w, RAWCAP_REC_IFACE, 0, ts, sizeof(*ifc));

	assert_non_null(ifc);
	memset(ifc, 0, sizeof(*ifc));
	ifc->ifindex = ifindex;
	ifc->linktype = 1;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
}

static void put_meta(struct ring_writer *w, uint64_t ts)
{
	uint8_t *m = ring_reserve(w, RAWCAP_REC_META, RAWCAP_META_POD, ts, 1);

	assert_non_null(m);
	*m = 0x80; /* an empty msgpack map */
}

struct ring_fixture {
	struct ring_writer w;
	char name[64];
	uint64_t t0; /* a time well in the past, so a window ending near it is settled */
};

static void fixture_open(struct ring_fixture *f, uint64_t data_size)
{
	struct ring_writer_opts o = {.data_size = data_size, .gid = (gid_t)-1};
	struct rawcap_iface ifc = {.ifindex = 7, .linktype = 1, .name = "veth7"};

	snprintf(f->name, sizeof(f->name), "%s", rt_name("window"));
	o.name = f->name;
	assert_int_equal(ring_writer_create(&f->w, &o), 0);
	assert_int_equal(ring_iface_set(&f->w, &ifc), 0);
	f->t0 = rawcap_now_ns() - 3600 * SEC;
}

static void fixture_close(struct ring_fixture *f)
{
	ring_writer_close(&f->w); /* the group teardown removes the ring */
}

static struct rawcap_window_opts window_opts(const struct ring_fixture *f, uint64_t from,
					     uint64_t to)
{
	struct rawcap_window_opts o = {.sz = sizeof(o), .ring = f->name, .from_ns = from,
				       .to_ns = to};

	return o;
}

static struct rawcap_sink seen_sink(struct seen *s)
{
	struct rawcap_sink k = {.ctx = s, .iface = sink_iface, .packet = sink_packet,
				.loss = sink_loss, .record = sink_record, .flush = sink_flush};

	return k;
}

/*
 * Packets inside [from, to) reach the sink, those before and after do not;
 * the interface from the ring's table and the one described by an IFACE
 * record both come before their packets; a loss record
 * inside the window reaches the sink and the result.
 */
static void test_window_packets_ifaces_loss(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_window_result res;
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;

	(void)state;
	fixture_open(&f, 1 << 20);
	put_packet(&f.w, f.t0 + 1 * SEC, 7, 1); /* before */
	put_packet(&f.w, f.t0 + 10 * SEC, 7, 2);
	put_iface_record(&f.w, f.t0 + 10 * SEC + 1, 9, "veth9"); /* not in the ring's table */
	put_packet(&f.w, f.t0 + 11 * SEC, 9, 3);
	ring_write_loss(&f.w, f.t0 + 12 * SEC, RAWCAP_LOSS_KERNEL_DROP, 5, 7, 0);
	put_packet(&f.w, f.t0 + 13 * SEC, 7, 4);
	put_packet(&f.w, f.t0 + 20 * SEC, 7, 5); /* at to: after */
	put_packet(&f.w, f.t0 + 30 * SEC, 9, 6); /* past the reorder slack: ends the window */
	ring_publish(&f.w);

	o = window_opts(&f, f.t0 + 10 * SEC, f.t0 + 20 * SEC);
	s.live = &res; /* hooks holding the caller's result see it as the window goes */
	assert_int_equal(rawcap_window_run(&o, &k, &res), 0);
	assert_int_equal(s.packets, 3);
	assert_int_equal(s.live_packets[0], 1);
	assert_int_equal(s.live_packets[2], 3);
	assert_int_equal(res.packets, 3);
	assert_int_equal(res.packet_bytes, 3 * CAPLEN);
	assert_int_equal(s.pkt_ts[0], f.t0 + 10 * SEC);
	assert_int_equal(s.pkt_ifindex[1], 9);
	assert_int_equal(s.pkt_ts[2], f.t0 + 13 * SEC);
	assert_int_equal(s.ifaces, 2); /* each described once */
	assert_int_equal(s.losses, 1);
	assert_int_equal(s.loss_cause[0], RAWCAP_LOSS_KERNEL_DROP);
	assert_int_equal(s.loss_count[0], 5);
	assert_int_equal(res.lost_upstream, 5);
	assert_int_equal(res.lost_reader, 0);
	assert_int_equal(s.records, 5); /* three packets, the description and the loss */
	assert_int_equal(res.first_ts_ns, f.t0 + 10 * SEC);
	assert_int_equal(res.last_ts_ns, f.t0 + 13 * SEC);
	assert_true(s.flushes >= 1);
	fixture_close(&f);
}

/* The metadata hooks: meta sees the lookback, select drops, context comments. */
struct join {
	unsigned metas;
	uint64_t first_meta_ts;
};

static int join_meta(void *arg, const struct rawcap_rec *rec)
{
	struct join *j = arg;

	assert_int_equal(rec->type, RAWCAP_REC_META);
	if (!j->metas++)
		j->first_meta_ts = rec->ts_ns;
	return 0;
}

static bool join_select(void *arg, const struct rawcap_rec *rec, const struct rawcap_pkt *pkt)
{
	struct join *j = arg;

	(void)rec;
	return j->metas > 0 && pkt->ifindex == 7; /* joined against what the hook saw */
}

static size_t join_context(void *arg, const struct rawcap_rec *rec,
			   const struct rawcap_pkt *pkt, char *buf, size_t cap)
{
	(void)arg;
	(void)rec;
	return (size_t)snprintf(buf, cap, "if %u", pkt->ifindex);
}

static void test_window_meta_join(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct join j = {0};
	struct rawcap_window_result res;
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;

	(void)state;
	fixture_open(&f, 1 << 20);
	put_meta(&f.w, f.t0 + 5 * SEC); /* in the lookback, before the window */
	put_packet(&f.w, f.t0 + 8 * SEC, 7, 1); /* in the lookback: not delivered */
	put_packet(&f.w, f.t0 + 10 * SEC, 7, 2);
	put_packet(&f.w, f.t0 + 11 * SEC, 9, 3); /* unselected */
	put_meta(&f.w, f.t0 + 12 * SEC);
	put_packet(&f.w, f.t0 + 13 * SEC, 7, 4);
	ring_publish(&f.w);

	o = window_opts(&f, f.t0 + 10 * SEC, f.t0 + 20 * SEC);
	o.meta = join_meta;
	o.select = join_select;
	o.meta_arg = &j;
	o.meta_lookback_ns = 6 * SEC;
	o.context = join_context;
	assert_int_equal(rawcap_window_run(&o, &k, &res), 0);
	assert_int_equal(j.metas, 2);
	assert_int_equal(j.first_meta_ts, f.t0 + 5 * SEC);
	assert_int_equal(res.packets, 2);
	assert_int_equal(res.unselected, 1);
	assert_int_equal(s.packets, 2);
	assert_string_equal(s.comment[0], "if 7");
	assert_int_equal(s.pkt_ts[1], f.t0 + 13 * SEC);
	/* the metadata record inside the window is kept; the lookback's is not */
	assert_int_equal(s.records, 3);
	fixture_close(&f);
}

/* A bad filter is refused before anything is read, with its message. */
static void test_window_bad_filter(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_window_result res;
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;
	char why[256] = "";

	(void)state;
	fixture_open(&f, 1 << 20);
	o = window_opts(&f, f.t0, f.t0 + SEC);
	o.filter = "tcp port";
	o.why = why;
	o.whylen = sizeof(why);
	assert_int_equal(rawcap_window_run(&o, &k, &res), -EINVAL);
	assert_true(why[0] != '\0');
	assert_int_equal(s.packets + s.records, 0);
	fixture_close(&f);
}

/*
 * Records the cursor missed: the writer laps the reader in the middle of the
 * window (from the meta hook, between two records), and the loop reports the
 * gap as reader loss before the next packet.
 */
static int lap_meta(void *arg, const struct rawcap_rec *rec)
{
	struct seen *s = arg;

	if (!s->lap)
		return 0;
	s->lap = false;
	/* Overwrite the whole 64 KiB ring several times over. */
	for (unsigned i = 0; i < 4000; i++)
		put_packet(s->w, rec->ts_ns + 1 + i, 7, 9);
	ring_publish(s->w);
	return 0;
}

static int gap_hook(void *arg, uint64_t first_seq, uint64_t count, uint32_t reason)
{
	struct seen *s = arg;

	if (!s->gaps++) {
		s->gap_first = first_seq;
		s->gap_reason = reason;
	}
	s->gap_count += count;
	return 0;
}

static int gap_unexpected(void *arg, uint64_t first_seq, uint64_t count, uint32_t reason)
{
	(void)arg, (void)first_seq, (void)count, (void)reason;
	fail_msg("the gap hook of a caller whose opts end before it was called");
	return -EINVAL;
}

/* old_opts: a caller built against the opts before the gap hook was appended. */
static void run_lapped(bool old_opts, struct seen *s, struct rawcap_window_result *res)
{
	struct ring_fixture f;
	struct rawcap_sink k = seen_sink(s);
	struct rawcap_window_opts o;

	fixture_open(&f, 1 << 16);
	put_packet(&f.w, f.t0 + 10 * SEC, 7, 1);
	put_meta(&f.w, f.t0 + 11 * SEC);
	for (unsigned i = 0; i < 50; i++)
		put_packet(&f.w, f.t0 + 11 * SEC + 100 + i, 7, 2);
	ring_publish(&f.w);

	s->w = &f.w;
	s->lap = true;
	o = window_opts(&f, f.t0 + 10 * SEC, f.t0 + 20 * SEC);
	o.meta = lap_meta;
	o.meta_arg = s;
	o.gap = old_opts ? gap_unexpected : gap_hook;
	o.gap_arg = s;
	if (old_opts)
		o.sz = RAWCAP_WINDOW_OPTS_SZ0;
	assert_int_equal(rawcap_window_run(&o, &k, res), 0);
	fixture_close(&f);
}

static void test_window_reader_loss(void **state)
{
	struct seen s = {0};
	struct rawcap_window_result res;

	(void)state;
	run_lapped(false, &s, &res);
	assert_true(res.lost_reader > 0);
	assert_true(s.losses >= 1);
	assert_int_equal(s.loss_cause[0], RAWCAP_LOSS_READER);
	assert_int_equal(s.loss_count[0], res.lost_reader);
	/* what was delivered plus what was lost covers what was written in the window */
	assert_true(res.packets + res.lost_reader >= 1 + 4000);
	/* the gap hook saw the same gap, with its sequence numbers: after the first two records */
	assert_int_equal(s.gaps, 1);
	assert_int_equal(s.gap_reason, RAWCAP_STREAM_GAP_LAPPED);
	assert_int_equal(s.gap_count, res.lost_reader);
	assert_int_equal(s.gap_first, res.first_seq + 2);
}

/* A caller whose opts end before the appended fields still runs; those read as zero. */
static void test_window_old_opts(void **state)
{
	struct seen s = {0};
	struct rawcap_window_result res;

	(void)state;
	run_lapped(true, &s, &res);
	assert_true(res.lost_reader > 0);
	assert_int_equal(s.gaps, 0);
}

/*
 * Start positions: at a sequence number (a resume point; what was recycled
 * from it on is a gap with reason RECYCLED before the first record), and
 * after the newest record (only what is written after opening).
 */
static void test_window_start_seq_newest(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_window_result res;
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;
	struct rawcap_window *w;
	bool done = false;

	(void)state;
	fixture_open(&f, 1 << 16);
	for (unsigned i = 0; i < 10; i++)
		put_packet(&f.w, f.t0 + 10 * SEC + i, 7, 1);
	ring_publish(&f.w);
	o = window_opts(&f, 0, f.t0 + 20 * SEC);
	o.gap = gap_hook;
	o.gap_arg = &s;
	o.start = RAWCAP_WINDOW_START_SEQ;
	o.start_seq = 5;
	assert_int_equal(rawcap_window_run(&o, &k, &res), 0);
	assert_int_equal(res.packets, 5);
	assert_int_equal(res.first_seq, 5);
	assert_int_equal(s.gaps, 0);

	/* Lap the ring: record 1 is long gone. */
	for (unsigned i = 0; i < 4000; i++)
		put_packet(&f.w, f.t0 + 11 * SEC + i, 7, 2);
	ring_publish(&f.w);
	memset(&s, 0, sizeof(s));
	o.start_seq = 1;
	assert_int_equal(rawcap_window_run(&o, &k, &res), 0);
	assert_int_equal(s.gaps, 1);
	assert_int_equal(s.gap_reason, RAWCAP_STREAM_GAP_RECYCLED);
	assert_int_equal(s.gap_first, 1);
	assert_int_equal(s.gap_count, res.first_seq - 1);
	assert_int_equal(res.last_seq, 4009);

	memset(&s, 0, sizeof(s));
	o.start = RAWCAP_WINDOW_START_NEWEST;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	for (unsigned i = 0; i < 3; i++)
		put_packet(&f.w, f.t0 + 12 * SEC + i, 7, 3);
	ring_publish(&f.w);
	while (!done)
		assert_true(rawcap_window_step(w, 64, &done) >= 0);
	assert_int_equal(rawcap_window_result(w)->packets, 3);
	assert_int_equal(rawcap_window_result(w)->first_seq, 4010);
	assert_int_equal(s.gaps, 0);
	rawcap_window_close(w);

	o.start = 3;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), -EINVAL);
	fixture_close(&f);
}

/*
 * The step API drives the same loop: a budget of one record delivers at
 * most one record per step, a sink returning RAWCAP_SINK_PAUSE ends the
 * step after the record it took, done comes once, and the result matches
 * rawcap_window_run() over the same window.
 */
struct pausing {
	struct seen s;
	unsigned pause_every; /* return RAWCAP_SINK_PAUSE every that many records */
};

static int pausing_record(void *ctx, const struct rawcap_rec *rec)
{
	struct pausing *p = ctx;

	(void)rec;
	p->s.records++;
	return p->s.records % p->pause_every ? 0 : RAWCAP_SINK_PAUSE;
}

static void put_step_window(struct ring_fixture *f)
{
	for (unsigned i = 0; i < 40; i++)
		put_packet(&f->w, f->t0 + 10 * SEC + i, 7, (uint8_t)i);
	ring_write_loss(&f->w, f->t0 + 11 * SEC, RAWCAP_LOSS_KERNEL_DROP, 3, 7, 0);
	put_packet(&f->w, f->t0 + 30 * SEC, 7, 0xff); /* ends the window */
	ring_publish(&f->w);
}

static void test_window_step_budget(void **state)
{
	struct ring_fixture f;
	struct seen s = {0}, r = {0};
	struct rawcap_window_result res;
	struct rawcap_sink k = seen_sink(&s), kr = seen_sink(&r);
	struct rawcap_window_opts o;
	const struct rawcap_window_result *got;
	struct rawcap_window *w;
	unsigned steps = 0;
	bool done = false;
	char why[128];
	int n;

	(void)state;
	fixture_open(&f, 1 << 20);
	put_step_window(&f);
	o = window_opts(&f, f.t0 + 10 * SEC, f.t0 + 20 * SEC);
	assert_int_equal(rawcap_window_run(&o, &kr, &res), 0);
	assert_int_equal(res.packets, 40);

	assert_int_equal(rawcap_window_open(&o, &k, &w, why, sizeof(why)), 0);
	while (!done) {
		unsigned before = s.records;

		n = rawcap_window_step(w, 1, &done);
		assert_true(n >= 0 && n <= 1);
		assert_int_equal(s.records - before, (unsigned)n);
		assert_true(++steps < 1000);
	}
	/* the 41 records inside, the one that ends the window, and the end itself */
	assert_true(steps >= 41);
	assert_int_equal(rawcap_window_step(w, 1, &done), 0); /* done stays done */
	assert_true(done);
	got = rawcap_window_result(w);
	assert_int_equal(got->records, res.records);
	assert_int_equal(got->packets, res.packets);
	assert_int_equal(got->packet_bytes, res.packet_bytes);
	assert_int_equal(got->lost_upstream, 3);
	assert_int_equal(got->first_seq, res.first_seq);
	assert_int_equal(got->last_seq, res.last_seq);
	assert_int_equal(got->to_ns, res.to_ns);
	assert_int_equal(s.packets, r.packets);
	assert_int_equal(s.ifaces, r.ifaces);
	assert_int_equal(s.losses, r.losses);
	assert_true(s.flushes >= 1);
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(s.pkt_ts[i], r.pkt_ts[i]);
	rawcap_window_close(w);
	fixture_close(&f);
}

static void test_window_step_pause(void **state)
{
	struct ring_fixture f;
	struct pausing p = {.pause_every = 8};
	struct rawcap_sink k = {.ctx = &p, .record = pausing_record};
	struct rawcap_window_opts o;
	struct rawcap_window *w;
	unsigned steps = 0, total = 0;
	bool done = false;
	int n;

	(void)state;
	fixture_open(&f, 1 << 20);
	put_step_window(&f);
	o = window_opts(&f, f.t0 + 10 * SEC, f.t0 + 20 * SEC);
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	while (!done) {
		n = rawcap_window_step(w, 1000, &done);
		assert_true(n >= 0);
		/* a paused step stops right after the record that asked */
		assert_true((unsigned)n <= p.pause_every);
		if (!done)
			assert_int_equal(p.s.records % p.pause_every, 0);
		total += (unsigned)n;
		assert_true(++steps < 100);
	}
	assert_int_equal(total, 41);
	assert_int_equal(rawcap_window_result(w)->records, 41);
	assert_true(steps >= 41 / 8);
	rawcap_window_close(w);
	fixture_close(&f);
}

/* Follow mode at the live end: a step says to wait (-EAGAIN) instead of blocking. */
static void test_window_step_follow(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;
	struct rawcap_window *w;
	volatile sig_atomic_t stop = 0;
	bool done = false;
	uint64_t now;
	int n = 0;

	(void)state;
	fixture_open(&f, 1 << 20);
	o = window_opts(&f, 0, 0);
	o.follow = true;
	o.stop = &stop;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	assert_int_equal(rawcap_window_step(w, 16, &done), -EAGAIN);
	assert_false(done);
	now = rawcap_now_ns();
	put_packet(&f.w, now + SEC, 7, 1);
	ring_publish(&f.w);
	assert_int_equal(rawcap_window_wait(w, 1000), 0);
	for (unsigned i = 0; i < 100 && s.packets == 0; i++) {
		n = rawcap_window_step(w, 16, &done);
		if (n == -EAGAIN)
			assert_int_equal(rawcap_window_wait(w, 50), 0);
	}
	assert_int_equal(s.packets, 1);
	assert_false(done);
	stop = 1;
	assert_true(rawcap_window_step(w, 16, &done) >= 0);
	assert_true(done);
	rawcap_window_close(w);
	fixture_close(&f);
}

/* A bad filter: open fails with the compiler's message in why. */
static void test_window_step_bad_filter(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;
	struct rawcap_window *w = (struct rawcap_window *)&s;
	char why[256];

	(void)state;
	fixture_open(&f, 1 << 20);
	o = window_opts(&f, f.t0, f.t0 + SEC);
	o.filter = "tcp port";
	assert_int_equal(rawcap_window_open(&o, &k, &w, why, sizeof(why)), -EINVAL);
	assert_null(w);
	assert_true(why[0] != '\0');
	o.filter = NULL;
	o.sz = 8;
	assert_int_equal(rawcap_window_open(&o, &k, &w, why, sizeof(why)), -EINVAL);
	fixture_close(&f);
}

/*
 * A resume point that was recycled, where the first record still held lies
 * outside the window (before from): the gap before it is still said, as
 * RECYCLED, from the resume point on.
 */
static void test_window_resume_gap_outside(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_window_result res;
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;

	(void)state;
	fixture_open(&f, 1 << 16);
	for (unsigned i = 0; i < 4000; i++)
		put_packet(&f.w, f.t0 + 10 * SEC + i, 7, 1);
	ring_publish(&f.w);
	/* The window begins after the oldest records held: those are read but not inside. */
	o = window_opts(&f, f.t0 + 10 * SEC + 3990, f.t0 + 20 * SEC);
	o.gap = gap_hook;
	o.gap_arg = &s;
	o.start = RAWCAP_WINDOW_START_SEQ;
	o.start_seq = 1;
	assert_int_equal(rawcap_window_run(&o, &k, &res), 0);
	assert_int_equal(res.packets, 10);
	assert_int_equal(s.gaps, 1);
	assert_int_equal(s.gap_reason, RAWCAP_STREAM_GAP_RECYCLED);
	assert_int_equal(s.gap_first, 1);
	assert_true(s.gap_count > 0 && s.gap_count < res.first_seq - 1);
	assert_int_equal(res.lost_reader,
			 0); /* recycled before the resume: not the window's loss */
	fixture_close(&f);
}

/*
 * Pacing: at pace 1 a record stamped 100 s after the first is held; the
 * step returns -EAGAIN and says when it is due, the record stays held
 * (not lost, not read twice); a resume restarts pacing, so it comes out.
 */
static void test_window_step_pace(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;
	struct rawcap_window *w;
	bool done = false;
	int n, due;

	(void)state;
	fixture_open(&f, 1 << 16);
	put_packet(&f.w, f.t0 + 10 * SEC, 7, 1);
	put_packet(&f.w, f.t0 + 110 * SEC, 7, 2);
	put_packet(&f.w, f.t0 + 110 * SEC + 1, 7, 3);
	ring_publish(&f.w);
	o = window_opts(&f, f.t0, f.t0 + 200 * SEC);
	o.pace = 1;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	assert_int_equal(rawcap_window_due_ms(w), -1);
	assert_int_equal(rawcap_window_step(w, 64, &done), 1); /* the first is due at once */
	assert_false(done);
	assert_int_equal(rawcap_window_step(w, 64, &done), -EAGAIN);
	due = rawcap_window_due_ms(w);
	assert_true(due > 90 * 1000 && due <= 100 * 1000 + 1);
	assert_int_equal(s.packets, 1);
	assert_int_equal(rawcap_window_resume(w, false), 0);
	n = rawcap_window_step(w, 64, &done); /* the held one starts the pacing again */
	assert_int_equal(n, 2);
	assert_int_equal(s.packets, 3);
	assert_int_equal(s.pkt_ts[1], f.t0 + 110 * SEC);
	while (!done)
		assert_true(rawcap_window_step(w, 64, &done) >= 0);
	assert_int_equal(rawcap_window_result(w)->packets, 3);
	rawcap_window_close(w);

	/* At pace 1000, 2 s of capture are due in 2 ms: wait() sleeps until then. */
	memset(&s, 0, sizeof(s));
	o.pace = 1000;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	done = false;
	while (!done) {
		n = rawcap_window_step(w, 64, &done);
		if (n == -EAGAIN)
			assert_int_equal(rawcap_window_wait(w, 10000), 0);
		else
			assert_true(n >= 0);
	}
	assert_int_equal(rawcap_window_result(w)->packets, 3);
	rawcap_window_close(w);
	fixture_close(&f);
}

/*
 * Back-pressure: a sink whose queue is full pauses the step after the
 * record it took, and the caller does not step until it drains. The writer
 * laps the window meanwhile; the next step says exactly what was
 * overwritten (first seq and count) before the next record, as reader loss
 * and as a LAPPED gap, and nothing else is missing.
 */
static void test_window_step_backpressure(void **state)
{
	struct ring_fixture f;
	struct pausing p = {.pause_every = 2};
	struct rawcap_sink k = seen_sink(&p.s);
	const struct rawcap_window_result *r;
	struct rawcap_window_opts o;
	struct rawcap_window *w;
	uint64_t last = 0;
	bool done = false;

	(void)state;
	k.ctx = &p;
	k.record = pausing_record;
	k.iface = NULL;
	k.packet = NULL;
	k.loss = sink_loss;
	fixture_open(&f, 1 << 16);
	for (unsigned i = 0; i < 10; i++)
		put_packet(&f.w, f.t0 + 10 * SEC + i, 7, 1);
	ring_publish(&f.w);
	o = window_opts(&f, f.t0, f.t0 + 20 * SEC);
	o.gap = gap_hook;
	o.gap_arg = &p.s;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	assert_int_equal(rawcap_window_step(w, 64, &done), 2); /* the queue is full */
	r = rawcap_window_result(w);
	/* Stalled: capd goes on and overwrites what the window did not read. */
	for (unsigned i = 0; i < 4000; i++)
		put_packet(&f.w, f.t0 + 11 * SEC + i, 7, 2);
	put_packet(&f.w, f.t0 + 30 * SEC, 7, 3); /* ends the window */
	ring_publish(&f.w);
	p.pause_every = 1000000;
	while (!done)
		assert_true(rawcap_window_step(w, 64, &done) >= 0);
	assert_true(rawcap_window_last_seq(w, &last));
	assert_int_equal(p.s.gaps, 1);
	assert_int_equal(p.s.gap_reason, RAWCAP_STREAM_GAP_LAPPED);
	assert_int_equal(p.s.gap_first, r->first_seq + 2);
	assert_int_equal(p.s.gap_count, r->lost_reader);
	assert_int_equal(p.s.losses, 1);
	assert_int_equal(p.s.loss_count[0], r->lost_reader);
	/* delivered + lost = every record up to the one that ended the window */
	assert_int_equal(r->records + r->lost_reader, last - r->first_seq);
	rawcap_window_close(w);
	fixture_close(&f);
}

/*
 * A live resume after a pause: what was written meanwhile is skipped on
 * purpose, said as one SKIPPED gap (not loss) before the next record.
 */
static void test_window_resume_live(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;
	struct rawcap_window *w;
	uint64_t now = rawcap_now_ns();
	bool done = false;

	(void)state;
	fixture_open(&f, 1 << 20);
	for (unsigned i = 0; i < 5; i++)
		put_packet(&f.w, now + i, 7, 1);
	ring_publish(&f.w);
	o = window_opts(&f, now, now + 3600 * SEC); /* open: caught up means wait */
	o.gap = gap_hook;
	o.gap_arg = &s;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	assert_int_equal(rawcap_window_step(w, 64, &done), 5);
	for (unsigned i = 0; i < 7; i++) /* written while paused */
		put_packet(&f.w, now + 100 + i, 7, 2);
	ring_publish(&f.w);
	assert_int_equal(rawcap_window_resume(w, true), 0);
	for (unsigned i = 0; i < 3; i++)
		put_packet(&f.w, now + 200 + i, 7, 3);
	ring_publish(&f.w);
	assert_int_equal(rawcap_window_step(w, 64, &done), 3);
	assert_false(done);
	assert_int_equal(rawcap_window_result(w)->packets, 5 + 3);
	assert_int_equal(rawcap_window_result(w)->lost_reader, 0);
	assert_int_equal(s.gaps, 1);
	assert_int_equal(s.gap_reason, RAWCAP_STREAM_GAP_SKIPPED);
	assert_int_equal(s.gap_count, 7);
	rawcap_window_close(w);
	fixture_close(&f);
}

/*
 * Live start (START_NEWEST) with a pod join: the metadata stamped in the
 * lookback reaches the meta hook before the first packet, the packets
 * before opening do not reach the sink.
 */
static void test_window_newest_primes(void **state)
{
	struct ring_fixture f;
	struct seen s = {0};
	struct join j = {0};
	struct rawcap_sink k = seen_sink(&s);
	struct rawcap_window_opts o;
	struct rawcap_window *w;
	uint64_t now = rawcap_now_ns();
	bool done = false;

	(void)state;
	fixture_open(&f, 1 << 20);
	put_meta(&f.w, now - 20 * SEC);
	for (unsigned i = 0; i < 5; i++)
		put_packet(&f.w, now - 10 * SEC + i, 7, 1);
	ring_publish(&f.w);
	o = window_opts(&f, 0, now + 3600 * SEC);
	o.start = RAWCAP_WINDOW_START_NEWEST;
	o.meta = join_meta;
	o.select = join_select;
	o.meta_arg = &j;
	o.meta_lookback_ns = 600 * SEC;
	assert_int_equal(rawcap_window_open(&o, &k, &w, NULL, 0), 0);
	assert_int_equal(j.metas, 0);
	while (rawcap_window_step(w, 64, &done) != -EAGAIN)
		assert_false(done);
	assert_int_equal(j.metas, 1);
	assert_int_equal(j.first_meta_ts, now - 20 * SEC);
	assert_int_equal(s.packets, 0);
	put_packet(&f.w, rawcap_now_ns(), 7, 2);
	ring_publish(&f.w);
	assert_int_equal(rawcap_window_step(w, 64, &done), 1);
	assert_int_equal(s.packets, 1); /* selected: the join had its metadata */
	rawcap_window_close(w);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_packets_ifaces_loss),
		cmocka_unit_test(test_window_meta_join),
		cmocka_unit_test(test_window_bad_filter),
		cmocka_unit_test(test_window_reader_loss),
		cmocka_unit_test(test_window_old_opts),
		cmocka_unit_test(test_window_start_seq_newest),
		cmocka_unit_test(test_window_step_budget),
		cmocka_unit_test(test_window_step_pause),
		cmocka_unit_test(test_window_step_follow),
		cmocka_unit_test(test_window_step_bad_filter),
		cmocka_unit_test(test_window_resume_gap_outside),
		cmocka_unit_test(test_window_step_pace),
		cmocka_unit_test(test_window_step_backpressure),
		cmocka_unit_test(test_window_resume_live),
		cmocka_unit_test(test_window_newest_primes),
	};

	return cmocka_run_group_tests(tests, rt_group_setup, rt_group_teardown);
}
