// SPDX-License-Identifier: MIT
/*
 * test_httpd.c - the HTTP module (httpd/httpd.h) over real loopback sockets:
 * listen-address parsing, routing (200, 404, 405, HEAD), bodies (kept up to
 * max_body, 413 beyond), HTTP/1.0 answers, keep-alive, accounting, the
 * external-loop mode driven by epoll as capd drives it, and the limits:
 * idle connections time out, and a full connection table delays a new
 * client until a slot frees instead of costing anything else.
 *
 * ctest runs it in a private network namespace (unshare -n), so 127.0.0.1
 * is the test's own loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "http_client.h"
#include "httpd.h"

static int echo_put(void *arg, struct httpd_req *req)
{
	size_t len;
	const void *body = httpd_req_body(req, &len);

	(void)arg;
	return httpd_reply(req, 200, "application/octet-stream", body, len);
}

static int hello_get(void *arg, struct httpd_req *req)
{
	const char *who = httpd_req_arg(req, "who");

	(*(int *)arg)++;
	return httpd_reply_text(req, 200, "hello %s\n", who ? who : "world");
}

static int fail_get(void *arg, struct httpd_req *req)
{
	(void)arg, (void)req;
	return -ENOSPC;
}

static const struct httpd_route routes[] = {
	{.method = "GET", .path = "/hello", .fn = hello_get},
	{.method = "PUT", .path = "/echo", .fn = echo_put, .max_body = 16},
	{.method = "GET", .path = "/fail", .fn = fail_get},
	{0},
};

static int calls;

static struct httpd *start(unsigned max_conns, unsigned per_ip, unsigned idle_s, bool own_thread)
{
	struct httpd_opts o = {
		.routes = routes,
		.arg = &calls,
		.max_conns = max_conns,
		.max_conns_per_ip = per_ip,
		.idle_timeout_s = idle_s,
		.own_thread = own_thread,
	};
	struct httpd *h;
	char addr[32];

	for (int port = 20000; port < 20100; port++) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		o.listen = addr;
		if (httpd_start(&o, &h) == 0)
			return h;
	}
	fail_msg("no free port");
	return NULL;
}

static void exchange(const struct httpd *h, const char *raw, char *out, size_t cap)
{
	exchange_timeout(h, raw, out, cap, 5000);
}

static void test_parse_listen(void **state)
{
	static const char *const good[] = {"127.0.0.1:9469", "0.0.0.0:1", "[::1]:65535", "[::]:80",
					   "192.0.2.7:08080"};
	static const char *const bad[] = {
		"127.0.0.1:99999",
		"127.0.0.1:0",
		"127.0.0.1:",
		":9469",
		"127.0.0.1",
		"localhost:9469",
		"[::1]:",
		"[::1]",
		"::1:9469",
		"1.2.3.4:80x",
		"1.2.3.4:-80",
		"1.2.3.4:+80",
		"",
		"[fe80::1%lo]:80",
		"1.2.3.4:655350",
		"1.2.3.4: 80",
		"256.1.1.1:80",
		"[1.2.3.4]:80",
	};
	struct sockaddr_storage sa;
	socklen_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(httpd_parse_listen(good[i], &sa, &len), 0);
	assert_int_equal(httpd_parse_listen("[::1]:65535", &sa, &len), 0);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&sa)->sin6_port), 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (httpd_parse_listen(bad[i], &sa, &len) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(httpd_parse_listen(NULL, &sa, &len), -EINVAL);
}

static void test_routes(void **state)
{
	struct httpd *h = start(0, 0, 0, true);
	struct httpd_stats st;
	char buf[4096];

	(void)state;
	calls = 0;
	exchange(h, "GET /hello?who=rawcap HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 200"));
	assert_non_null(strstr(buf, "Content-Type: text/plain; charset=utf-8"));
	assert_non_null(strstr(buf, "\r\n\r\nhello rawcap\n"));
	exchange(h, "HEAD /hello HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 200"));
	assert_null(strstr(buf, "hello"));
	exchange(h, "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf,
		 sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 404"));
	exchange(h, "POST /hello HTTP/1.0\r\nContent-Length: 2\r\n\r\nab", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 405"));
	exchange(h, "GET /fail HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 500"));
	assert_non_null(strstr(buf, "No space left on device"));
	assert_int_equal(calls, 2);
	httpd_get_stats(h, &st);
	assert_int_equal(st.requests, 5);
	assert_int_equal(st.by_class[2], 2);
	assert_int_equal(st.by_class[4], 2);
	assert_int_equal(st.by_class[5], 1);
	assert_int_equal(st.connections, 5);
	httpd_stop(h);
}

static void test_body(void **state)
{
	struct httpd *h = start(0, 0, 0, true);
	char buf[4096];

	(void)state;
	exchange(h, "PUT /echo HTTP/1.0\r\nContent-Length: 5\r\n\r\nabcde", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 200"));
	assert_non_null(strstr(buf, "\r\n\r\nabcde"));
	exchange(h, "PUT /echo HTTP/1.0\r\nContent-Length: 17\r\n\r\n01234567890123456", buf,
		 sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 413"));
	exchange(h, "GET /hello HTTP/1.0\r\nContent-Length: 1\r\n\r\nx", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 413"));
	/* Chunked, growing past max_body: the connection is closed, nothing answered. */
	exchange(h,
		 "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "10\r\n0123456789abcdef\r\n5\r\nmore!\r\n0\r\n\r\n",
		 buf, sizeof(buf));
	assert_null(strstr(buf, "200 OK"));
	httpd_stop(h);
}

