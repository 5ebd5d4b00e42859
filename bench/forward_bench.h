// SPDX-License-Identifier: MIT
/*
 * forward_bench.h - what the parts of forward_bench share: the ring it
 * fills, the receiver, the plain-copy baseline and the round helpers
 * (forward_bench_io.c), the cold rounds and main (forward_bench.c), the
 * steady state (forward_bench_steady.c).
 */
#ifndef RAWCAP_FORWARD_BENCH_H
#define RAWCAP_FORWARD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include <rawcap/forward.h>

#include "ring_writer.h"

#define RING_DATA_SIZE (1ull << 28)

struct reader {
	int port;
	SSL_CTX *ctx;
	uint64_t bytes;
	double first; /* clock_mono_s() of the first byte read */
};

struct forwarder {
	struct rawcap_forward *f;
	double cpu;
};

struct copier {
	int lfd;
	SSL_CTX *ctx;
	uint64_t bytes;
	const char *ring; /* NULL: send from one small hot buffer; else from the ring's pages */
	const char *warm; /* else from this mapping of the ring, read before */
	size_t warm_len;
	double cpu;
};

struct bench {
	uint32_t size;
	uint64_t count;
	int rounds;
	char ring[64];
	struct rawcap_forward_opts o;
	SSL_CTX *sctx; /* the copies' server side; the reader's client side is in r.ctx */
	struct reader r;
};

void create_ring(struct ring_writer *w, const char *name);
void write_packets(struct ring_writer *w, uint32_t size, uint64_t count);
void fill_ring(const char *name, uint32_t size, uint64_t count);
int connect_reader(const struct reader *r, SSL **ssl);
ssize_t read_some(int fd, SSL *ssl, void *buf, size_t len);
void drain(struct reader *r);
double thread_cpu_s(void);
void *run_forward(void *arg);
const char *map_ring(const char *ring, size_t *len);
void *run_copy(void *arg);
double time_copy(struct copier cp, struct reader *r, double *cpu);
int round_step(int i);
void sleep_ms(long ms);
void keep_best(double *t_best, double *cpu_best, double t, double cpu);
int run_steady(struct bench *b);

#endif
