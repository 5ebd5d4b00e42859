// SPDX-License-Identifier: MIT
/*
 * test_snapshot_quota.c - the quota's view of a snapshot directory
 * (lib/snapshot_admin.c): a live claim counts beyond its staging
 * directory's blocks, a second claim that does not fit is refused with
 * -EDQUOT, a claim nobody holds counts for nothing, and the directory's
 * own fd offset (read to its end by another stream) changes none of it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "snapshot_int.h"

#define MiB (1ull << 20)

struct fixture {
	char dir[64];
	int fd;
};

static int setup(void **state)
{
	static struct fixture f;
	char path[128];
	int fd;

	snprintf(f.dir, sizeof(f.dir), "/tmp/rc-quota.XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	f.fd = open(f.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* One sealed file of 1 MiB of allocated blocks. */
	snprintf(path, sizeof(path), "%s/seg", f.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (f.fd < 0 || fd < 0)
		return -1;
	for (int i = 0; i < 256; i++) {
		static char page[4096] = {1};

		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
			return -1;
	}
	fsync(fd);
	close(fd);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	close(f->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	return system(cmd) ? -1 : 0;
}

/* Read the directory through fd itself to its end, as a careless caller would. */
static void exhaust_offset(int fd)
{
	char buf[4096];

	while (getdents64(fd, buf, sizeof(buf)) > 0)
		;
}

static void test_live_claim_counts_and_refuses(void **state)
{
	struct fixture *f = *state;
	struct snap_claim a = {.fd = -1}, b = {.fd = -1};
	uint64_t claimed = 0, used;

	assert_int_equal(snap_quota_claim(f->fd, ".dl-a-1", 8 * MiB, 5 * MiB, false, &a), 0);
	assert_int_equal(a.got, 5 * MiB);
	exhaust_offset(f->fd);
	used = snap_quota_used(f->fd, &claimed);
	assert_int_equal(claimed, 5 * MiB);
	assert_true(used >= 6 * MiB); /* 1 MiB of blocks + the claim */
	assert_true(used < 7 * MiB);

	/* 3 MiB more do not fit under 8 MiB; at_most takes what is left. */
	exhaust_offset(f->fd);
	assert_int_equal(snap_quota_claim(f->fd, ".tmp-b-2", 8 * MiB, 3 * MiB, false, &b),
			 -EDQUOT);
	assert_int_equal(b.claimed, 5 * MiB);
	assert_non_null(strstr(b.held, "held by snapshots being created"));
	assert_int_equal(b.fd, -1);
	assert_int_equal(snap_quota_claim(f->fd, ".tmp-b-2", 8 * MiB, 3 * MiB, true, &b), 0);
	assert_true(b.got > 0 && b.got < 3 * MiB);
	assert_int_equal(snap_quota_grow(f->fd, 8 * MiB, 3 * MiB, &b), -EDQUOT);

	snap_quota_release(f->fd, &a);
	assert_int_equal(snap_quota_grow(f->fd, 8 * MiB, 3 * MiB, &b), 0);
	snap_quota_release(f->fd, &b);
	used = snap_quota_used(f->fd, &claimed);
	assert_int_equal(claimed, 0);
	assert_true(used >= 1 * MiB && used < 2 * MiB);
}

/* A claim file whose lock nobody holds (its writer died) counts for nothing. */
static void test_dead_claim_counts_nothing(void **state)
{
	struct fixture *f = *state;
	uint64_t claimed = 1;
	int fd = openat(f->fd, ".claim-.tmp-gone-3", O_RDWR | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * MiB), 0);
	close(fd);
	assert_true(snap_quota_used(f->fd, &claimed) < 2 * MiB);
	assert_int_equal(claimed, 0);
	assert_int_equal(unlinkat(f->fd, ".claim-.tmp-gone-3", 0), 0);
}

/* snap_dir_stream reads every entry whatever fd's offset, and leaves it alone. */
static void test_dir_stream_own_offset(void **state)
{
	struct fixture *f = *state;
	DIR *d;
	int n = 0;

	exhaust_offset(f->fd);
	d = snap_dir_stream(f->fd);
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	assert_int_equal(n, 3); /* ".", "..", "seg" */
	assert_true(fcntl(f->fd, F_GETFD) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_claim_counts_and_refuses),
		cmocka_unit_test(test_dead_claim_counts_nothing),
		cmocka_unit_test(test_dir_stream_own_offset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