static void test_keepalive(void **state)
{
	struct httpd *h = start(0, 0, 0, true);
	int fd = connect_to(h);
	char buf[4096];

	(void)state;
	for (int i = 0; i < 3; i++) {
		exchange_fd(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf), 300);
		assert_non_null(strstr(buf, "HTTP/1.1 200"));
	}
	close(fd);
	httpd_stop(h);
}

/*
 * Two slots, both held by idle clients: a third client is not refused and
 * not answered while they hold them, and is answered once the idle timeout
 * (1 s) frees one. The held connections are closed by the server.
 */
static void test_limits(void **state)
{
	struct httpd *h = start(2, 2, 1, true);
	int idle[2], fd;
	char buf[4096];
	struct httpd_stats st;
	double t0;

	(void)state;
	for (int i = 0; i < 2; i++)
		idle[i] = connect_to(h);
	usleep(200 * 1000);
	httpd_get_stats(h, &st);
	assert_int_equal(st.max_conns, 2);
	assert_int_equal(st.open, 2);
	t0 = clock_mono_s();
	fd = connect_to(h);
	exchange_fd(fd, "GET /hello HTTP/1.0\r\n\r\n", buf, sizeof(buf), 10000);
	assert_non_null(strstr(buf, "HTTP/1.0 200"));
	assert_true(clock_mono_s() - t0 > 0.5); /* it waited for the idle timeout */
	close(fd);
	for (int i = 0; i < 2; i++) {
		exchange_fd(idle[i], NULL, buf, sizeof(buf), 5000);
		assert_int_equal(strlen(buf), 0); /* closed by the server, nothing sent */
		close(idle[i]);
	}
	httpd_stop(h);
}

struct loop_arg {
	struct httpd *h;
	volatile int stop;
	int runs, deadline_runs;
};

/* The external-loop contract, as capd's loop keeps it. */
static void *drive(void *p)
{
	struct loop_arg *a = p;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};

	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, httpd_epoll_fd(a->h), &ev), 0);
	while (!a->stop) {
		int t = httpd_timeout_ms(a->h);
		int n = epoll_wait(ep, &ev, 1, t < 0 || t > 100 ? 100 : t);

		if (n > 0 || httpd_timeout_ms(a->h) == 0) {
			a->runs++;
			a->deadline_runs += n == 0;
			assert_int_equal(httpd_run(a->h), 0);
		}
	}
	close(ep);
	return NULL;
}

static void test_external_loop(void **state)
{
	struct loop_arg a = {.h = start(0, 0, 1, false)};
	pthread_t t;
	char buf[4096];
	int idle;

	(void)state;
	assert_true(httpd_epoll_fd(a.h) >= 0);
	assert_int_equal(pthread_create(&t, NULL, drive, &a), 0);
	for (int i = 0; i < 20; i++) {
		exchange(a.h, "GET /hello HTTP/1.0\r\n\r\n", buf, sizeof(buf));
		assert_non_null(strstr(buf, "hello world"));
	}
	idle = connect_to(a.h);
	exchange_fd(idle, NULL, buf, sizeof(buf), 5000); /* closed by the idle timeout */
	assert_int_equal(strlen(buf), 0);
	close(idle);
	a.stop = 1;
	pthread_join(t, NULL);
	assert_true(a.runs >= 20);
	httpd_stop(a.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen), cmocka_unit_test(test_routes),
		cmocka_unit_test(test_body),	     cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_limits),	     cmocka_unit_test(test_external_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
