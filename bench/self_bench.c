// SPDX-License-Identifier: MIT
/*
 * self_bench.c - the per-packet cost of capd_self_skip() (capd/self_match.h),
 * beside what capd does for every packet anyway: copy it into the ring
 * (here a memcpy of the same bytes into a 64 MiB buffer, cold like the
 * ring). Cases: no own connection (the default on a node without rawcap
 * readers), without and with the lookup callback capd sets (which makes
 * every packet's ports be found, to see SYNs), 64 own connections that the packets do not belong to
 * (other ports: the bitmap rejects them), other traffic on an own connection's port (hash lookup,
 * miss), and the own connection itself (hit). Frames are 64 B Ethernet/IPv4/UDP; CPU time per
 * packet, best of 5 runs; prints markdown.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "self_match.h"

#define NPKT	 4096
#define ROUNDS	 2000
#define SINK_LEN (64u << 20)

static uint8_t frames[NPKT][64];
static uint8_t *sink;
static volatile uint64_t keep;

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void frame(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	memset(p, 0, 64);
	p[12] = 0x08; /* IPv4 */
	p[14] = 0x45;
	p[23] = 17; /* UDP */
	memcpy(p + 26, &src, 4);
	memcpy(p + 30, &dst, 4);
	p[34] = (uint8_t)(sport >> 8);
	p[35] = (uint8_t)sport;
	p[36] = (uint8_t)(dport >> 8);
	p[37] = (uint8_t)dport;
}

static void mapped(uint8_t a[16], uint32_t v4)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	memcpy(a + 12, &v4, 4);
}

/* ns of CPU per packet for: the test (with_test), then the copy into the sink. */
static double run(int with_test)
{
	double best = 1e18;

	for (int r = 0; r < 5; r++) {
		size_t off = 0;
		uint64_t n = 0;
		double t0 = cpu_ns();

		for (int i = 0; i < ROUNDS; i++)
			for (int j = 0; j < NPKT; j++) {
				if (with_test &&
				    capd_self_skip(frames[j], 64, 64, 1, SELF_DIR_IN)) {
					n++;
					continue;
				}
				memcpy(sink + off, frames[j], 64);
				off = (off + 64) % SINK_LEN;
			}
		keep += n + sink[off];
		t0 = (cpu_ns() - t0) / ((double)ROUNDS * NPKT);
		best = t0 < best ? t0 : best;
	}
	return best;
}

/* capd's asks the kernel; no packet here is a SYN or reaches a listener. */
static bool bench_unknown_conn(struct self_match *m, const struct self_key *k, int local,
			       bool listener, bool here)
{
	(void)here;
	(void)m;
	(void)k;
	(void)local;
	(void)listener;
	return false;
}

int main(void)
{
	static struct self_match m;
	uint32_t host = 0x0100007f, peer = 0x0200007f; /* 127.0.0.1, 127.0.0.2 (network order) */
	uint8_t a[16], b[16];
	double base, t;

	sink = calloc(1, SINK_LEN);
	if (!sink)
		return 1;
	for (int j = 0; j < NPKT; j++)
		frame(frames[j], host, peer, (uint16_t)(20000 + j % 1000), 9999);
	base = run(0);
	printf("| case | ns/packet | vs copy alone |\n|---|---:|---:|\n");
	printf("| copy into the ring only | %.2f | 1.00 |\n", base);

	capd_self = &m;
	t = run(1);
	printf("| + test, no own connection, no lookup callback | %.2f | %.2f "
	       "|\n",
	       t, t / base);

	m.unknown_conn = bench_unknown_conn; /* as in capd: every packet's ports are found */
	t = run(1);
	printf("| + test, no own connection (lookups on: ports found) | %.2f | %.2f |\n", t,
	       t / base);

	mapped(a, host);
	mapped(b, peer);
	for (int i = 0; i < 64; i++)
		self_table_add(&m.tab[0], 6, a, (uint16_t)(40000 + i), b, 57012);
	t = run(1);
	printf("| + test, 64 own connections, other ports | %.2f | %.2f |\n", t, t / base);

	self_table_add(&m.tab[0], 17, a, 9999, b, 1); /* an own socket on the packets' port */
	t = run(1);
	printf("| + test, other traffic on an own port (lookup, miss) | %.2f | %.2f |\n", t,
	       t / base);

	for (int j = 0; j < NPKT; j++) /* every packet is the own connection's */
		frame(frames[j], peer, host, 1, 9999);
	t = run(1);
	printf("| test only, own packets (hit: not copied) | %.2f | %.2f |\n", t, t / base);
	return keep == 42;
}
