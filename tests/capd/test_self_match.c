// SPDX-License-Identifier: MIT
/*
 * test_self_match.c - capd's per-packet self-exclusion (capd/self_match.c)
 * when a TCP SYN arrives on a 5-tuple the table already holds: rawcap's
 * connection closed since the last dump and another socket reuses its
 * 5-tuple, or one of rawcap's SYNs is sent again. The SYN is asked about
 * again; a connection that is not rawcap's is forgotten and captured from
 * its SYN on, one that is stays excluded. Many connections are forgotten
 * this way while the others stay found (the table's deletion keeps every
 * probe run whole).
 *
 * By direction: a SYN is asked about at the end this host holds (its sender
 * when it went out, its receiver when it came in, both on loopback); a SYN
 * from another host on a known 5-tuple to our listener does not make it
 * forgotten, one to the end of a connection we made out is asked about; and a
 * flood of SYNs from other hosts spends only their own lookup budget, so a
 * SYN this host sends is still looked up and excluded; likewise a flood of
 * ACKs to our listener's port and the listener's answers to a real client.
 * SYNs routed through the host (no end at one of its addresses) are not
 * asked about at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "self_match.h"

#define LT_RAW 101
#define SYN    0x02
#define ACK    0x10

#define IN   SELF_DIR_IN
#define OUT  SELF_DIR_OUT
#define LOOP SELF_DIR_LOOP

static int calls;
static bool answer; /* what the stub says: the SYN's socket is rawcap's */
static struct {
	int local;
	bool here;
} asked[4];

static bool stub(struct self_match *m, const struct self_key *k, int local, bool listener,
		 bool here)
{
	if (calls < 4)
		asked[calls].local = local, asked[calls].here = here;
	calls++;
	m->answered = true;
	if (!answer || listener)
		return false;
	self_table_add(&m->tab[m->cur], k->proto, k->a, k->pa, k->b, k->pb);
	return true;
}

static void v4(uint8_t out[16], uint32_t a)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = (uint8_t)(a >> 24), out[13] = (uint8_t)(a >> 16);
	out[14] = (uint8_t)(a >> 8), out[15] = (uint8_t)a;
}

/* A raw IPv4 TCP packet a:pa -> b:pb with the given flags, seen going dir; excluded? */
static bool pkt_dir(struct self_match *m, uint32_t a, uint16_t pa, uint32_t b, uint16_t pb,
		    uint8_t flags, enum self_dir dir)
{
	uint8_t f[40] = {0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6};

	for (int i = 0; i < 4; i++) {
		f[12 + i] = (uint8_t)(a >> (24 - 8 * i));
		f[16 + i] = (uint8_t)(b >> (24 - 8 * i));
	}
	f[20] = (uint8_t)(pa >> 8), f[21] = (uint8_t)pa;
	f[22] = (uint8_t)(pb >> 8), f[23] = (uint8_t)pb;
	f[32] = 5 << 4;
	f[33] = flags;
	return self_match_packet(m, f, sizeof(f), sizeof(f), LT_RAW, dir);
}

/* The host is A (0xc6120001): its packets go out, B's come in. */
static bool pkt(struct self_match *m, uint32_t a, uint16_t pa, uint32_t b, uint16_t pb,
		uint8_t flags)
{
	return pkt_dir(m, a, pa, b, pb, flags, a == 0xc6120001 ? OUT : IN);
}

static void add(struct self_match *m, uint32_t a, uint16_t pa, uint32_t b, uint16_t pb)
{
	uint8_t la[16], ra[16];

	v4(la, a);
	v4(ra, b);
	assert_int_equal(self_table_add(&m->tab[m->cur], 6, la, pa, ra, pb), 0);
}

/* A connection the dump no longer finds stays one more dump (its last packets), then goes. */
static void test_closed_connection_carried_one_dump(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, B = 0xc6120002;

	(void)state;
	add(m, A, 40002, B, 8443);
	self_table_carry(self_next(m), &m->tab[m->cur]); /* a dump that did not find it */
	self_publish(m);
	assert_int_equal(m->tab[m->cur].n, 1);
	assert_true(pkt(m, B, 8443, A, 40002, ACK)); /* a packet from before the close */
	self_table_clear(self_next(m));
	self_table_carry(self_next(m), &m->tab[m->cur]); /* the next dump: not again */
	self_publish(m);
	assert_int_equal(m->tab[m->cur].n, 0);
	assert_false(pkt(m, B, 8443, A, 40002, ACK));
	add(m, A, 40003, B, 8443);
	self_table_clear(self_next(m));
	self_table_carry(self_next(m), &m->tab[m->cur]); /* carried */
	self_publish(m);
	add(m, A, 40003, B, 8443); /* found again (a lookup): no longer carried */
	self_table_clear(self_next(m));
	self_table_carry(self_next(m), &m->tab[m->cur]); /* so carried once more */
	self_publish(m);
	assert_true(pkt(m, B, 8443, A, 40003, ACK));
	free(m);
}

