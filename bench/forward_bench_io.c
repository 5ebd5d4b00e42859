// SPDX-License-Identifier: MIT
/*
 * forward_bench_io.c - forward_bench's ring, receiver and baseline: fills a
 * private ring with synthetic packets, reads a stream to its end (plain or
 * TLS), and sends the plain copy of the same byte count, from a hot buffer
 * or a mapping of the ring; the round order and the best-round keeping.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "forward_bench.h"

void create_ring(struct ring_writer *w, const char *name)
{
	struct ring_writer_opts o = {
		.name = name, .data_size = RING_DATA_SIZE, .mode = 0600, .gid = (gid_t)-1};

	if (ring_writer_create(w, &o)) {
		fprintf(stderr, "forward_bench: cannot create ring %s\n", name);
		exit(1);
	}
}

/* count synthetic UDP packets of size bytes, published every 1024. */
void write_packets(struct ring_writer *w, uint32_t size, uint64_t count)
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

void fill_ring(const char *name, uint32_t size, uint64_t count)
{
	struct ring_writer w;

	create_ring(&w, name);
	write_packets(&w, size, count);
	ring_writer_close(&w);
}

/* Connect to the server on r->port (TLS with r->ctx): the socket, *ssl or NULL. */
int connect_reader(const struct reader *r, SSL **ssl)
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

ssize_t read_some(int fd, SSL *ssl, void *buf, size_t len)
{
	return ssl ? SSL_read(ssl, buf, (int)len) : read(fd, buf, len);
}

/* Connect and read everything until the peer closes. */
void drain(struct reader *r)
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
double thread_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void *run_forward(void *arg)
{
	struct forwarder *fw = arg;
	double c0 = thread_cpu_s();

	pthread_setname_np(pthread_self(), "forwarder"); /* perf report --comm forwarder */
	rawcap_forward_run(fw->f, NULL, 0);
	fw->cpu = thread_cpu_s() - c0;
	return NULL;
}

/* The ring's shared memory, mapped afresh as a reader maps it (NULL on failure). */
const char *map_ring(const char *ring, size_t *len)
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
void *run_copy(void *arg)
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

/*
 * One plain copy of cp.bytes: wall seconds from connect, or with a warm
 * mapping (the steady state) from the first byte read, to the last byte
 * read; *cpu: the sending thread's.
 */
double time_copy(struct copier cp, struct reader *r, double *cpu)
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

/* Even rounds forward first, odd rounds last: load drifts hit all three alike. */
int round_step(int i)
{
	return i / 3 & 1 ? 2 - i % 3 : i % 3; /* 0 forward, 1 copy, 2 copy from the ring */
}

void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000}, NULL);
}

/* Keep the fastest round's wall and CPU seconds. */
void keep_best(double *t_best, double *cpu_best, double t, double cpu)
{
	if (!*t_best || t < *t_best)
		*t_best = t, *cpu_best = cpu;
}
