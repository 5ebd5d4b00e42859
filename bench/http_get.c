// SPDX-License-Identifier: MIT
/*
 * http_get - download one URL into a file with libcurl, writing in 1 MiB
 * pieces: the client side of bench/run-server.sh, costing about what cat
 * costs at the other end of rawcap-pcap's pipe, so the benchmark measures
 * the server and not the client's write pattern (curl(1) hands its output
 * to stdio 16 KiB at a time).
 *
 * Usage: http_get URL FILE   (exit 0: a 2xx answer received completely)
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUF	 (1u << 20)
#define RECV_BUF (512L * 1024) /* libcurl's read buffer (at most CURL_MAX_READ_SIZE) */

struct out {
	int fd;
	size_t len;
	char buf[OUT_BUF];
};

static int flush_out(struct out *o)
{
	for (size_t off = 0; off < o->len;) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);

		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	o->len = 0;
	return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct out *o = arg;
	size_t n = size * nmemb;

	if (o->len + n > OUT_BUF && flush_out(o))
		return 0;
	if (n > OUT_BUF) /* larger than the buffer: write it through */
		return write(o->fd, p, n) == (ssize_t)n ? n : 0;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return n;
}

int main(int argc, char **argv)
{
	static struct out o;
	CURLcode rc;
	long code = 0;
	CURL *c;

	if (argc != 3) {
		fprintf(stderr, "usage: http_get URL FILE\n");
		return 2;
	}
	o.fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o.fd < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) || !(c = curl_easy_init())) {
		perror(argv[2]);
		return 1;
	}
	curl_easy_setopt(c, CURLOPT_URL, argv[1]);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, RECV_BUF);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &o);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && flush_out(&o))
		rc = CURLE_WRITE_ERROR;
	if (rc != CURLE_OK || code < 200 || code > 299) {
		fprintf(stderr, "http_get: %s: %s (HTTP %ld)\n", argv[1], curl_easy_strerror(rc),
			code);
		return 1;
	}
	curl_easy_cleanup(c);
	close(o.fd);
	return 0;
}
