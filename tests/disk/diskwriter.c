// SPDX-License-Identifier: MIT
/*
 * diskwriter.c - a stand-in for capd in the disk FIFO tests and benchmark:
 * one thread that owns a ring (ring_writer), writes deterministic packet
 * records at a given rate, and runs the persister in an epoll loop exactly
 * the way capd does (open, recover the previous ring, attach, pump after
 * every publish, pump on the persister's fd and on a 1 s tick, close).
 *
 * Prints one summary line at exit: key=value pairs the tests parse.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "clock.h"
#include "atomics.h"
#include "disk_pattern.h"
#include "persister.h"
#include "ring_prev.h"
#include "ring_writer.h"

struct dw_opts {
	const char *ring, *storage;
	uint64_t ring_size, storage_size, segment_size, sync_ns;
	uint64_t rate;	      /* records per second, 0 = as fast as possible */
	uint64_t max_records; /* stop after this many (0 = no limit) */
	uint64_t max_bytes;   /* stop after this many record bytes */
	uint64_t seconds_ns;  /* stop after this long */
	uint64_t ts_base, ts_step;
	uint32_t payload; /* largest caplen */
	uint32_t batch;
	bool direct, reg_buffers, no_persist, no_fill, gate;
	int gid;
};

static volatile sig_atomic_t dw_stop;

static void dw_on_signal(int sig)
{
	(void)sig;
	dw_stop = 1;
}

static void dw_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "diskwriter: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void dw_usage(FILE *f)
{
	fprintf(f, "usage: diskwriter --ring NAME --storage DIR [options]\n"
		   "  --ring-size SIZE      ring data size (power of two, default 16Mi)\n"
		   "  --storage-size SIZE   disk FIFO size (default 64Mi)\n"
		   "  --segment-size SIZE   segment size (default: derived)\n"
		   "  --rate N              records per second (default: as fast as possible)\n"
		   "  --records N           stop after N records\n"
		   "  --bytes SIZE          stop after SIZE record bytes\n"
		   "  --duration DUR        stop after DUR (e.g. 5s)\n"
		   "  --payload N           largest packet bytes per record (default 1400)\n"
		   "  --ts-base NS --ts-step NS   timestamps base + seq * step (default: now)\n"
		   "  --sync DUR            fdatasync interval (default 1s, 0 = never)\n"
		   "  --no-direct           buffered writes instead of O_DIRECT\n"
		   "  --reg-buffers         io_uring registered buffers\n"
		   "  --gid N               readers' group for the storage\n"
		   "  --no-persist          ring only (for comparisons)\n"
		   "  --no-fill             leave payload bytes as they are (benchmark: no pattern "
		   "cost)\n"
		   "  --gate                benchmark only: wait for the persister instead of "
		   "lapping it\n"
		   "                        (measures the persistence pipeline's top speed; capd "
		   "never gates)\n");
}

