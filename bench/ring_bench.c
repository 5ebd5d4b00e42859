// SPDX-License-Identifier: MIT
/*
 * ring_bench.c - how fast capd can append to the shm ring, against memcpy of
 * the same bytes, with 0, 1 and 4 reader processes attached; and whether one
 * reader keeps up with a writer paced at a steady rate.
 *
 * The writer does what capd does per record: ring_reserve(), copy the
 * payload in, and every batch ring_publish() + ring_notify(). Payloads are
 * self-checking (tests/payload.h) and every reader verifies every
 * record it delivers; a torn record fails the run. Record sizes include the
 * 24-byte record header, so "64 B" is one cache line per record. "writer
 * CPU" is the writer's CPU time over wall time: below ~100% the writer was
 * waiting for a core (a loaded machine, or readers sharing the two cores),
 * not for the ring; "per CPU-s" compares ring and memcpy per second of CPU
 * each actually got, which a busy machine disturbs much less.
 *
 * usage: ring_bench [--quick] [--ring-size BYTES] [--batch BYTES] [--paced-seconds S]
 * Prints a markdown table on stdout; exit 1 if a reader saw a torn record.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "clock.h"
#include "payload.h"
#include "cursor.h"
#include "ring_writer.h"

/*
 * Bytes per publish + wake (--batch). capd publishes and wakes once per loop
 * turn, and under load a turn handles at least one TPACKET_V3 block (1 MiB by
 * default), so that is the default here. The wake is a syscall the writer
 * pays whether or not anyone sleeps (readers cannot tell it), so smaller
 * batches cost more: on the development VM a FUTEX_WAKE costs ~1.3 us.
 */
static uint64_t batch_bytes = 1u << 20;
#define N_TEMPLATES 256
#define END_FLAGS   0xe7d
#define MAX_READERS 4

struct reader_result {
	uint64_t delivered, lost, torn, lapped;
};

struct run {
	double secs, cpu;	 /* wall clock, and the writer's own CPU time */
	uint64_t records, bytes; /* timed part */
	uint64_t total;		 /* records written, warm-up lap included */
	struct reader_result rd[MAX_READERS];
	int nreaders;
};

static uint64_t ring_size = 256u << 20;
static char shm_dir[128];
static uint8_t *templates;

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_templates(uint32_t payload)
{
	free(templates);
	templates = aligned_alloc(64, (size_t)N_TEMPLATES * ((payload + 63) & ~63u));
	for (uint32_t i = 0; i < N_TEMPLATES; i++)
		rec_payload_fill(templates + (size_t)i * ((payload + 63) & ~63u), i, payload);
}

static inline const uint8_t *template_for(uint64_t seq, uint32_t payload)
{
	return templates + (size_t)(seq % N_TEMPLATES) * ((payload + 63) & ~63u);
}

/* A reader process: verify everything until the end marker; report on fd. */
static void reader_main(const char *name, int ready_fd, int result_fd)
{
	struct reader_result res = {0};
	struct rawcap_cursor *c;
	struct rawcap_stats st;
	struct rawcap_rec rec;

	if (rawcap_open(name, &c))
		_exit(1);
	/* Touch every page of our mapping once: see warm_up(). */
	for (uint64_t off = 0; off < c->ring.size; off += 4096)
		res.lapped += c->ring.data[off];
	res.lapped = 0;
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;) {
		int ret = rawcap_next(c, &rec);

		if (ret == 0) {
			rawcap_wait(c, 1000);
			continue;
		}
		if (ret < 0)
			_exit(2);
		if (rec.type == RAWCAP_REC_META && rec.flags == END_FLAGS)
			break;
		if (!rec_payload_check(rec.payload, rec.seq, rec.len) && rawcap_rec_valid(c, &rec))
			res.torn++;
	}
	rawcap_get_stats(c, &st);
	res.delivered = st.records - 1;
	res.lost = st.records_lost;
	res.lapped = st.times_lapped;
	if (write(result_fd, &res, sizeof(res)) != sizeof(res))
		_exit(3);
	rawcap_close(c);
	_exit(0);
}

