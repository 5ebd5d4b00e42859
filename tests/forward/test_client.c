// SPDX-License-Identifier: MIT
/*
 * test_client.c - one receiver of rawcap_forward driven by hand, as the
 * poll loop drives it (fill, then flush), over a ring written in-process
 * and a socketpair whose far end the test reads or leaves full.
 *
 * The loop polls at once while fwd_client_fill() says more is ready, and
 * otherwise sleeps up to its idle timeout unless a socket wakes it. A fill
 * that found the queue full must therefore say "more" (the flush after it
 * may empty the queue): saying "caught up" there cost a whole idle timeout
 * each time the queue filled, most of a 1500 B round on a fast receiver.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <rawcap/forward.h>

#include "clock.h"
#include "forward_int.h"
#include "ring/ring_test.h"

#define PKT_LEN	  1500
#define PACKETS	  4000 /* ~6 MB of pcapng: more than the queue and the socket hold */
#define NEED	  (RAWCAP_REC_MAX + FWD_RECORD_SLACK)
#define MAX_TRIES 10000 /* bounds every loop */

struct rig {
	struct ring_writer w;
	struct rawcap_forward *f;
	struct fwd_client *c;
	int peer; /* the receiver's end of the socketpair */
};

static void write_packets(struct ring_writer *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct rawcap_pkt *p = rt_append(w, RAWCAP_REC_PACKET, rawcap_now_ns(),
						 (uint32_t)sizeof(*p) + PKT_LEN, 0);

		assert_non_null(p);
		memset(p, 0, sizeof(*p));
		p->ifindex = 1, p->orig_len = PKT_LEN, p->linktype = 1;
	}
	ring_publish(w);
}

/* A forwarder (connect mode: nothing listens, nothing connects) with one plain pcapng receiver. */
static int rig_setup(void **state)
{
	static struct rig r;
	const char *ring = rt_name("fwdclient");
	struct ring_writer_opts wo = {
		.name = ring, .data_size = 1u << 24, .mode = 0600, .gid = (gid_t)-1};
	struct rawcap_forward_opts o = {.sz = sizeof(o),
					.ring = ring,
					.connect = "127.0.0.1:9",
					.plain = true,
					.client_buf = 1 << 20};
	char why[256];
	int sv[2];

	memset(&r, 0, sizeof(r));
	assert_int_equal(ring_writer_create(&r.w, &wo), 0);
	assert_int_equal(rawcap_forward_create(&o, &r.f, why, sizeof(why)), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fwd_client_new(r.f, sv[0], NULL, "test", &r.c), 0);
	assert_int_equal(fwd_client_begin(r.c), 0); /* follows the ring from its newest record */
	r.peer = sv[1];
	*state = &r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;

	fwd_client_free(r->c);
	rawcap_forward_destroy(r->f);
	close(r->peer);
	ring_writer_close(&r->w);
	return 0;
}

/* Read what the socket holds for the receiver, without blocking. */
static size_t drain_peer(int fd)
{
	static char buf[1 << 16];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	return total;
}

/* One turn of the poll loop for this receiver: fill, then flush; fill's answer. */
static int turn(struct rig *r)
{
	int more = fwd_client_fill(r->c);

	assert_true(more >= 0);
	assert_true(fwd_conn_flush(&r->c->conn, &r->c->out) >= 0);
	return more;
}

static void should_say_more_when_the_queue_is_full(void **state)
{
	struct rig *r = *state;
	int tries = 0;

	write_packets(&r->w, PACKETS);
	while (fwd_client_room(r->c) >= NEED && tries++ < MAX_TRIES)
		assert_int_equal(turn(r), 1); /* the receiver reads nothing: the queue fills */
	assert_true(fwd_client_room(r->c) < NEED);
	assert_true(r->c->packets < PACKETS);
	/* Full, with records left in the window: not caught up. */
	assert_int_equal(turn(r), 1);
}

static void should_go_on_once_the_flush_made_room(void **state)
{
	struct rig *r = *state;
	uint64_t before = r->c->packets;
	int more = 1, tries = 0;

	drain_peer(r->peer);
	assert_int_equal(turn(r), 1); /* the flush emptied the queue into the socket */
	while (more && tries++ < MAX_TRIES) {
		drain_peer(r->peer);
		more = turn(r);
		if (more)
			continue;
		/* It says "caught up" only when it is, with nothing left for the socket. */
		drain_peer(r->peer);
		more = r->c->out.len > 0;
	}
	assert_true(r->c->packets > before);
	assert_int_equal(r->c->packets, PACKETS);
	assert_int_equal(turn(r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_say_more_when_the_queue_is_full),
		cmocka_unit_test(should_go_on_once_the_flush_made_room),
	};
	int ret;

	rt_shm_dir(); /* rings in a private directory, removed below */
	ret = cmocka_run_group_tests(tests, rig_setup, rig_teardown);
	rt_shm_cleanup();
	return ret;
}
