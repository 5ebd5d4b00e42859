// SPDX-License-Identifier: MIT
/*
 * forward_bench.c - rawcap-forward's throughput to a local sink over
 * loopback, beside a plain copy of the same number of bytes over the same
 * kind of socket (plain TCP or TLS) in the same process: the ratio is what
 * the forwarder costs on top of moving the bytes.
 *
 * Usage: forward_bench PKT_SIZE COUNT [CERT KEY]   (TLS when CERT/KEY given)
 * Fills a private ring with COUNT synthetic UDP packets of PKT_SIZE bytes,
 * serves it once as a pcapng window with rawcap_forward (in a thread), reads
 * it to EOF, then does the plain copy. Prints one table row.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void *run_forward(void *arg)
{
	rawcap_forward_run(arg, NULL, 0);
	return NULL;
}

struct copier {
	int lfd;
	SSL_CTX *ctx;
	uint64_t bytes;
};

/* The baseline: accept one connection and write bytes from memory, then close. */
static void *run_copy(void *arg)
{
	struct copier *c = arg;
	static char buf[1 << 16];
	int fd = accept(c->lfd, NULL, NULL);
	SSL *ssl = NULL;
	uint64_t left = c->bytes;

	if (c->ctx) {
		ssl = SSL_new(c->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			return NULL;
	}
	while (left) {
		int chunk = left < sizeof(buf) ? (int)left : (int)sizeof(buf);
		int n = ssl ? SSL_write(ssl, buf, chunk) : (int)write(fd, buf, (size_t)chunk);

		if (n <= 0)
			break;
		left -= (uint64_t)n;
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
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

int main(int argc, char **argv)
{
	struct rawcap_forward_opts o = {.sz = sizeof(o), .listen = "127.0.0.1:0", .from_ns = 1};
	struct reader r = {0};
	struct copier cp = {0};
	struct rawcap_forward *f;
	SSL_CTX *sctx = NULL;
	char ring[64], why[256];
	pthread_t t;
	double t0, tf, tc;
	uint32_t size;
	uint64_t count;
	int err;

	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: forward_bench PKT_SIZE COUNT [CERT KEY]\n");
		return 2;
	}
	size = (uint32_t)atoi(argv[1]);
	count = strtoull(argv[2], NULL, 0);
	if (size < 42 || size > 2048 || !count)
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
	err = rawcap_forward_create(&o, &f, why, sizeof(why));
	if (err) {
		fprintf(stderr, "forward_bench: %s\n", why);
		return 1;
	}
	r.port = rawcap_forward_port(f);
	pthread_create(&t, NULL, run_forward, f);
	t0 = clock_mono_s();
	drain(&r);
	tf = clock_mono_s() - t0;
	rawcap_forward_stop(f);
	pthread_join(t, NULL);
	rawcap_forward_destroy(f);

	cp.ctx = sctx;
	cp.bytes = r.bytes;
	cp.lfd = listen_any(&r.port);
	pthread_create(&t, NULL, run_copy, &cp);
	t0 = clock_mono_s();
	drain(&r);
	tc = clock_mono_s() - t0;
	pthread_join(t, NULL);
	close(cp.lfd);
	{
		char path[128];

		snprintf(path, sizeof(path), "/dev/shm/rawcap-%s", ring);
		unlink(path);
	}
	printf("| %4u B | %-5s | %9.0f | %8.1f | %8.1f | %5.2f |\n", size,
	       o.plain ? "plain" : "TLS", (double)count / tf, (double)cp.bytes / tf / 1e6,
	       (double)r.bytes / tc / 1e6, tf / tc);
	return r.bytes == cp.bytes ? 0 : 1;
}
