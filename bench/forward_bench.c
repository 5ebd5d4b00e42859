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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
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

#define RING_DATA_SIZE (1ull << 28)

static void create_ring(struct ring_writer *w, const char *name)
{
	struct ring_writer_opts o = {
		.name = name, .data_size = RING_DATA_SIZE, .mode = 0600, .gid = (gid_t)-1};

	if (ring_writer_create(w, &o)) {
		fprintf(stderr, "forward_bench: cannot create ring %s\n", name);
		exit(1);
	}
}

/* count synthetic UDP packets of size bytes, published every 1024. */
static void write_packets(struct ring_writer *w, uint32_t size, uint64_t count)
{
	uint8_t frame[2048] = {0};

	frame[12] = 0x08; /* IPv4 */
	frame[14] = 0x45;
	frame[23] = 17; /* UDP */
	for (uint64_t i = 0; i < count; i++) {
		struct rawcap_pkt *p = ring_reserve(w, RAWCAP_REC_PACKET, 0, rawcap_now_ns(),
						    (uint32_t)sizeof(*p) + size);

		memset(p, 0, sizeof(*p));
		p->ifindex = 1;
		p->orig_len = size;
		p->linktype = 1;
		memcpy(p + 1, frame, size);
		if ((i & 1023) == 1023)
			ring_publish(w);
	}
	ring_publish(w);
}

static void fill_ring(const char *name, uint32_t size, uint64_t count)
{
	struct ring_writer w;

	create_ring(&w, name);
	write_packets(&w, size, count);
	ring_writer_close(&w);
}

struct reader {
	int port;
	SSL_CTX *ctx;
	uint64_t bytes;
	double first; /* clock_mono_s() of the first byte read */
};

/* Connect to the server on r->port (TLS with r->ctx): the socket, *ssl or NULL. */
static int connect_reader(const struct reader *r, SSL **ssl)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (void *)&a, sizeof(a))) {
		perror("forward_bench: connect");
		exit(1);
	}
	*ssl = NULL;
	if (r->ctx) {
		*ssl = SSL_new(r->ctx);
		SSL_set_fd(*ssl, fd);
		if (SSL_connect(*ssl) != 1) {
			fprintf(stderr, "forward_bench: TLS handshake failed\n");
			exit(1);
		}
	}
	return fd;
}

static ssize_t read_some(int fd, SSL *ssl, void *buf, size_t len)
{
	return ssl ? SSL_read(ssl, buf, (int)len) : read(fd, buf, len);
}

/* Connect and read everything until the peer closes. */
static void drain(struct reader *r)
{
	static char buf[1 << 18];
	SSL *ssl;
	int fd = connect_reader(r, &ssl);
	ssize_t n;

	r->bytes = 0;
	while ((n = read_some(fd, ssl, buf, sizeof(buf))) > 0) {
		if (!r->bytes)
			r->first = clock_mono_s();
		r->bytes += (uint64_t)n;
	}
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

	pthread_setname_np(pthread_self(), "forwarder"); /* perf report --comm forwarder */
	rawcap_forward_run(fw->f, NULL, 0);
	fw->cpu = thread_cpu_s() - c0;
	return NULL;
}

struct copier {
	int lfd;
	SSL_CTX *ctx;
	uint64_t bytes;
	const char *ring; /* NULL: send from one small hot buffer; else from the ring's pages */
	const char *warm; /* else from this mapping of the ring, read before */
	size_t warm_len;
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

/*
 * The TLS copy writes its records through a 256 KiB buffer, as the
 * forwarder does (forward_tls.c), not with one write(2) per 16 KiB record.
 */
static void buffer_tls(SSL *ssl)
{
	BIO *sock = SSL_get_wbio(ssl), *buf = BIO_new(BIO_f_buffer());

	if (!buf || BIO_set_write_buffer_size(buf, 256 << 10) != 1 || !BIO_up_ref(sock)) {
		fprintf(stderr, "forward_bench: TLS write buffer: out of memory\n");
		exit(1);
	}
	SSL_set0_wbio(ssl, BIO_push(buf, sock));
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
	size_t map_len = c->warm_len;
	const char *map = c->warm ? c->warm : c->ring ? map_ring(c->ring, &map_len) : NULL;
	const char *buf = small;

	if (c->ctx) {
		ssl = SSL_new(c->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			return NULL;
		buffer_tls(ssl);
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
	if (ssl)
		BIO_flush(SSL_get_wbio(ssl));
	if (map && !c->warm)
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

/*
 * One plain copy of cp.bytes: wall seconds from connect, or with a warm
 * mapping (the steady state) from the first byte read, to the last byte
 * read; *cpu: the sending thread's.
 */
static double time_copy(struct copier cp, struct reader *r, double *cpu)
{
	pthread_t t;
	double t0, t1;

	cp.lfd = listen_any(&r->port);
	pthread_create(&t, NULL, run_copy, &cp);
	t0 = clock_mono_s();
	drain(r);
	t1 = clock_mono_s();
	pthread_join(t, NULL);
	close(cp.lfd);
	*cpu = cp.cpu;
	return t1 - (cp.warm ? r->first : t0);
}

struct bench {
	uint32_t size;
	uint64_t count;
	int rounds;
	char ring[64];
	struct rawcap_forward_opts o;
	SSL_CTX *sctx; /* the copies' server side; the reader's client side is in r.ctx */
	struct reader r;
};

/* Even rounds forward first, odd rounds last: load drifts hit all three alike. */
static int round_step(int i)
{
	return i / 3 & 1 ? 2 - i % 3 : i % 3; /* 0 forward, 1 copy, 2 copy from the ring */
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000}, NULL);
}

/* Keep the fastest round's wall and CPU seconds. */
static void keep_best(double *t_best, double *cpu_best, double t, double cpu)
{
	if (!*t_best || t < *t_best)
		*t_best = t, *cpu_best = cpu;
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

static int run_steady(struct bench *b)
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