struct readers {
	pid_t pid[MAX_READERS];
	int n, result_fd;
};

static int readers_start(struct readers *r, const char *name, int n)
{
	int ready[2], result[2];
	char b;

	r->n = n;
	if (pipe(ready) || pipe(result))
		return -errno;
	for (int i = 0; i < n; i++) {
		r->pid[i] = fork();
		if (r->pid[i] == 0) {
			close(ready[0]);
			close(result[0]);
			reader_main(name, ready[1], result[1]);
		}
	}
	close(ready[1]);
	close(result[1]);
	for (int i = 0; i < n; i++)
		if (read(ready[0], &b, 1) != 1)
			return -EIO;
	close(ready[0]);
	r->result_fd = result[0];
	return 0;
}

static void readers_finish(struct readers *r, struct run *out)
{
	out->nreaders = r->n;
	for (int i = 0; i < r->n; i++)
		if (read(r->result_fd, &out->rd[i], sizeof(out->rd[i])) != sizeof(out->rd[i]))
			out->rd[i].torn = UINT64_MAX; /* a reader died: count as failure */
	for (int i = 0; i < r->n; i++)
		waitpid(r->pid[i], NULL, 0);
	close(r->result_fd);
}

static int writer_open(struct ring_writer *w, char *name, size_t len)
{
	struct ring_writer_opts o = {.data_size = ring_size, .gid = (gid_t)-1};
	static int n;

	snprintf(name, len, "bench-%d-%d", (int)getpid(), n++);
	o.name = name;
	return ring_writer_create(w, &o);
}

static void writer_end(struct ring_writer *w, const char *name)
{
	char path[256];

	rec_payload_fill(ring_reserve(w, RAWCAP_REC_META, END_FLAGS, 0, 64), w->next_seq, 64);
	ring_publish(w);
	ring_notify(w);
	ring_writer_close(w);
	snprintf(path, sizeof(path), "%s/rawcap-%s", shm_dir, name);
	unlink(path);
}

/* capd's per-batch work: reserve and fill batch_bytes of records, publish, wake. */
static uint64_t write_batch(struct ring_writer *w, uint64_t seq, uint64_t end, uint32_t payload)
{
	uint64_t batch = batch_bytes / (payload + sizeof(struct rawcap_rec_hdr));

	for (uint64_t b = 0; (b < batch || b == 0) && seq < end; b++, seq++) {
		uint8_t *p = ring_reserve(w, RAWCAP_REC_PACKET, 0, seq, payload);

		memcpy(p, template_for(seq, payload), payload);
		((struct rec_payload_hdr *)p)->seq = seq;
	}
	ring_publish(w);
	ring_notify(w);
	return seq;
}

/*
 * One untimed lap first. Like the memcpy baseline's destination, every page
 * is then touched: on the (shadow-paging) development VM the first touch of
 * a page by a process costs far more than the copy (about 0.6 s per 256 MiB,
 * MAP_POPULATE or not), a one-off at start, not a rate. Readers likewise
 * touch their mapping once before they report ready.
 */
static uint64_t warm_up(struct ring_writer *w, uint32_t rec_size)
{
	uint64_t n = ring_size / rawcap_rec_span(rec_size) + 1, seq = 0;

	while (seq < n)
		seq = write_batch(w, seq, n, rec_size - (uint32_t)sizeof(struct rawcap_rec_hdr));
	return seq;
}

/* Write n records of rec_size bytes (header included) flat out. */
static int run_writer(uint32_t rec_size, uint64_t n, int nreaders, struct run *out)
{
	uint32_t payload = rec_size - (uint32_t)sizeof(struct rawcap_rec_hdr);
	struct readers rd = {0};
	struct ring_writer w;
	uint64_t seq, end;
	char name[64];
	double t0, c0;
	int err;

	err = writer_open(&w, name, sizeof(name));
	if (err || (err = readers_start(&rd, name, nreaders)))
		return err;
	seq = warm_up(&w, rec_size);
	end = seq + n;
	c0 = cpu_s();
	t0 = clock_mono_s();
	while (seq < end)
		seq = write_batch(&w, seq, end, payload);
	out->secs = clock_mono_s() - t0;
	out->cpu = cpu_s() - c0;
	out->total = end;
	out->records = n;
	out->bytes = n * rec_size;
	writer_end(&w, name);
	readers_finish(&rd, out);
	return 0;
}