static void test_reused_tuple_is_captured(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, B = 0xc6120002;

	(void)state;
	m->unknown_conn = stub;
	add(m, A, 40000, B, 80); /* rawcap's, closed since the last dump */
	assert_true(pkt(m, B, 80, A, 40000, ACK));
	answer = false, calls = 0;
	assert_false(pkt(m, A, 40000, B, 80, SYN)); /* another socket's, same 5-tuple */
	assert_int_equal(calls, 1);		    /* asked again */
	assert_false(pkt(m, B, 80, A, 40000, SYN | ACK));
	assert_false(pkt(m, A, 40000, B, 80, ACK));
	assert_int_equal(m->tab[m->cur].n, 0);
	free(m);
}

static void test_own_syn_again_stays_excluded(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, B = 0xc6120002;

	(void)state;
	m->unknown_conn = stub;
	add(m, A, 40001, B, 443);
	answer = true, calls = 0;
	assert_true(pkt(m, A, 40001, B, 443, SYN));
	assert_int_equal(calls, 1);
	assert_true(pkt(m, B, 443, A, 40001, SYN | ACK));
	assert_true(pkt(m, A, 40001, B, 443, ACK));
	assert_int_equal(m->tab[m->cur].n, 1);
	free(m);
}

static void test_many_forgotten_others_found(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001;
	const unsigned n = SELF_MAX_CONNS;

	(void)state;
	m->unknown_conn = stub;
	for (unsigned i = 0; i < n; i++)
		add(m, A, (uint16_t)(1024 + i), 0xc6130000 + i % 7, (uint16_t)(80 + i % 3));
	answer = false;
	for (unsigned i = 0; i < n; i += 2) /* every other one reused by someone else */
		assert_false(pkt(m, A, (uint16_t)(1024 + i), 0xc6130000 + i % 7,
				 (uint16_t)(80 + i % 3), SYN));
	assert_int_equal(m->tab[m->cur].n, n / 2);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pkt(m, 0xc6130000 + i % 7, (uint16_t)(80 + i % 3), A,
				     (uint16_t)(1024 + i), ACK),
				 i % 2 == 1);
	free(m);
}

/* The ends a SYN is asked about: the key's ends are 0 (A, lower) and 1 (B). */
static void test_syn_asks_the_end_on_this_host(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, B = 0xc6120002;

	(void)state;
	m->unknown_conn = stub;
	answer = false, calls = 0;
	assert_false(pkt_dir(m, A, 40000, B, 80, SYN, OUT)); /* A connects out: A's end */
	assert_int_equal(calls, 1);
	assert_int_equal(asked[0].local, 0);
	assert_true(asked[0].here);
	calls = 0;
	assert_false(pkt_dir(m, B, 40000, A, 80, SYN, IN)); /* B connects in: A's end */
	assert_int_equal(calls, 1);
	assert_int_equal(asked[0].local, 0);
	assert_false(asked[0].here);
	calls = 0;
	assert_false(pkt_dir(m, B, 40001, A, 81, SYN, LOOP)); /* both ends here: sender first */
	assert_int_equal(calls, 2);
	assert_int_equal(asked[0].local, 1);
	assert_int_equal(asked[1].local, 0);
	assert_true(asked[0].here && asked[1].here);
	free(m);
}

/* Another host's SYN on one of our 5-tuples neither asks nor makes it forgotten. */
static void test_syn_from_elsewhere_keeps_known_tuple(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, B = 0xc6120002;
	uint8_t any[16] = {[10] = 0xff, [11] = 0xff};

	(void)state;
	m->unknown_conn = stub;
	self_table_listen(&m->tab[m->cur], any, 8080);
	add(m, A, 8080, B, 50000); /* a client of our listener */
	answer = false, calls = 0;
	assert_true(pkt(m, B, 50000, A, 8080, SYN)); /* a spoofed or repeated SYN */
	assert_int_equal(calls, 0);
	assert_true(pkt(m, A, 8080, B, 50000, ACK));
	assert_int_equal(m->tab[m->cur].n, 1);
	free(m);
}