static int dw_parse(int argc, char **argv, struct dw_opts *o)
{
	static const struct option lo[] = {
		{"ring", 1, 0, 'r'},
		{"storage", 1, 0, 's'},
		{"ring-size", 1, 0, 'R'},
		{"storage-size", 1, 0, 'S'},
		{"segment-size", 1, 0, 'G'},
		{"rate", 1, 0, 'a'},
		{"records", 1, 0, 'n'},
		{"bytes", 1, 0, 'b'},
		{"duration", 1, 0, 'd'},
		{"payload", 1, 0, 'p'},
		{"ts-base", 1, 0, 'B'},
		{"ts-step", 1, 0, 'T'},
		{"sync", 1, 0, 'y'},
		{"no-direct", 0, 0, 'D'},
		{"reg-buffers", 0, 0, 'F'},
		{"gid", 1, 0, 'g'},
		{"no-persist", 0, 0, 'N'},
		{"no-fill", 0, 0, 'f'},
		{"gate", 0, 0, 'H'},
		{"help", 0, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c, err = 0;

	*o = (struct dw_opts){.ring_size = 16 << 20,
			      .storage_size = 64 << 20,
			      .payload = 1400,
			      .batch = 64,
			      .direct = true,
			      .gid = -1,
			      .sync_ns = 1000000000ull};
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->ring = optarg;
			break;
		case 's':
			o->storage = optarg;
			break;
		case 'R':
			err = rawcap_parse_size(optarg, &o->ring_size);
			break;
		case 'S':
			err = rawcap_parse_size(optarg, &o->storage_size);
			break;
		case 'G':
			err = rawcap_parse_size(optarg, &o->segment_size);
			break;
		case 'a':
			o->rate = strtoull(optarg, NULL, 10);
			break;
		case 'n':
			o->max_records = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			err = rawcap_parse_size(optarg, &o->max_bytes);
			break;
		case 'd':
			err = rawcap_parse_duration(optarg, &o->seconds_ns);
			break;
		case 'p':
			o->payload = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'B':
			o->ts_base = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			o->ts_step = strtoull(optarg, NULL, 10);
			break;
		case 'y':
			err = strcmp(optarg, "0") ? rawcap_parse_duration(optarg, &o->sync_ns)
						  : (o->sync_ns = 0, 0);
			break;
		case 'D':
			o->direct = false;
			break;
		case 'F':
			o->reg_buffers = true;
			break;
		case 'g':
			o->gid = atoi(optarg);
			break;
		case 'N':
			o->no_persist = true;
			break;
		case 'f':
			o->no_fill = true;
			break;
		case 'H':
			o->gate = true;
			break;
		case 'h':
			dw_usage(stdout);
			exit(0);
		default:
			err = -EINVAL;
		}
		if (err) {
			fprintf(stderr, "diskwriter: bad value for an option\n");
			return -EINVAL;
		}
	}
	if (!o->ring || (!o->storage && !o->no_persist) || o->payload < 1 || o->payload > 60000) {
		fprintf(stderr, "diskwriter: --ring and --storage are required\n");
		return -EINVAL;
	}
	return 0;
}

/* capd's start-up: disk position, previous ring, new ring continuing the sequence. */
static int dw_setup(const struct dw_opts *o, struct persister **pp, struct ring_writer *w)
{
	struct persister_opts po = {.dir = o->storage,
				    .size = o->storage_size,
				    .segment_size = o->segment_size,
				    .direct_io = o->direct,
				    .sync_interval_ns = o->sync_ns,
				    .uid = -1,
				    .gid = o->gid,
				    .reg_buffers = o->reg_buffers,
				    .log = dw_log};
	struct ring_writer_opts ro = {.name = o->ring, .data_size = o->ring_size, .gid = (gid_t)-1};
	struct ring_prev prev;
	bool have_prev;
	int err = 0;

	*pp = NULL;
	have_prev = ring_prev_open(o->ring, &prev) == 0;
	if (!o->no_persist) {
		err = persister_open(&po, pp);
		if (!err && have_prev)
			err = persister_recover_prev(*pp, &prev);
		if (err)
			goto out;
		ro.base_seq = persister_next_seq(*pp);
	} else if (have_prev) {
		ro.base_seq = load_relaxed(&prev.hdr->next_seq);
	}
	if (have_prev) {
		uint64_t n = load_relaxed(&prev.hdr->next_seq);

		if (n > ro.base_seq)
			ro.base_seq = n;
		ro.prev_generation = prev.hdr->generation;
	}
	err = ring_writer_create(w, &ro);
	if (err)
		goto out;
	if (*pp)
		persister_attach(*pp, w);
out:
	if (have_prev)
		ring_prev_retire(&prev);
	if (err)
		fprintf(stderr, "diskwriter: setup failed: %s\n", strerror(-err));
	return err;
}

struct dw_state {
	uint64_t written, bytes, first_seq, start;
};

/* Write one batch of records and publish it. */
static void dw_batch(const struct dw_opts *o, struct ring_writer *w, struct dw_state *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t seq = w->next_seq;
		uint32_t caplen = disk_pat_caplen(seq, o->payload);
		uint64_t ts = o->ts_step ? o->ts_base + seq * o->ts_step : rawcap_now_ns();
		void *p = ring_reserve(w, RAWCAP_REC_PACKET, 0, ts,
				       (uint32_t)sizeof(struct rawcap_pkt) + caplen);

		if (!p)
			break;
		if (o->no_fill)
			memset(p, 0, sizeof(struct rawcap_pkt));
		else
			disk_pat_fill(p, seq, caplen);
		s->written++;
		s->bytes += sizeof(struct rawcap_rec_hdr) + sizeof(struct rawcap_pkt) + caplen;
	}
	ring_publish(w);
}

