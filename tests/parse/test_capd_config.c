// SPDX-License-Identifier: MIT
/*
 * test_capd_config.c - capd's option values at their edges, through the
 * one setter the command line, the environment and --config share
 * (capd_config_parse_text): numbers outside their range, sizes and
 * durations that overflow, listen addresses with a port outside 1-65535,
 * all refused; the last accepted value of each, kept.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capd.h"

/* iface.c is not linked: the same rule, a glob character makes a pattern. */
bool capd_iface_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static struct capd_config cfg;

static int set(const char *line)
{
	return capd_config_parse_text(&cfg, line, strlen(line));
}

static void ok(const char *line)
{
	if (set(line))
		fail_msg("refused: %s", line);
}

static void refused(const char *line)
{
	if (set(line) != -EINVAL)
		fail_msg("accepted: %s", line);
}

static void test_numbers(void **state)
{
	(void)state;
	ok("snaplen = 64");
	assert_int_equal(cfg.snaplen, 64);
	ok("snaplen = 262144");
	refused("snaplen = 63");
	refused("snaplen = 262145");
	refused("snaplen = 18446744073709551616");
	refused("snaplen = -1");
	refused("snaplen = 0x100");
	ok("stall-seconds = 3600");
	refused("stall-seconds = 3601");
	refused("stall-seconds = 0");
	ok("threads = 64");
	refused("threads = 65");
	ok("block-count = 65536");
	refused("block-count = 65537");
}

static void test_sizes(void **state)
{
	(void)state;
	ok("ring-size = 1Ti");
	assert_true(cfg.ring_size == 1ull << 40);
	refused("ring-size = 2Ti");
	refused("ring-size = 512Ki");
	refused("ring-size = 3Mi");
	refused("ring-size = 99999999999999999999");
	ok("storage-size = 16777215Ti");
	refused("storage-size = 16777216Ti");
	refused("storage-size = 1.5Gi");
}

static void test_durations(void **state)
{
	(void)state;
	ok("sync-interval = 1h");
	assert_true(cfg.sync_interval_ns == 3600ull * 1000000000ull);
	ok("sync-interval = 0s");
	refused("sync-interval = 1h1ns");
	refused("sync-interval = 5124095h34m33s709ms551us616ns");
	refused("sync-interval = 5");
}

static void test_listen(void **state)
{
	(void)state;
	ok("stats-listen = 127.0.0.1:9469");
	assert_string_equal(cfg.stats_listen, "127.0.0.1:9469");
	ok("stats-listen = [::]:65535");
	refused("stats-listen = 127.0.0.1:99999");
	refused("stats-listen = 127.0.0.1:65536");
	refused("stats-listen = 127.0.0.1:0");
	refused("stats-listen = localhost:9469");
	refused("stats-listen = 9469");
	ok("stats-listen = ");
	assert_null(cfg.stats_listen);
}

static void test_words(void **state)
{
	(void)state;
	ok("kubernetes = yes");
	assert_true(cfg.kubernetes);
	refused("kubernetes = maybe");
	refused("duplicates = some");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),	  cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations), cmocka_unit_test(test_listen),
		cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
