/* SPDX-License-Identifier: MIT */
/*
 * http_client.h - the raw HTTP client of the httpd tests: connect to a
 * listener on 127.0.0.1, send bytes exactly as written (requests a real
 * client would never send included), read the answer until the server
 * closes or falls silent. Include after <cmocka.h>.
 */
#ifndef RAWCAP_TEST_HTTP_CLIENT_H
#define RAWCAP_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"

static inline int connect_to(const struct httpd *h)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)httpd_port(h))};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Send raw (if not NULL), read until close or timeout_ms of silence, at most cap - 1 bytes. */
static inline size_t exchange_fd(int fd, const char *raw, char *out, size_t cap, int timeout_ms)
{
	size_t n = 0;

	if (raw)
		assert_int_equal(send(fd, raw, strlen(raw), MSG_NOSIGNAL), (ssize_t)strlen(raw));
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, timeout_ms) <= 0 || n + 1 >= cap)
			break;
		r = recv(fd, out + n, cap - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	return n;
}

/* One exchange on a connection of its own. */
static inline size_t exchange_timeout(const struct httpd *h, const char *raw, char *out, size_t cap,
				      int timeout_ms)
{
	int fd = connect_to(h);
	size_t n = exchange_fd(fd, raw, out, cap, timeout_ms);

	close(fd);
	return n;
}

#endif
