// SPDX-License-Identifier: MIT
/*
 * forward_bench.c - rawcap-forward's throughput to a local sink over
 * loopback, beside a plain copy of the same number of bytes over the same
 * kind of socket (plain TCP or TLS) in the same process: the ratio is what
 * the forwarder costs on top of moving the bytes.
 *
 * Usage: forward_bench PKT_SIZE COUNT [CERT KEY]   (TLS when CERT/KEY given)
 * Fills a private ring with COUNT synthetic UDP packets of PKT_SIZE bytes,
 * then runs ROUNDS (default 3) interleaved rounds, the order alternating:
 * rawcap_forward (in a thread) serves the ring as a pcapng window and we
 * read it to EOF; the plain copy sends the same byte count from memory.
 * Prints one table row from the fastest round of each, and on stderr the
 * CPU time each sending thread used (the fastest round's), which load on
 * the machine disturbs less than wall time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <rawcap/forward.h>

#include "clock.h"
#include "ring_writer.h"

static void fill_ring(const char *name, uint32_t size, uint64_t count)
{
	struct ring_writer_opts o = {
		.name = name, .data_size = 1ull << 28, .mode = 0600, .gid = (gid_t)-1};
	struct ring_writer w;
	uint8_t frame[2048] = {0};

	if (ring_writer_create(&w, &o)) {
		fprintf(stderr, "forward_bench: cannot create ring %s\n", name);
		exit(1);
	}
	frame[12] = 0x08; /* IPv4 */
	frame[14] = 0x45;
	frame[23] = 17; /* UDP */
	for (uint64_t i = 0; i < count; i++) {
		struct rawcap_pkt *p = ring_reserve(&w, RAWCAP_REC_PACKET, 0, rawcap_now_ns(),
						    (uint32_t)sizeof(*p) + size);

		memset(p, 0, sizeof(*p));
		p->ifindex = 1;
		p->orig_len = size;
		p->linktype = 1;
		memcpy(p + 1, frame, size);
		if ((i & 1023) == 1023)
			ring_publish(&w);
	}
	ring_publish(&w);
	ring_writer_close(&w);
}

struct reader {
	int port;
	SSL_CTX *ctx;
	uint64_t bytes;
};

/* Connect and read everything until the peer closes. */
static void drain(struct reader *r)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port)};
	static char buf[1 << 18];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	SSL *ssl = NULL;
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (void *)&a, sizeof(a))) {
		perror("forward_bench: connect");
		exit(1);
	}
	if (r->ctx) {
		ssl = SSL_new(r->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_connect(ssl) != 1) {
			fprintf(stderr, "forward_bench: TLS handshake failed\n");
			exit(1);
		}
	}
	r->bytes = 0;
	while ((n = ssl ? SSL_read(ssl, buf, sizeof(buf)) : read(fd, buf, sizeof(buf))) > 0)
		r->bytes += (uint64_t)n;
	SSL_free(ssl);
	close(fd);
}

/* CPU seconds the calling thread has used. */
static double thread_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct forwarder {
	struct rawcap_forward *f;
	double cpu;
};

static void *run_forward(void *arg)
{
	struct forwarder *fw = arg;
	double c0 = thread_cpu_s();

	rawcap_forward_run(fw->f, NULL, 0);
	fw->cpu = thread_cpu_s() - c0;
	return NULL;
}

struct copier {
	int lfd;
	SSL_CTX *ctx;
	uint64_t bytes;
	const char *ring; /* NULL: send from one small hot buffer; else from the ring's pages */
	double cpu;
};

/* The ring's shared memory, mapped afresh as a reader maps it (NULL on failure). */
static const char *map_ring(const char *ring, size_t *len)
{
	char path[128];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/rawcap-%s", ring);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		perror("forward_bench: ring");
		exit(1);
	}
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* The baseline: accept one connection and write bytes from memory, then close. */
static void *run_copy(void *arg)
{
	struct copier *c = arg;
	static char small[1 << 16];
	int fd = accept(c->lfd, NULL, NULL);
	SSL *ssl = NULL;
	uint64_t left = c->bytes;
	double c0 = thread_cpu_s();
	size_t map_len = 0;
	const char *map = c->ring ? map_ring(c->ring, &map_len) : NULL, *buf = small;

	if (c->ctx) {
		ssl = SSL_new(c->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			return NULL;
	}
	while (left) {
		int chunk = left < sizeof(small) ? (int)left : (int)sizeof(small);
		int n;

		if (map) /* the same bytes in order, from a fresh mapping of the ring */
			buf = map + (c->bytes - left) % (map_len - sizeof(small));
		n = ssl ? SSL_write(ssl, buf, chunk) : (int)write(fd, buf, (size_t)chunk);
		if (n <= 0)
			break;
		left -= (uint64_t)n;
	}
	if (map)
		munmap((void *)map, map_len);
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	c->cpu = thread_cpu_s() - c0;
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) || listen(fd, 1) ||
	    getsockname(fd, (void *)&a, &l))
		exit(1);
	*port = ntohs(a.sin_port);
	return fd;
}

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

