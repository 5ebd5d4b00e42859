// SPDX-License-Identifier: MIT
/*
 * forward_bench.c - rawcap-forward's throughput to a local sink over
 * loopback, beside a plain copy of the same number of bytes over the same
 * kind of socket (plain TCP or TLS) in the same process: the ratio is what
 * the forwarder costs on top of moving the bytes.
 *
 * Usage: forward_bench [--steady] PKT_SIZE COUNT [CERT KEY]   (TLS when CERT/KEY given)
 *
 * Cold (default): fills a private ring with COUNT synthetic UDP packets of
 * PKT_SIZE bytes, then runs ROUNDS (default 3) interleaved rounds, the
 * order alternating: rawcap_forward (in a thread) serves the ring as a
 * pcapng window through a new mapping and we read it to EOF; the plain copy
 * sends the same byte count from memory. Every round pays the first touch
 * of the ring's pages in a new mapping.
 *
 * Steady (--steady): one live forwarder and one receiver stay attached for
 * the whole run, as in production. Each round pauses the forwarder, writes
 * COUNT packets into the ring, resumes (backlog) and times the receiver
 * from the first to the last byte of those packets. Untimed rounds first
 * wrap the ring at least once, so every page the timed rounds read was
 * read before through the same mapping. Baselines: a copy of the same byte
 * count from one hot 64 KiB buffer, and from a mapping of the ring that
 * was read once before (warm), each timed from first to last byte too.
 *
 * Prints one table row from the fastest round of each, and on stderr the
 * CPU time each sending thread used (the fastest round's), which load on
 * the machine disturbs less than wall time.
 *
 * This file: the cold rounds and main; forward_bench_steady.c the steady
 * state; forward_bench_io.c the ring, the receiver and the copies.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <rawcap/forward.h>

#include "clock.h"
#include "forward_bench.h"

/* One forward of the whole window: wall seconds; *cpu: the forwarder thread's. */
static double time_forward(const struct rawcap_forward_opts *o, struct reader *r, double *cpu)
{
	struct forwarder fw = {0};
	char why[256];
	pthread_t t;
	double t0;

	if (rawcap_forward_create(o, &fw.f, why, sizeof(why))) {
		fprintf(stderr, "forward_bench: %s\n", why);
		exit(1);
	}
	r->port = rawcap_forward_port(fw.f);
	pthread_create(&t, NULL, run_forward, &fw);
	t0 = clock_mono_s();
	drain(r);
	t0 = clock_mono_s() - t0;
	rawcap_forward_stop(fw.f);
	pthread_join(t, NULL);
	rawcap_forward_destroy(fw.f);
	*cpu = fw.cpu;
	return t0;
}

static int run_cold(struct bench *b)
{
	double tf = 0, tc = 0, tr = 0, cf = 0, cc = 0, cr = 0;
	uint64_t fwd_bytes = 0;

	fill_ring(b->ring, b->size, b->count);
	b->o.from_ns = 1;
	b->o.to_ns = rawcap_now_ns();
	/* A window ends RAWCAP_REORDER_NS past its end (late records may come): no round waits. */
	sleep_ms((long)(RAWCAP_REORDER_NS / 1000000));
	for (int i = 0; i < 3 * b->rounds; i++) {
		int step = round_step(i);
		double cpu, t;

		if (step == 0) {
			t = time_forward(&b->o, &b->r, &cpu);
			fwd_bytes = b->r.bytes;
			keep_best(&tf, &cf, t, cpu);
			continue;
		}
		t = time_copy((struct copier){.ctx = b->sctx,
					      .bytes = fwd_bytes,
					      .ring = step == 2 ? b->ring : NULL},
			      &b->r, &cpu);
		if (b->r.bytes != fwd_bytes)
			return 1;
		keep_best(step == 1 ? &tc : &tr, step == 1 ? &cc : &cr, t, cpu);
	}
	printf("| %4u B | %-5s | %9.0f | %8.1f | %8.1f | %5.2f | %5.2f | %5.2f |\n", b->size,
	       b->o.plain ? "plain" : "TLS", (double)b->count / tf, (double)fwd_bytes / tf / 1e6,
	       (double)fwd_bytes / tc / 1e6, tf / tc, tf / tr, cf / cc);
	fprintf(stderr,
		"forward_bench: %u B %s, best of %d: forward %.3f s (%.3f s CPU), copy %.3f s "
		"(%.3f s CPU), copy from the ring's pages %.3f s (%.3f s CPU)\n",
		b->size, b->o.plain ? "plain" : "TLS", b->rounds, tf, cf, tc, cc, tr, cr);
	return 0;
}

static char ring_path[128];

/* Every exit removes the ring, a failed round's too. */
static void remove_ring(void)
{
	unlink(ring_path);
}

int main(int argc, char **argv)
{
	struct bench b = {.o = {.sz = sizeof(b.o), .listen = "127.0.0.1:0"}};
	bool steady = argc > 1 && !strcmp(argv[1], "--steady");

	argc -= steady, argv += steady;
	b.rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 3;
	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: forward_bench [--steady] PKT_SIZE COUNT [CERT KEY]\n");
		return 2;
	}
	b.size = (uint32_t)atoi(argv[1]);
	b.count = strtoull(argv[2], NULL, 0);
	if (b.size < 42 || b.size > 2048 || !b.count || b.rounds < 1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	snprintf(b.ring, sizeof(b.ring), "fwdbench-%d", getpid());
	snprintf(ring_path, sizeof(ring_path), "/dev/shm/rawcap-%s", b.ring);
	atexit(remove_ring);
	b.o.ring = b.ring;
	b.o.plain = argc == 3;
	if (!b.o.plain) {
		b.o.tls_cert = argv[3];
		b.o.tls_key = argv[4];
		b.r.ctx = SSL_CTX_new(TLS_client_method());
		b.sctx = SSL_CTX_new(TLS_server_method());
		if (SSL_CTX_use_certificate_file(b.sctx, argv[3], SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_use_PrivateKey_file(b.sctx, argv[4], SSL_FILETYPE_PEM) != 1)
			return 1;
	}
	return steady ? run_steady(&b) : run_cold(&b);
}