/* The same bytes with memcpy into a buffer the size of the ring, sequentially. */
static double run_memcpy(uint32_t rec_size, uint64_t n, double *cpu)
{
	uint32_t payload = rec_size - (uint32_t)sizeof(struct rawcap_rec_hdr);
	uint32_t span = rawcap_rec_span(rec_size);
	uint8_t *dst = aligned_alloc(4096, ring_size);
	uint64_t off = 0, mask = ring_size - 1;
	double t0, c0;

	memset(dst, 0, ring_size); /* touch every page, as the ring's warm-up lap does */
	c0 = cpu_s();
	t0 = clock_mono_s();
	for (uint64_t seq = 0; seq < n; seq++) {
		if (off + span > ring_size)
			off = 0;
		memcpy(dst + off, template_for(seq, payload), rec_size);
		off = (off + span) & mask;
	}
	t0 = clock_mono_s() - t0;
	*cpu = cpu_s() - c0;
	__asm__ volatile("" : : "r"(dst) : "memory");
	free(dst);
	return t0;
}

/* One reader; the writer paced to rate bytes/s for secs, sleeping when ahead. */
static int run_paced(uint32_t rec_size, double rate, double secs, struct run *out)
{
	uint32_t payload = rec_size - (uint32_t)sizeof(struct rawcap_rec_hdr);
	struct readers rd = {0};
	struct ring_writer w;
	uint64_t seq, seq0;
	char name[64];
	double t0, t;
	int err;

	/* The reader attaches after the warm-up lap: at the newest end, as a new reader does. */
	err = writer_open(&w, name, sizeof(name));
	if (err)
		return err;
	seq = seq0 = warm_up(&w, rec_size);
	err = readers_start(&rd, name, 1);
	if (err)
		return err;
	t0 = clock_mono_s();
	while ((t = clock_mono_s() - t0) < secs) {
		double ahead = (double)(seq - seq0) * rec_size / rate - t;

		if (ahead > 0) {
			struct timespec ts = {0, (long)(ahead * 1e9)};

			nanosleep(&ts, NULL);
		}
		seq = write_batch(&w, seq, UINT64_MAX, payload);
	}
	out->secs = clock_mono_s() - t0;
	out->records = seq - seq0;
	out->total = out->records; /* what the reader could see */
	out->bytes = out->records * rec_size;
	writer_end(&w, name);
	readers_finish(&rd, out);
	return 0;
}

