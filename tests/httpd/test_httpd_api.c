// SPDX-License-Identifier: MIT
/*
 * test_httpd_api.c - what httpd/ gives a node API, over real loopback
 * sockets in thread-per-connection mode: "*" path segments, errors in the
 * caller's format, headers, the query-size limit (414), the loopback test
 * of a listen address, and streamed bodies: a writer thread's bytes arrive
 * whole and chunked, an unfinished stream ends without the chunked
 * terminator, and a client that leaves makes the writer's next write fail
 * with -EPIPE and raises the stop flag.
 *
 * ctest runs it in a private network namespace (unshare -n).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http_client.h"
#include "httpd.h"

#define STREAM_CHUNKS 64
#define CHUNK	      1000
#define REUSE_SPANS   4
#define REUSE_SPAN    (256 * 1024) /* many times what one read of the connection takes */

struct writer {
	struct httpd_stream *s;
	bool complete;
	bool reuse; /* write REUSE_SPANS spans from one buffer, refilled between writes */
	int err;    /* the write that failed */
	int stopped;
	pthread_t t;
};

static struct writer w;
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wdone = PTHREAD_COND_INITIALIZER;
static int wfinished;

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	char chunk[CHUNK];
	int err = 0;

	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; wr->reuse && i < REUSE_SPANS && !err; i++) {
		static char span[REUSE_SPAN];

		memset(span, 'a' + i, sizeof(span));
		err = httpd_stream_write(wr->s, span, sizeof(span));
	}
	for (int i = 0; !wr->reuse && i < STREAM_CHUNKS && !err; i++)
		err = httpd_stream_write(wr->s, chunk, sizeof(chunk));
	/* endless: keep writing until the client leaves (bounded: 60 s) */
	for (int i = 0; !wr->complete && !err && i < 60000; i++) {
		err = httpd_stream_write(wr->s, chunk, sizeof(chunk));
		usleep(1000);
	}
	wr->err = err;
	wr->stopped = *httpd_stream_stop_flag(wr->s);
	httpd_stream_end(wr->s, wr->complete && !err);
	pthread_mutex_lock(&wlock);
	wfinished = 1;
	pthread_cond_broadcast(&wdone);
	pthread_mutex_unlock(&wlock);
	return NULL;
}

static int stream_get(void *arg, struct httpd_req *req)
{
	const char *mode = httpd_req_param(req, 0);
	int err;

	(void)arg;
	httpd_req_set_header(req, "X-Test", mode);
	err = httpd_reply_stream(req, 200, "application/octet-stream", &w.s);
	if (err)
		return err;
	w.reuse = !strcmp(mode, "reuse");
	w.complete = !strcmp(mode, "whole") || w.reuse;
	pthread_create(&w.t, NULL, writer_main, &w);
	pthread_detach(w.t);
	return 0;
}

static int named_get(void *arg, struct httpd_req *req)
{
	(void)arg;
	return httpd_reply_text(req, 200, "name=%s op=%s\n", httpd_req_param(req, 0),
				httpd_req_param(req, 1));
}

static char *json_error(void *arg, unsigned status, const char *code, const char *detail,
			const char **type, size_t *len)
{
	char *s = NULL;
	int n = asprintf(&s, "{\"error\":\"%s\",\"detail\":\"%s\",\"status\":%u}", code, detail,
			 status);

	(void)arg;
	*type = "application/json";
	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? NULL : s;
}

static const struct httpd_route routes[] = {
	{.method = "GET", .path = "/stream/*", .fn = stream_get},
	{.method = "POST", .path = "/things/*/*", .fn = named_get},
	{0},
};

static struct httpd *start(void)
{
	struct httpd_opts o = {
		.routes = routes,
		.thread_per_conn = true,
		.max_conns = 16,
		.header_timeout_s = 1,
		.max_query = 64,
		.max_args = 4,
		.max_headers = 1024,
		.error_body = json_error,
	};
	struct httpd *h;
	char addr[32];

	for (int port = 20100; port < 20200; port++) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		o.listen = addr;
		if (httpd_start(&o, &h) == 0)
			return h;
	}
	fail_msg("no free port");
	return NULL;
}

