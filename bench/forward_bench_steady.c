// SPDX-License-Identifier: MIT
/*
 * forward_bench_steady.c - forward_bench --steady: one live forwarder and
 * receiver for the whole run, each round COUNT new packets through the
 * paused-then-resumed forwarder, beside copies from a hot buffer and a
 * warm mapping of the ring (forward_bench.c says how).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "forward_bench.h"

/*
 * The steady state: the receiver of one live forwarder, reading for the
 * whole run. Between rounds nothing flows; a round sets mark (bytes read so
 * far) and target, and the reader stamps the first byte past mark and the
 * byte that reaches target.
 */
struct steady {
	struct reader r;
	_Atomic uint64_t got, mark, target;
	_Atomic(double) first, last;
};

static void *steady_read(void *arg)
{
	static char buf[1 << 18];
	struct steady *s = arg;
	SSL *ssl;
	int fd = connect_reader(&s->r, &ssl);
	ssize_t n;

	while ((n = read_some(fd, ssl, buf, sizeof(buf))) > 0) {
		uint64_t got = atomic_load(&s->got) + (uint64_t)n;

		atomic_store(&s->got, got);
		if (got > atomic_load(&s->mark) && !atomic_load(&s->first))
			atomic_store(&s->first, clock_mono_s());
		if (got >= atomic_load(&s->target) && !atomic_load(&s->last))
			atomic_store(&s->last, clock_mono_s());
	}
	SSL_free(ssl);
	close(fd);
	return NULL;
}

static double cpu_clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_paused(struct rawcap_forward *f, bool paused)
{
	struct rawcap_forward_stats st;

	rawcap_forward_pause(f, paused);
	do {
		sleep_ms(1);
		rawcap_forward_get_stats(f, &st);
	} while (st.paused != paused);
}

/*
 * One round: count packets into the paused forwarder's ring, resume, and
 * wait for the receiver to read them. bytes: what the round's packets take
 * in the stream, 0 to learn it (returned; waits until nothing more comes).
 * Wall seconds from first to last byte; *cpu: the forwarder thread's.
 */
static double steady_round(struct bench *b, struct ring_writer *w, struct rawcap_forward *f,
			   clockid_t fcpu, struct steady *s, uint64_t *bytes, double *cpu)
{
	uint64_t mark = atomic_load(&s->got), seen;
	double c0, deadline = clock_mono_s() + 120;

	set_paused(f, true);
	write_packets(w, b->size, b->count);
	atomic_store(&s->first, 0);
	atomic_store(&s->last, 0);
	atomic_store(&s->mark, mark);
	atomic_store(&s->target, *bytes ? mark + *bytes : UINT64_MAX);
	c0 = cpu_clock_s(fcpu);
	set_paused(f, false);
	if (*bytes) {
		while (!atomic_load(&s->last) && clock_mono_s() < deadline)
			sleep_ms(1);
	} else { /* learning: until 300 ms pass without a byte */
		do {
			seen = atomic_load(&s->got);
			sleep_ms(300);
		} while (atomic_load(&s->got) != seen || seen == mark);
		*bytes = seen - mark;
		atomic_store(&s->last, clock_mono_s());
	}
	*cpu = cpu_clock_s(fcpu) - c0;
	sleep_ms(20);
	if (!atomic_load(&s->last) || atomic_load(&s->got) != mark + *bytes) {
		fprintf(stderr, "forward_bench: a round read %llu bytes, expected %llu\n",
			(unsigned long long)(atomic_load(&s->got) - mark),
			(unsigned long long)*bytes);
		exit(1);
	}
	return atomic_load(&s->last) - atomic_load(&s->first);
}

/* A read-only mapping of the ring, every page read once (warm). */
static const char *map_warm(const char *ring, size_t *len)
{
	const volatile char *p = map_ring(ring, len);
	uint64_t sum = 0;

	if (!p)
		exit(1);
	for (size_t i = 0; i < *len; i += 64)
		sum += (uint64_t)p[i];
	return (const char *)p + (sum & 0);
}

