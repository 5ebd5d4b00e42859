// SPDX-License-Identifier: MIT
/*
 * test_forward_status.c - the forwarder's status file (lib/forward_status.c)
 * as rawcap-server reads it: a well-formed file in any line order is read
 * field for field; a link, a FIFO, a directory, a file over
 * RAWCAP_FORWARD_STATUS_MAX bytes, a NUL, a missing, repeated or unknown
 * key, a bad state or resume, a number with a sign, trailing junk or out
 * of range are refused; no file is -ENOENT.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/forward.h>

#define GOOD                                                                                       \
	"pid=4242\nstate=paused\nresume=backlog\nsince_ns=1700000000000000001\n"                   \
	"updated_ns=1700000000500000000\nreceivers=3\npackets=18446744073709551615\nbytes=0\n"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rc-fwd-status.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, RAWCAP_FORWARD_STATUS_FILE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(path);
	return rmdir(dir);
}

static void write_bytes(const char *text, size_t len)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static int load_text(const char *text)
{
	struct rawcap_forward_status st;

	write_bytes(text, strlen(text));
	return rawcap_forward_status_load(dir, &st);
}

static void should_read_every_field(void **state)
{
	struct rawcap_forward_status st;

	(void)state;
	assert_int_equal(rawcap_forward_status_load(dir, &st), -ENOENT);
	write_bytes(GOOD, strlen(GOOD));
	assert_int_equal(rawcap_forward_status_load(dir, &st), 0);
	assert_int_equal(st.pid, 4242);
	assert_true(st.paused);
	assert_int_equal(st.resume, RAWCAP_FWD_RESUME_BACKLOG);
	assert_int_equal(st.since_ns, 1700000000000000001ull);
	assert_int_equal(st.updated_ns, 1700000000500000000ull);
	assert_int_equal(st.receivers, 3);
	assert_int_equal(st.packets, UINT64_MAX);
	assert_int_equal(st.bytes, 0);
	/* Order is free. */
	assert_int_equal(load_text("bytes=7\npackets=1\nreceivers=0\nupdated_ns=2\nsince_ns=1\n"
				   "resume=live\nstate=forwarding\npid=1\n"),
			 0);
	assert_int_equal(rawcap_forward_status_load(dir, &st), 0);
	assert_false(st.paused);
	assert_int_equal(st.resume, RAWCAP_FWD_RESUME_LIVE);
	assert_int_equal(st.bytes, 7);
}

static void should_refuse_bad_content(void **state)
{
	static const char *const bad[] = {
		"",
		"pid=4242\n",	     /* keys missing */
		GOOD "pid=1\n",	     /* repeated */
		GOOD "color=blue\n", /* unknown */
		GOOD "junk\n",	     /* no '=' */
		"pid=0\nstate=paused\nresume=live\nsince_ns=1\nupdated_ns=1\nreceivers=0\n"
		"packets=0\nbytes=0\n", /* pid 0 */
		"pid=1\nstate=stopped\nresume=live\nsince_ns=1\nupdated_ns=1\nreceivers=0\n"
		"packets=0\nbytes=0\n",
		"pid=1\nstate=paused\nresume=later\nsince_ns=1\nupdated_ns=1\nreceivers=0\n"
		"packets=0\nbytes=0\n",
		"pid=1\nstate=paused\nresume=live\nsince_ns=-1\nupdated_ns=1\nreceivers=0\n"
		"packets=0\nbytes=0\n",
		"pid=1\nstate=paused\nresume=live\nsince_ns=1\nupdated_ns=1x\nreceivers=0\n"
		"packets=0\nbytes=0\n",
		"pid=1\nstate=paused\nresume=live\nsince_ns=1\nupdated_ns=1\nreceivers=4294967296\n"
		"packets=0\nbytes=0\n",
		"pid=1\nstate=paused\nresume=live\nsince_ns=1\nupdated_ns=1\nreceivers=0\n"
		"packets=18446744073709551616\nbytes=0\n",
		"pid=1\nstate=paused\nresume=live\nsince_ns=1\nupdated_ns=1\nreceivers=0\n"
		"packets=0\nbytes= 5\n",
	};
	char big[RAWCAP_FORWARD_STATUS_MAX + 2];
	struct rawcap_forward_status st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(load_text(bad[i]), -EINVAL);
	}
	write_bytes(GOOD "\0", sizeof(GOOD));
	assert_int_equal(rawcap_forward_status_load(dir, &st), -EINVAL);
	memset(big, '\n', sizeof(big));
	memcpy(big, GOOD, strlen(GOOD));
	write_bytes(big, sizeof(big));
	assert_int_equal(rawcap_forward_status_load(dir, &st), -EFBIG);
}

static void should_refuse_what_is_not_a_file(void **state)
{
	struct rawcap_forward_status st;
	char real[160];

	(void)state;
	snprintf(real, sizeof(real), "%s/real", dir);
	write_bytes(GOOD, strlen(GOOD));
	assert_int_equal(rename(path, real), 0);
	assert_int_equal(symlink(real, path), 0);
	assert_int_equal(rawcap_forward_status_load(dir, &st), -ELOOP);
	unlink(path);
	unlink(real);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(rawcap_forward_status_load(dir, &st), -EBADFD);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(rawcap_forward_status_load(dir, &st), -EISDIR);
	rmdir(path);
	if (geteuid() == 0) { /* another user's file */
		write_bytes(GOOD, strlen(GOOD));
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(rawcap_forward_status_load(dir, &st), -EPERM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(should_read_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(should_refuse_bad_content, setup, teardown),
		cmocka_unit_test_setup_teardown(should_refuse_what_is_not_a_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