/* Send raw and read until close or 10 s of silence, at most cap - 1 bytes. */
static size_t exchange(const struct httpd *h, const char *raw, char *out, size_t cap)
{
	return exchange_timeout(h, raw, out, cap, 10000);
}

static void wait_writer(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	pthread_mutex_lock(&wlock);
	while (!wfinished)
		assert_int_equal(pthread_cond_timedwait(&wdone, &wlock, &ts), 0);
	wfinished = 0;
	pthread_mutex_unlock(&wlock);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(httpd_listen_is_loopback("127.0.0.1:80"));
	assert_true(httpd_listen_is_loopback("127.3.2.1:80"));
	assert_true(httpd_listen_is_loopback("[::1]:80"));
	assert_false(httpd_listen_is_loopback("0.0.0.0:80"));
	assert_false(httpd_listen_is_loopback("198.18.0.1:80"));
	assert_false(httpd_listen_is_loopback("[::]:80"));
	assert_false(httpd_listen_is_loopback("localhost:80"));
}

static void test_params_and_errors(void **state)
{
	struct httpd *h = start();
	char buf[4096], big[2048];

	(void)state;
	exchange(h, "POST /things/a1/verify HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "name=a1 op=verify"));
	exchange(h, "POST /things/a%41/verify HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "name=aA op=verify"));
	/* a %00 is not decoded: it must not cut the path short and reach another route */
	exchange(h, "POST /things/a%00b/verify HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "name=a%00b op=verify"));
	exchange(h, "POST /things/a1/verify%00/x HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, " 404 "));
	exchange(h, "POST /things//verify HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, " 404 "));
	assert_non_null(strstr(buf, "{\"error\":\"not_found\""));
	assert_non_null(strstr(buf, "application/json"));
	exchange(h, "GET /things/a/b HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, " 405 "));
	assert_non_null(strstr(buf, "\"method_not_allowed\""));
	exchange(h, "GET /stream/x?a=1&b=2&c=3&d=4&e=5 HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, " 414 "));
	exchange(h,
		 "GET /stream/x?a=0123456789012345678901234567890123456789012345678901234567890123"
		 " HTTP/1.0\r\n\r\n",
		 buf, sizeof(buf));
	assert_non_null(strstr(buf, " 414 "));
	assert_non_null(strstr(buf, "\"query_too_long\""));
	/* headers beyond max_headers: 431, though conn_mem (8 KiB) would hold them */
	snprintf(big, sizeof(big), "POST /things/a1/verify HTTP/1.0\r\nX-Pad: %0*d\r\n\r\n", 1100,
		 0);
	exchange(h, big, buf, sizeof(buf));
	assert_non_null(strstr(buf, " 431 "));
	assert_non_null(strstr(buf, "\"headers_too_large\""));
	snprintf(big, sizeof(big), "POST /things/a1/verify HTTP/1.0\r\nX-Pad: %0*d\r\n\r\n", 900,
		 0);
	exchange(h, big, buf, sizeof(buf));
	assert_non_null(strstr(buf, "name=a1 op=verify"));
	httpd_stop(h);
}

/*
 * A client that trickles its headers, a byte every 200 ms (so never idle),
 * is cut once header_timeout_s (1 s) has passed: it cannot hold a
 * connection and its thread without ever being checked. A request that
 * arrives whole on the same kind of connection is answered.
 */
static void test_header_deadline(void **state)
{
	struct httpd *h = start();
	struct pollfd p;
	char buf[4096];
	int fd = connect_to(h), i;

	(void)state;
	assert_int_equal(send(fd, "POST /things/a1/", 16, MSG_NOSIGNAL), 16);
	for (i = 0; i < 50; i++) { /* 10 s at most */
		p = (struct pollfd){.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) == 1)
			break;
		if (send(fd, "v", 1, MSG_NOSIGNAL) != 1)
			break;
	}
	assert_in_range(i, 4, 25); /* cut after about 1 s, not at once, not never */
	close(fd);
	exchange(h, "POST /things/a1/verify HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "name=a1 op=verify"));
	httpd_stop(h);
}

static void test_stream_whole(void **state)
{
	static char buf[STREAM_CHUNKS * CHUNK + 8192];
	struct httpd *h = start();
	struct httpd_stats st;
	const char *body;
	size_t n, x = 0;

	(void)state;
	n = exchange(h, "GET /stream/whole HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", buf,
		     sizeof(buf));
	wait_writer();
	assert_int_equal(w.err, 0);
	assert_non_null(strstr(buf, "X-Test: whole"));
	assert_non_null(strstr(buf, "Transfer-Encoding: chunked"));
	body = strstr(buf, "\r\n\r\n");
	assert_non_null(body);
	for (const char *p = body; p < buf + n; p++)
		x += *p == 'x';
	assert_int_equal(x, STREAM_CHUNKS * CHUNK);
	assert_int_equal(memcmp(buf + n - 5, "0\r\n\r\n", 5), 0); /* the terminator */
	httpd_get_stats(h, &st);
	assert_int_equal(st.streamed_bytes, STREAM_CHUNKS * CHUNK);
	httpd_stop(h);
}

/* Decode a chunked body in place: its length, or -1 if malformed or unterminated. */
static long dechunk(char *body, size_t len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long n = strtoul(body + in, &end, 16);

		if (end == body + in || (size_t)(end - body) + 2 > len || memcmp(end, "\r\n", 2))
			return -1;
		in = (size_t)(end - body) + 2;
		if (!n)
			return (long)out;
		if (in + n + 2 > len || memcmp(body + in + n, "\r\n", 2))
			return -1;
		memmove(body + out, body + in, n);
		out += n;
		in += n + 2;
	}
}

/*
 * A write lends its buffer to the connection: each span, many times what
 * one read takes, arrives whole and in order although the writer refills
 * the same buffer as soon as its write returns.
 */
static void test_stream_lent_buffer(void **state)
{
	static char buf[REUSE_SPANS * REUSE_SPAN + 65536];
	struct httpd *h = start();
	char *body;
	size_t n;
	long len;

	(void)state;
	n = exchange(h, "GET /stream/reuse HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", buf,
		     sizeof(buf));
	wait_writer();
	assert_int_equal(w.err, 0);
	body = strstr(buf, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	len = dechunk(body, n - (size_t)(body - buf));
	assert_int_equal(len, REUSE_SPANS * REUSE_SPAN);
	for (long i = 0; i < len; i++)
		if (body[i] != 'a' + i / REUSE_SPAN)
			fail_msg("byte %ld is '%c', not '%c'", i, body[i],
				 (int)('a' + i / REUSE_SPAN));
	httpd_stop(h);
}

/* The client reads a little and leaves: the writer learns at once. */
static void test_stream_client_leaves(void **state)
{
	struct httpd *h = start();
	const char *raw = "GET /stream/endless HTTP/1.1\r\nHost: t\r\n\r\n";
	char buf[8192];
	int fd = connect_to(h);
	struct httpd_stats st;

	(void)state;
	assert_int_equal(send(fd, raw, strlen(raw), MSG_NOSIGNAL), (ssize_t)strlen(raw));
	assert_true(recv(fd, buf, sizeof(buf), MSG_WAITALL) > 0);
	close(fd);
	wait_writer();
	assert_int_equal(w.err, -EPIPE);
	assert_int_equal(w.stopped, 1);
	httpd_get_stats(h, &st);
	assert_int_equal(st.streams, 0);
	httpd_stop(h);
}

/* The server stops while a stream runs: the writer is told, nothing hangs. */
static void test_stream_server_stops(void **state)
{
	struct httpd *h = start();
	const char *raw = "GET /stream/endless HTTP/1.1\r\nHost: t\r\n\r\n";
	char buf[4096];
	int fd = connect_to(h);

	(void)state;
	assert_int_equal(send(fd, raw, strlen(raw), MSG_NOSIGNAL), (ssize_t)strlen(raw));
	assert_true(recv(fd, buf, sizeof(buf), 0) > 0);
	httpd_stop(h);
	wait_writer();
	assert_int_equal(w.err, -EPIPE);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_params_and_errors),
		cmocka_unit_test(test_header_deadline),
		cmocka_unit_test(test_stream_whole),
		cmocka_unit_test(test_stream_lent_buffer),
		cmocka_unit_test(test_stream_client_leaves),
		cmocka_unit_test(test_stream_server_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