static void test_budget_kinds_apart_refilled_each_second(void **state)
{
	struct self_budget b = {0};
	const uint64_t t0 = 5000000000ull;

	(void)state;
	for (int i = 0; i < SELF_LOOKUPS_PER_SEC; i++)
		assert_true(self_budget_take(&b, false, false, t0 + (uint64_t)i));
	assert_false(self_budget_take(&b, false, false, t0 + 999999999ull));
	assert_true(self_budget_take(&b, false, true, t0 + 999999999ull)); /* the others left */
	assert_true(self_budget_take(&b, true, false, t0 + 999999999ull));
	assert_true(self_budget_take(&b, true, true, t0 + 999999999ull));
	assert_true(self_budget_take(&b, false, false, t0 + 1000000000ull));
}

/* The budget capd's callback spends, at a frozen time: one second's worth. */
static struct self_budget flood_budget;
static uint32_t own_peer_port; /* the connection whose end here is rawcap's: its peer's port */

static bool budgeted_stub(struct self_match *m, const struct self_key *k, int local, bool listener,
			  bool here)
{
	uint16_t lport = local ? k->pb : k->pa, rport = local ? k->pa : k->pb;

	if (!self_budget_take(&flood_budget, listener, here, 7000000000ull))
		return false;
	calls++;
	m->answered = true;
	if (rport != own_peer_port)
		return false;
	self_table_add(&m->tab[m->cur], k->proto, local ? k->b : k->a, lport, local ? k->a : k->b,
		       local ? k->pa : k->pb);
	return true;
}

/*
 * rawcap connected out (A:40002 -> B:5555) and closed since the last dump;
 * B now connects from 5555 to A:40002, where another uid's process listens.
 * The SYN comes in on the known 5-tuple but not to a listener of rawcap's: it
 * is asked about at A's end, and the connection is captured, not lost. A SYN
 * whose socket is still rawcap's (spoofed, or simultaneous open) stays out,
 * and so does one past the budget: only an answer makes us forget.
 */
static void test_syn_in_to_a_connect_end_is_asked(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, B = 0xc6120002;

	(void)state;
	m->unknown_conn = stub;
	add(m, A, 40002, B, 5555); /* a forwarder's --connect, closed since */
	answer = false, calls = 0;
	assert_false(pkt(m, B, 5555, A, 40002, SYN)); /* to another process's listener */
	assert_int_equal(calls, 1);
	assert_int_equal(asked[0].local, 0); /* A's end */
	assert_false(asked[0].here);
	assert_false(pkt(m, A, 40002, B, 5555, SYN | ACK));
	assert_false(pkt(m, B, 5555, A, 40002, ACK));
	assert_int_equal(m->tab[m->cur].n, 0);
	add(m, A, 40003, B, 5555); /* still open */
	answer = true, calls = 0;
	assert_true(pkt(m, B, 5555, A, 40003, SYN));
	assert_int_equal(calls, 1);
	assert_true(pkt(m, A, 40003, B, 5555, ACK));
	assert_int_equal(m->tab[m->cur].n, 1);
	memset(&flood_budget, 0, sizeof(flood_budget));
	m->unknown_conn = budgeted_stub;
	own_peer_port = 9000, calls = 0;
	for (uint32_t i = 0; i < SELF_LOOKUPS_PER_SEC; i++) /* spoofed senders: no budget left */
		assert_false(pkt(m, 0xc6130000 + i, (uint16_t)(1024 + i), A, 80, SYN));
	assert_true(pkt(m, B, 5555, A, 40003, SYN));
	assert_int_equal(calls, SELF_LOOKUPS_PER_SEC);
	assert_int_equal(m->tab[m->cur].n, 1);
	free(m);
}

/* A SYN flood from other hosts: this host's own SYN is still looked up and excluded. */
static void test_syn_flood_does_not_starve_own_syn(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, S = 0xc6130000, B = 0xc6120002;

	(void)state;
	memset(&flood_budget, 0, sizeof(flood_budget));
	m->unknown_conn = budgeted_stub;
	own_peer_port = 9000, calls = 0;
	for (uint32_t i = 0; i < 5 * SELF_LOOKUPS_PER_SEC; i++) /* spoofed senders, port 80 */
		assert_false(pkt(m, S + i, (uint16_t)(1024 + i), A, 80, SYN));
	assert_int_equal(calls, SELF_LOOKUPS_PER_SEC);
	assert_true(pkt(m, A, 43210, B, 9000, SYN)); /* a forwarder's --connect */
	assert_true(pkt(m, B, 9000, A, 43210, SYN | ACK));
	assert_true(pkt(m, A, 43210, B, 9000, ACK));
	free(m);
}