int run_steady(struct bench *b)
{
	struct steady s = {.r = b->r};
	struct forwarder fw = {0};
	struct rawcap_forward_stats st;
	struct ring_writer w;
	double tf = 0, tc = 0, tr = 0, cf = 0, cc = 0, cr = 0, wrapped;
	uint64_t bytes = 0;
	const char *warm;
	size_t warm_len;
	pthread_t ft, rt;
	clockid_t fcpu;
	char why[256];
	int warmup = 0;

	if (b->count * (b->size + 64) > RING_DATA_SIZE / 2) {
		fprintf(stderr,
			"forward_bench: %llu packets of %u B take more than half the ring\n",
			(unsigned long long)b->count, b->size);
		return 2;
	}
	create_ring(&w, b->ring);
	b->o.resume = RAWCAP_FWD_RESUME_BACKLOG;
	if (rawcap_forward_create(&b->o, &fw.f, why, sizeof(why))) {
		fprintf(stderr, "forward_bench: %s\n", why);
		return 1;
	}
	s.r.port = rawcap_forward_port(fw.f);
	pthread_create(&ft, NULL, run_forward, &fw);
	pthread_getcpuclockid(ft, &fcpu);
	pthread_create(&rt, NULL, steady_read, &s);
	while (rawcap_forward_get_stats(fw.f, &st), !st.streams)
		sleep_ms(1);
	/* Untimed rounds until the ring wrapped once: the mapping is warm. */
	do { /* each learns the bytes a round takes (the first also carries the stream's header) */
		bytes = 0;
		steady_round(b, &w, fw.f, fcpu, &s, &bytes, &cf);
		warmup++;
	} while (warmup < 2 || w.wpos < RING_DATA_SIZE + RING_DATA_SIZE / 4);
	wrapped = (double)w.wpos / RING_DATA_SIZE;
	cf = 0;
	warm = map_warm(b->ring, &warm_len);
	for (int i = 0; i < 3 * b->rounds; i++) {
		int step = round_step(i);
		double cpu, t;

		if (step == 0) {
			t = steady_round(b, &w, fw.f, fcpu, &s, &bytes, &cpu);
			keep_best(&tf, &cf, t, cpu);
			continue;
		}
		t = time_copy((struct copier){.ctx = b->sctx,
					      .bytes = bytes,
					      .warm = step == 2 ? warm : NULL,
					      .warm_len = warm_len},
			      &b->r, &cpu);
		if (b->r.bytes != bytes)
			return 1;
		keep_best(step == 1 ? &tc : &tr, step == 1 ? &cc : &cr, t, cpu);
	}
	rawcap_forward_get_stats(fw.f, &st);
	rawcap_forward_stop(fw.f);
	pthread_join(ft, NULL);
	pthread_join(rt, NULL);
	rawcap_forward_destroy(fw.f);
	ring_writer_close(&w);
	munmap((void *)warm, warm_len);
	printf("| %4u B | %-5s | %9.0f | %8.1f | %8.1f | %5.2f | %5.2f | %5.2f | %5.2f |\n",
	       b->size, b->o.plain ? "plain" : "TLS", (double)b->count / tf,
	       (double)bytes / tf / 1e6, (double)bytes / tc / 1e6, tf / tc, tf / tr, cf / cc,
	       cf / cr);
	fprintf(stderr,
		"forward_bench: steady %u B %s: %d untimed rounds (the writer %.2f ring sizes in), "
		"best of %d: forward %.3f s (%.3f s CPU), copy %.3f s (%.3f s CPU), copy from the "
		"warm ring %.3f s (%.3f s CPU); %llu packets forwarded, %llu records lost\n",
		b->size, b->o.plain ? "plain" : "TLS", warmup, wrapped, b->rounds, tf, cf, tc, cc,
		tr, cr, (unsigned long long)st.packets, (unsigned long long)st.records_lost);
	return st.records_lost || st.packets != (uint64_t)(warmup + b->rounds) * b->count;
}