static bool dw_done(const struct dw_opts *o, const struct dw_state *s, uint64_t now)
{
	return dw_stop || (o->max_records && s->written >= o->max_records) ||
	       (o->max_bytes && s->bytes >= o->max_bytes) ||
	       (o->seconds_ns && now - s->start >= o->seconds_ns);
}

static uint64_t dw_behind(const struct persister *p)
{
	struct persister_stats st;

	persister_get_stats(p, &st);
	return st.behind_bytes;
}

static int dw_loop(const struct dw_opts *o, struct persister *p, struct ring_writer *w,
		   struct dw_state *s)
{
	struct epoll_event ev = {.events = EPOLLIN}, got[4];
	uint64_t last_tick, now;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -errno;
	if (p && epoll_ctl(ep, EPOLL_CTL_ADD, persister_fd(p), &ev)) {
		close(ep);
		return -errno;
	}
	s->start = last_tick = clock_mono_ns();
	s->first_seq = w->next_seq;
	while (!dw_done(o, s, now = clock_mono_ns())) {
		uint64_t due = o->rate ? s->start + s->written * 1000000000ull / o->rate : now;
		uint32_t n = o->batch;
		int timeout = 0, nev;

		if (o->max_records && o->max_records - s->written < n)
			n = (uint32_t)(o->max_records - s->written);
		if (p && o->gate && dw_behind(p) > o->ring_size / 4) {
			/* Benchmark mode: let the disk catch up instead of being lapped. */
			epoll_wait(ep, got, 4, 10);
			persister_pump(p, w);
			continue;
		}
		if (due <= now) {
			dw_batch(o, w, s, n);
			if (p)
				persister_pump(p, w); /* after every publish */
			ring_notify(w);
		} else {
			timeout = (int)((due - now) / 1000000) + 1;
		}
		nev = epoll_wait(ep, got, 4, timeout > 1000 ? 1000 : timeout);
		if (nev > 0 && p)
			persister_pump(p, w); /* persister_fd readable: completions */
		if (now - last_tick >= 1000000000ull) {
			ring_heartbeat(w, rawcap_now_ns());
			if (p)
				persister_pump(p, w); /* the 1 s tick */
			last_tick = now;
		}
	}
	close(ep);
	return 0;
}

int main(int argc, char **argv)
{
	struct dw_opts o;
	struct ring_writer w;
	struct persister *p;
	struct persister_stats ps = {0};
	struct dw_state s = {0};
	struct rusage ru;
	double secs, cpu;
	int err, close_err = 0;

	if (dw_parse(argc, argv, &o))
		return 2;
	signal(SIGTERM, dw_on_signal);
	signal(SIGINT, dw_on_signal);
	if (dw_setup(&o, &p, &w))
		return 1;
	err = dw_loop(&o, p, &w, &s);
	if (p) /* reported, not fatal: capd logs it and exits */
		close_err = persister_close(p, &w, &ps);
	secs = (double)(clock_mono_ns() - s.start) / 1e9; /* includes writing out the backlog */
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	      ru.ru_stime.tv_usec / 1e6;
	printf("written=%llu first_seq=%llu next_seq=%llu bytes=%llu secs=%.3f cpu=%.3f "
	       "persisted=%llu lapped=%llu disk_error=%llu write_errors=%llu blocks=%llu "
	       "disk_bytes=%llu recycled=%llu recovered=%llu nsegs=%u direct=%d close_err=%d\n",
	       (unsigned long long)s.written, (unsigned long long)s.first_seq,
	       (unsigned long long)w.next_seq, (unsigned long long)s.bytes, secs, cpu,
	       (unsigned long long)ps.records, (unsigned long long)ps.lapped_records,
	       (unsigned long long)ps.disk_error_records, (unsigned long long)ps.write_errors,
	       (unsigned long long)ps.blocks_written, (unsigned long long)ps.bytes_written,
	       (unsigned long long)ps.segments_recycled, (unsigned long long)ps.recovered_records,
	       ps.nsegs, ps.direct, close_err);
	ring_writer_close(&w);
	return err ? 1 : 0;
}
