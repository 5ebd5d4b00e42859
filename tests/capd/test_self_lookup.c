// SPDX-License-Identifier: MIT
/*
 * test_self_lookup.c - capd's exact socket lookup (capd/self_lookup.c)
 * against real TCP connections, in a network namespace of the test's own
 * (root; skipped otherwise): it finds each end of a connection with its
 * owner and inode, IPv4, IPv6 and IPv4 on a dual-stack listener, and
 * answers with the listener for a 5-tuple no connection has on a listening
 * end, and -ENOENT where nothing listens either.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "self_lookup.h"

#define TCP_ESTABLISHED_ 1

struct conn {
	int lsn, cli, srv;
	uint8_t cli_addr[16], srv_addr[16];
	uint16_t cli_port, srv_port;
};

static int diag_fd;

/* Any sockaddr as 16 bytes (IPv4 mapped) and a host-order port. */
static void addr16(const struct sockaddr_storage *ss, uint8_t out[16], uint16_t *port)
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a->sin_addr, 4);
		*port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const void *)ss;

		memcpy(out, &a->sin6_addr, 16);
		*port = ntohs(a->sin6_port);
	}
}

static void local_of(int fd, uint8_t out[16], uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	addr16(&ss, out, port);
}

/* A listener on lfam's any-or-loopback address, a client of family cfam, accepted. */
static int conn_open(struct conn *c, int lfam, const char *laddr, int cfam, const char *caddr)
{
	struct sockaddr_storage ls = {0}, cs = {0};
	socklen_t len = sizeof(ls);
	int on = 0;

	c->lsn = socket(lfam, SOCK_STREAM, 0);
	assert_true(c->lsn >= 0);
	if (lfam == AF_INET6)
		setsockopt(c->lsn, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	ls.ss_family = (sa_family_t)lfam;
	inet_pton(lfam, laddr,
		  lfam == AF_INET ? (void *)&((struct sockaddr_in *)&ls)->sin_addr
				  : (void *)&((struct sockaddr_in6 *)&ls)->sin6_addr);
	if (bind(c->lsn, (struct sockaddr *)&ls, sizeof(ls)) || listen(c->lsn, 4)) {
		close(c->lsn);
		return -errno;
	}
	assert_int_equal(getsockname(c->lsn, (struct sockaddr *)&ls, &len), 0);
	cs.ss_family = (sa_family_t)cfam;
	inet_pton(cfam, caddr,
		  cfam == AF_INET ? (void *)&((struct sockaddr_in *)&cs)->sin_addr
				  : (void *)&((struct sockaddr_in6 *)&cs)->sin6_addr);
	/* the listener's port, whatever its family */
	((struct sockaddr_in *)&cs)->sin_port = ((struct sockaddr_in *)&ls)->sin_port;
	c->cli = socket(cfam, SOCK_STREAM, 0);
	assert_true(c->cli >= 0);
	assert_int_equal(connect(c->cli, (struct sockaddr *)&cs, sizeof(cs)), 0);
	c->srv = accept(c->lsn, NULL, NULL);
	assert_true(c->srv >= 0);
	local_of(c->srv, c->srv_addr, &c->srv_port);
	local_of(c->cli, c->cli_addr, &c->cli_port);
	return 0;
}

static void conn_close(struct conn *c)
{
	close(c->cli);
	close(c->srv);
	close(c->lsn);
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* Both ends are found, each with its owner and its own inode. */
static void check_both_ends(const struct conn *c)
{
	struct self_sock s;
	uint8_t cli[16];
	uint16_t port;

	/* the server's socket, its peer as the client sees its own address (IPv4 mapped) */
	assert_int_equal(
		self_lookup_tcp(diag_fd, 1, c->srv_addr, c->srv_port, c->cli_addr, c->cli_port, &s),
		0);
	assert_int_equal(s.uid, geteuid());
	assert_int_equal(s.inode, inode_of(c->srv));
	assert_int_equal(s.state, TCP_ESTABLISHED_);
	local_of(c->cli, cli, &port);
	assert_int_equal(self_lookup_tcp(diag_fd, 2, cli, port, c->srv_addr, c->srv_port, &s), 0);
	assert_int_equal(s.inode, inode_of(c->cli));
}

static void test_ipv4(void **state)
{
	struct conn c;

	(void)state;
	assert_int_equal(conn_open(&c, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"), 0);
	check_both_ends(&c);
	conn_close(&c);
}

static void test_ipv6(void **state)
{
	struct conn c;

	(void)state;
	if (conn_open(&c, AF_INET6, "::1", AF_INET6, "::1"))
		skip(); /* no IPv6 on this kernel's loopback */
	check_both_ends(&c);
	conn_close(&c);
}

/* An IPv4 client of a dual-stack listener: an AF_INET6 socket with mapped addresses. */
static void test_ipv4_on_dual_stack(void **state)
{
	struct self_sock s;
	struct conn c;

	(void)state;
	if (conn_open(&c, AF_INET6, "::", AF_INET, "127.0.0.1"))
		skip();
	check_both_ends(&c);
	/* no such connection: the wildcard listener answers, with its own address */
	assert_int_equal(self_lookup_tcp(diag_fd, 5, c.srv_addr, c.srv_port, c.cli_addr,
					 (uint16_t)(c.cli_port ^ 1), &s),
			 0);
	assert_int_equal(s.state, SELF_TCP_LISTEN);
	assert_memory_equal(s.local, (uint8_t[16]){0}, 16);
	conn_close(&c);
}

static void test_no_such_socket(void **state)
{
	struct conn c;
	struct self_sock s;

	(void)state;
	assert_int_equal(conn_open(&c, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"), 0);
	/* the listener's address and port, another peer: the kernel answers with the listener */
	assert_int_equal(self_lookup_tcp(diag_fd, 3, c.srv_addr, c.srv_port, c.cli_addr,
					 (uint16_t)(c.cli_port ^ 1), &s),
			 0);
	assert_int_equal(s.state, SELF_TCP_LISTEN);
	assert_int_equal(s.inode, inode_of(c.lsn));
	assert_memory_equal(s.local, c.srv_addr, 16); /* bound to 127.0.0.1 */
	/* no socket at all on the local end */
	assert_int_equal(self_lookup_tcp(diag_fd, 4, c.srv_addr, (uint16_t)(c.srv_port ^ 1),
					 c.cli_addr, c.cli_port, &s),
			 -ENOENT);
	conn_close(&c);
}

/* A namespace of our own with its loopback up; 0, or skipped without root. */
static int setup(void **state)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int fd;

	(void)state;
	if (unshare(CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		return -1;
	close(fd);
	diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	return diag_fd < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ipv4_on_dual_stack),
		cmocka_unit_test(test_no_such_socket),
	};

	if (geteuid() != 0)
		return 77; /* a namespace of its own needs root */
	return cmocka_run_group_tests(tests, setup, NULL);
}