static int check_readers(const struct run *r)
{
	for (int i = 0; i < r->nreaders; i++) {
		const struct reader_result *x = &r->rd[i];

		if (x->torn || x->delivered + x->lost != r->total) {
			fprintf(stderr, "ring_bench: reader %d: torn %llu, %llu + %llu != %llu\n",
				i, (unsigned long long)x->torn, (unsigned long long)x->delivered,
				(unsigned long long)x->lost, (unsigned long long)r->total);
			return 1;
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ring_bench [--quick] [--ring-size BYTES] [--batch BYTES] "
		   "[--paced-seconds S]\n"
		   "  Writer throughput of the rawcap shm ring against memcpy, with 0/1/4\n"
		   "  verifying reader processes, then reader loss at a paced 1 GB/s.\n"
		   "  --quick            a tenth of the records (a smoke run)\n"
		   "  --ring-size BYTES  data area, a power of two (default 256Mi)\n"
		   "  --batch BYTES      records per publish + wake (default 1Mi, capd's block)\n"
		   "  --paced-seconds S  length of the paced run (default 3)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"quick", no_argument, NULL, 'q'},
		{"ring-size", required_argument, NULL, 's'},
		{"paced-seconds", required_argument, NULL, 'p'},
		{"batch", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static const uint32_t sizes[] = {64, 512, 1500};
	static const int nreaders[] = {0, 1, 4};
	double paced_secs = 3, scale = 1;
	int opt, bad = 0;
	struct run r;

	while ((opt = getopt_long(argc, argv, "qs:p:b:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			scale = 0.1;
			break;
		case 's':
			if (rawcap_parse_size(optarg, &ring_size) ||
			    !ring_layout_valid_data_size(ring_size)) {
				fprintf(stderr, "ring_bench: bad --ring-size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			paced_secs = atof(optarg);
			break;
		case 'b':
			if (rawcap_parse_size(optarg, &batch_bytes) || !batch_bytes) {
				fprintf(stderr, "ring_bench: bad --batch '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	snprintf(shm_dir, sizeof(shm_dir), "/dev/shm/rawcap-bench-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(shm_dir)) {
		perror("ring_bench: mkdtemp");
		return 1;
	}
	setenv("RAWCAP_SHM_DIR", shm_dir, 1);
	signal(SIGPIPE, SIG_IGN);

	printf("ring %llu MiB, publish + wake every %llu KiB of records; record size includes the "
	       "24 B header\n\n",
	       (unsigned long long)(ring_size >> 20), (unsigned long long)(batch_bytes >> 10));
	printf("| record | readers | records/s | GB/s | memcpy GB/s | ring/memcpy | writer CPU | "
	       "ring/memcpy per CPU-s | reader loss |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (unsigned s = 0; s < 3; s++) {
		/* About 2 GB per run (20 M records at 64 B). */
		uint64_t n = (uint64_t)(scale * (sizes[s] == 64 ? 20e6 : 2e9 / sizes[s]));
		double mc, mc2, mc_cpu, mc2_cpu;

		make_templates(sizes[s] - 24);
		/* Best of two: the baseline should not be the victim of a load spike. */
		mc = run_memcpy(sizes[s], n, &mc_cpu);
		mc2 = run_memcpy(sizes[s], n, &mc2_cpu);
		mc_cpu = n * (double)sizes[s] / fmin(mc_cpu, mc2_cpu) / 1e9;
		mc = n * (double)sizes[s] / fmin(mc, mc2) / 1e9;
		for (unsigned k = 0; k < 3; k++) {
			char loss[128] = "-";
			int len = 0;

			if (run_writer(sizes[s], n, nreaders[k], &r)) {
				fprintf(stderr, "ring_bench: run failed\n");
				return 1;
			}
			bad |= check_readers(&r);
			for (int i = 0; i < r.nreaders; i++)
				len += snprintf(loss + len, sizeof(loss) - len, "%s%.2f%%",
						i ? " " : "", 100.0 * r.rd[i].lost / r.total);
			printf("| %u B | %d | %.2f M | %.2f | %.2f | %.2fx | %.0f%% | %.2fx | %s "
			       "|\n",
			       sizes[s], nreaders[k], r.records / r.secs / 1e6,
			       r.bytes / r.secs / 1e9, mc, r.bytes / r.secs / 1e9 / mc,
			       100 * r.cpu / r.secs, r.bytes / r.cpu / 1e9 / mc_cpu, loss);
			fflush(stdout);
		}
	}
	make_templates(1500 - 24);
	if (run_paced(1500, 1e9, paced_secs, &r)) {
		fprintf(stderr, "ring_bench: paced run failed\n");
		return 1;
	}
	bad |= check_readers(&r);
	printf("\nPaced: 1 reader, writer at 1 GB/s of 1500 B records for %.1f s: %.3f GB/s "
	       "written, %llu records, reader delivered %llu, lost %llu (%.4f%%), lapped %llu "
	       "times\n",
	       r.secs, r.bytes / r.secs / 1e9, (unsigned long long)r.records,
	       (unsigned long long)r.rd[0].delivered, (unsigned long long)r.rd[0].lost,
	       100.0 * r.rd[0].lost / r.records, (unsigned long long)r.rd[0].lapped);
	rmdir(shm_dir);
	return bad;
}
