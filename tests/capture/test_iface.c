// SPDX-License-Identifier: MIT
/*
 * test_iface.c - capd's interface table (capd/iface.c) against a real ring:
 * an interface that goes away keeps being recorded under its description
 * for a grace period and keeps its ring table slot until the ring overwrote
 * its records; an index nothing describes is reported as unknown (counted
 * as loss in band by the capture source), never as merely unselected; a
 * full interface dump retires interfaces it no longer lists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capd.h"
#include "frame.h"

static char shm_dir[] = "/tmp/rc-iface-XXXXXX";
static struct capd_config cfg;
static struct capd_ctx ctx;

static void add(uint32_t ifindex, const char *name, uint16_t arphrd)
{
	struct capd_iface_info info = {.ifindex = ifindex, .arphrd = arphrd, .mtu = 1500};

	snprintf(info.name, sizeof(info.name), "%s", name);
	capd_iface_update(&ctx, &info);
}

static bool in_table(uint32_t ifindex)
{
	for (int i = 0; i < RING_IFACE_SLOTS; i++)
		if (ctx.ring.ifaces[i].used && ctx.ring.ifaces[i].iface.ifindex == ifindex)
			return true;
	return false;
}

static int setup(void **state)
{
	struct ring_writer_opts o = {.name = "iface", .data_size = RING_DATA_MIN, .gid = (gid_t)-1};

	(void)state;
	if (!mkdtemp(shm_dir))
		return -1;
	setenv("RAWCAP_SHM_DIR", shm_dir, 1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ifaces[0] = "pod*";
	cfg.n_ifaces = 1;
	cfg.filter = "";
	cfg.snaplen = RAWCAP_SNAPLEN_MAX;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &cfg;
	if (ring_writer_create(&ctx.ring, &o))
		return -1;
	return capd_iface_init(&ctx);
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	capd_iface_free(&ctx);
	ring_writer_close(&ctx.ring);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", shm_dir);
	return system(cmd);
}

static void test_link_types_and_selection(void **state)
{
	(void)state;
	add(5, "pod-a", ARPHRD_ETHER);
	add(6, "pod-tun", ARPHRD_NONE);
	add(7, "other", ARPHRD_ETHER);
	add(8, "pod-can", 280 /* ARPHRD_CAN */);
	assert_int_equal(capd_iface_select(&ctx, 5), CAPD_LINKTYPE_ETHERNET);
	assert_int_equal(capd_iface_select(&ctx, 6), CAPD_LINKTYPE_RAW);
	assert_int_equal(capd_iface_select(&ctx, 7), 0); /* not selected */
	assert_int_equal(capd_iface_select(&ctx, 8), 0); /* a type capd does not record */
	assert_true(in_table(5) && in_table(6) && in_table(7));
}

static void test_unknown_index_is_not_unselected(void **state)
{
	(void)state;
	assert_int_equal(capd_iface_select(&ctx, 42), CAPD_IFACE_UNKNOWN);
	assert_int_equal(capd_iface_select(&ctx, 42), CAPD_IFACE_UNKNOWN); /* remembered */
	add(42, "pod-late", ARPHRD_ETHER); /* its RTM_NEWLINK arrives */
	assert_int_equal(capd_iface_select(&ctx, 42), CAPD_LINKTYPE_ETHERNET);
}

static void test_gone_interface_stays_recorded(void **state)
{
	(void)state;
	capd_iface_remove(&ctx, 5);
	/* Packets still queued for it are recorded under its description. */
	assert_int_equal(capd_iface_select(&ctx, 5), CAPD_LINKTYPE_ETHERNET);
	assert_true(in_table(5));
	capd_iface_tick(&ctx); /* well within the grace period */
	assert_int_equal(capd_iface_select(&ctx, 5), CAPD_LINKTYPE_ETHERNET);
}

static void test_dump_retires_unlisted(void **state)
{
	(void)state;
	capd_iface_dump_begin(&ctx);
	add(6, "pod-tun", ARPHRD_NONE);
	add(42, "pod-late", ARPHRD_ETHER);
	capd_iface_dump_end(&ctx);
	/* 7 and 8 were not listed: gone, still answered for during the grace. */
	assert_int_equal(capd_iface_select(&ctx, 7), 0);
	assert_int_equal(capd_iface_select(&ctx, 6), CAPD_LINKTYPE_RAW);
	assert_int_equal(capd_iface_select(&ctx, 42), CAPD_LINKTYPE_ETHERNET);
}

static void test_expiry_keeps_slot_until_lapped(void **state)
{
	(void)state;
	sleep(6); /* past the grace period */
	capd_iface_tick(&ctx);
	/* Past the grace its packets are unknown, but readers can still describe it. */
	assert_int_equal(capd_iface_select(&ctx, 5), CAPD_IFACE_UNKNOWN);
	assert_true(in_table(5));
	/* Lap the ring: its last records are overwritten, the slot goes. */
	for (int i = 0; i < 64; i++) {
		void *p = ring_reserve(&ctx.ring, RAWCAP_REC_META, 0, 1, 4000);

		assert_non_null(p);
		memset(p, 0, 4000);
		ring_publish(&ctx.ring);
	}
	capd_iface_tick(&ctx);
	assert_false(in_table(5));
	assert_true(in_table(6) && in_table(42)); /* live ones stay */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_types_and_selection),
		cmocka_unit_test(test_unknown_index_is_not_unselected),
		cmocka_unit_test(test_gone_interface_stays_recorded),
		cmocka_unit_test(test_dump_retires_unlisted),
		cmocka_unit_test(test_expiry_keeps_slot_until_lapped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