/* One plain copy of bytes: wall seconds; *cpu: the sending thread's. */
static double time_copy(SSL_CTX *sctx, uint64_t bytes, const char *ring, struct reader *r,
			double *cpu)
{
	struct copier cp = {.ctx = sctx, .bytes = bytes, .ring = ring};
	pthread_t t;
	double t0;

	cp.lfd = listen_any(&r->port);
	pthread_create(&t, NULL, run_copy, &cp);
	t0 = clock_mono_s();
	drain(r);
	t0 = clock_mono_s() - t0;
	pthread_join(t, NULL);
	close(cp.lfd);
	*cpu = cp.cpu;
	return t0;
}

int main(int argc, char **argv)
{
	struct rawcap_forward_opts o = {.sz = sizeof(o), .listen = "127.0.0.1:0", .from_ns = 1};
	struct reader r = {0};
	SSL_CTX *sctx = NULL;
	char ring[64], path[128];
	double tf = 0, tc = 0, tr = 0, cf = 0, cc = 0, cr = 0;
	uint64_t count, fwd_bytes = 0;
	uint32_t size;
	int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 3;

	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: forward_bench PKT_SIZE COUNT [CERT KEY]\n");
		return 2;
	}
	size = (uint32_t)atoi(argv[1]);
	count = strtoull(argv[2], NULL, 0);
	if (size < 42 || size > 2048 || !count || rounds < 1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	snprintf(ring, sizeof(ring), "fwdbench-%d", getpid());
	fill_ring(ring, size, count);
	o.ring = ring;
	o.to_ns = rawcap_now_ns();
	o.plain = argc == 3;
	if (!o.plain) {
		o.tls_cert = argv[3];
		o.tls_key = argv[4];
		r.ctx = SSL_CTX_new(TLS_client_method());
		sctx = SSL_CTX_new(TLS_server_method());
		if (SSL_CTX_use_certificate_file(sctx, argv[3], SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_use_PrivateKey_file(sctx, argv[4], SSL_FILETYPE_PEM) != 1)
			return 1;
	}
	/* Even rounds forward first, odd rounds last: load drifts hit all three alike. */
	for (int i = 0; i < 3 * rounds; i++) {
		/* 0 forward, 1 copy, 2 copy from the ring */
		int step = i / 3 & 1 ? 2 - i % 3 : i % 3;
		double cpu, t;

		if (step == 0) {
			t = time_forward(&o, &r, &cpu);
			fwd_bytes = r.bytes;
			if (!tf || t < tf)
				tf = t, cf = cpu;
			continue;
		}
		t = time_copy(sctx, fwd_bytes, step == 2 ? ring : NULL, &r, &cpu);
		if (r.bytes != fwd_bytes)
			return 1;
		if (step == 1 && (!tc || t < tc))
			tc = t, cc = cpu;
		if (step == 2 && (!tr || t < tr))
			tr = t, cr = cpu;
	}
	snprintf(path, sizeof(path), "/dev/shm/rawcap-%s", ring);
	unlink(path);
	printf("| %4u B | %-5s | %9.0f | %8.1f | %8.1f | %5.2f | %5.2f | %5.2f |\n", size,
	       o.plain ? "plain" : "TLS", (double)count / tf, (double)fwd_bytes / tf / 1e6,
	       (double)fwd_bytes / tc / 1e6, tf / tc, tf / tr, cf / cc);
	fprintf(stderr,
		"forward_bench: %u B %s, best of %d: forward %.3f s (%.3f s CPU), copy %.3f s "
		"(%.3f s CPU), copy from the ring's pages %.3f s (%.3f s CPU)\n",
		size, o.plain ? "plain" : "TLS", rounds, tf, cf, tc, cc, tr, cr);
	return 0;
}