/*
 * ACKs from spoofed senders to our listener's port (each a connection the
 * table does not know): the listener's own answers to a real client, going
 * out, are still looked up and excluded.
 */
static void test_ack_flood_to_listener_does_not_starve_its_answers(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	const uint32_t A = 0xc6120001, S = 0xc6130000, C = 0xc6120003;
	uint8_t any[16] = {[10] = 0xff, [11] = 0xff};

	(void)state;
	memset(&flood_budget, 0, sizeof(flood_budget));
	m->unknown_conn = budgeted_stub;
	self_table_listen(&m->tab[m->cur], any, 8080); /* rawcap-server */
	own_peer_port = 50123, calls = 0;
	for (uint32_t i = 0; i < 5 * SELF_LOOKUPS_PER_SEC; i++)
		assert_false(pkt(m, S + i, (uint16_t)(1024 + i), A, 8080, ACK));
	assert_int_equal(calls, SELF_LOOKUPS_PER_SEC);
	assert_false(pkt(m, C, 50123, A, 8080, ACK)); /* the client's, too, waits */
	assert_true(pkt(m, A, 8080, C, 50123, ACK));  /* the answer: looked up, ours */
	assert_true(pkt(m, C, 50123, A, 8080, ACK));
	free(m);
}

/* Packets routed through the host: no end of theirs is one of the host's addresses. */
static void test_routed_syn_not_asked(void **state)
{
	struct self_match *m = calloc(1, sizeof(*m));
	struct self_addrs *addrs = calloc(1, sizeof(*addrs));
	const uint32_t A = 0xc6120001, P = 0xc6120102, S = 0xc6130001;
	uint8_t a[16];

	(void)state;
	v4(a, A);
	self_addrs_add(addrs, a);
	m->addrs = addrs;
	m->unknown_conn = stub;
	answer = false, calls = 0;
	assert_false(pkt_dir(m, S, 1024, P, 80, SYN, IN));  /* to a pod, as it comes in */
	assert_false(pkt_dir(m, S, 1024, P, 80, SYN, OUT)); /* and as it goes out to it */
	assert_int_equal(calls, 0);
	assert_false(pkt_dir(m, S, 1025, A, 80, SYN, IN));   /* to the host */
	assert_false(pkt_dir(m, A, 40000, P, 80, SYN, OUT)); /* from the host */
	assert_int_equal(calls, 2);
	assert_false(pkt_dir(m, S, 1026, P, 81, SYN, LOOP)); /* loopback: any address */
	assert_int_equal(calls, 4);
	free(addrs);
	free(m);
}

static void test_addrs_past_the_limit_any_is_ours(void **state)
{
	struct self_addrs *addrs = calloc(1, sizeof(*addrs));
	uint8_t a[16];

	(void)state;
	for (uint32_t i = 0; i < SELF_MAX_ADDRS; i++) {
		v4(a, 0x0a000000 + i);
		self_addrs_add(addrs, a);
		self_addrs_add(addrs, a); /* once only */
	}
	assert_int_equal(addrs->n, SELF_MAX_ADDRS);
	v4(a, 0x0a000000 + 17);
	assert_true(self_addrs_has(addrs, a));
	v4(a, 0x0b000000);
	assert_false(self_addrs_has(addrs, a));
	self_addrs_add(addrs, a); /* one too many */
	v4(a, 0x0c000000);
	assert_true(self_addrs_has(addrs, a));
	free(addrs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_asks_the_end_on_this_host),
		cmocka_unit_test(test_syn_from_elsewhere_keeps_known_tuple),
		cmocka_unit_test(test_syn_in_to_a_connect_end_is_asked),
		cmocka_unit_test(test_budget_kinds_apart_refilled_each_second),
		cmocka_unit_test(test_syn_flood_does_not_starve_own_syn),
		cmocka_unit_test(test_ack_flood_to_listener_does_not_starve_its_answers),
		cmocka_unit_test(test_routed_syn_not_asked),
		cmocka_unit_test(test_addrs_past_the_limit_any_is_ours),
		cmocka_unit_test(test_closed_connection_carried_one_dump),
		cmocka_unit_test(test_reused_tuple_is_captured),
		cmocka_unit_test(test_own_syn_again_stays_excluded),
		cmocka_unit_test(test_many_forgotten_others_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
