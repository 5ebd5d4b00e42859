// SPDX-License-Identifier: MIT
/*
 * test_opt.c - the shared option helpers every tool uses for a snapshot
 * argument: a NAME is looked up in the snapshot directory, a PATH (anything
 * with a '/') is taken as it is, and show/verify/delete split a PATH into
 * its directory and its name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "opt.h"

static void split(const char *arg, const char *want_dir, const char *want_name)
{
	const char *dir = "unset", *name = NULL;
	char buf[64];

	assert_int_equal(opt_snapshot_split(arg, buf, sizeof(buf), &dir, &name), 0);
	assert_string_equal(dir, want_dir);
	assert_string_equal(name, want_name);
}

static void test_split_path(void **state)
{
	(void)state;
	split("/var/lib/rawcap/snapshots/incident-7", "/var/lib/rawcap/snapshots", "incident-7");
	split("snaps/one/", "snaps", "one");
	split("snaps/one///", "snaps", "one");
	split("./one", ".", "one");
	split("/one", "/", "one");
	split("../../etc", "../..", "etc");
	/* the last part is what the caller checks as a name: these fail it */
	split("/", "/", "");
	split("snaps/..", "snaps", "..");
}

static void test_split_name_untouched(void **state)
{
	const char *dir = "unset", *name = NULL;
	char buf[8];

	(void)state;
	assert_int_equal(opt_snapshot_split("incident-7", buf, sizeof(buf), &dir, &name), 0);
	assert_string_equal(name, "incident-7");
	assert_string_equal(dir, "unset");
	assert_int_equal(opt_snapshot_split("a/very/long/path", buf, sizeof(buf), &dir, &name),
			 -ENAMETOOLONG);
}

static void test_snapshot_path(void **state)
{
	char buf[64];

	(void)state;
	unsetenv("RAWCAP_SNAPSHOT_DIR");
	assert_string_equal(opt_snapshot_path("one", NULL, buf, sizeof(buf)),
			    OPT_SNAPSHOT_DIR_DEFAULT "/one");
	assert_string_equal(opt_snapshot_path("one", "/srv/snaps", buf, sizeof(buf)),
			    "/srv/snaps/one");
	setenv("RAWCAP_SNAPSHOT_DIR", "/env/snaps", 1);
	assert_string_equal(opt_snapshot_path("one", NULL, buf, sizeof(buf)), "/env/snaps/one");
	assert_string_equal(opt_snapshot_path("x/one", NULL, buf, sizeof(buf)), "x/one");
	assert_string_equal(opt_snapshot_path("..", NULL, buf, sizeof(buf)), "..");
	unsetenv("RAWCAP_SNAPSHOT_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_path),
		cmocka_unit_test(test_split_name_untouched),
		cmocka_unit_test(test_snapshot_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
