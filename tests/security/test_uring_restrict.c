// SPDX-License-Identifier: MIT
/*
 * test_uring_restrict.c - the disk FIFO's io_uring runs what the segment
 * writer submits and nothing else (storage/seg_io.c): an OPENAT, READ,
 * CONNECT or a registration on its ring is refused with EACCES by the
 * kernel, while writes and fsyncs go through. So a compromised capd cannot
 * use the ring to reach around its seccomp allow-list, which permits
 * io_uring_enter after the drop. Skipped (77) on a kernel without
 * IORING_REGISTER_RESTRICTIONS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "seg_writer.h"
#include "seg_writer_int.h"

static struct seg_writer *w;
static char dir[] = "/tmp/rc-uring-XXXXXX";

static int setup(void **state)
{
	struct seg_writer_opts o = {.dir = dir, .total_size = 64ull << 20, .fifo = true, .gid = -1};

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	return seg_writer_open(&o, &w);
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	seg_writer_close(w);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Submit one prepared SQE on the writer's own ring and return its result. */
static int run_one(void (*prep)(struct io_uring_sqe *sqe, void *arg), void *arg)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	struct io_uring_cqe *cqe;
	int res;

	assert_non_null(sqe);
	prep(sqe, arg);
	io_uring_sqe_set_data64(sqe, 0);
	assert_int_equal(io_uring_submit(&w->ring), 1);
	assert_int_equal(io_uring_wait_cqe(&w->ring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(&w->ring, cqe);
	return res;
}

static void prep_openat(struct io_uring_sqe *sqe, void *arg)
{
	(void)arg;
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
}

static void prep_read(struct io_uring_sqe *sqe, void *arg)
{
	static char buf[16];

	io_uring_prep_read(sqe, *(int *)arg, buf, sizeof(buf), 0);
}

static void prep_socket(struct io_uring_sqe *sqe, void *arg)
{
	(void)arg;
	/* IORING_OP_SOCKET (5.19+); older kernels refuse it as unknown, as good here. */
	io_uring_prep_nop(sqe);
	sqe->opcode = IORING_OP_SOCKET;
	sqe->fd = AF_INET;
	sqe->off = SOCK_STREAM;
}

static void prep_write(struct io_uring_sqe *sqe, void *arg)
{
	io_uring_prep_write(sqe, *(int *)arg, "rawcap", 6, 0);
}

static void prep_fsync(struct io_uring_sqe *sqe, void *arg)
{
	io_uring_prep_fsync(sqe, *(int *)arg, IORING_FSYNC_DATASYNC);
}

static void prep_write_linked(struct io_uring_sqe *sqe, void *arg)
{
	prep_write(sqe, arg);
	sqe->flags |= IOSQE_IO_LINK; /* only IOSQE_IO_DRAIN is allowed */
}

static void should_refuse_what_the_writer_never_submits(void **state)
{
	char path[64];
	int fd;

	(void)state;
	if (!w->restricted)
		skip();
	snprintf(path, sizeof(path), "%s/probe", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(run_one(prep_openat, NULL), -EACCES);
	assert_int_equal(run_one(prep_read, &fd), -EACCES);
	assert_int_equal(run_one(prep_socket, NULL), -EACCES);
	assert_int_equal(run_one(prep_write_linked, &fd), -EACCES);
	assert_int_equal(run_one(prep_write, &fd), 6);
	assert_int_equal(run_one(prep_fsync, &fd), 0);
	close(fd);
}

static void should_refuse_registration(void **state)
{
	struct iovec iov = {.iov_base = dir, .iov_len = 1};

	(void)state;
	if (!w->restricted)
		skip();
	assert_int_equal(io_uring_register_buffers(&w->ring, &iov, 1), -EACCES);
	assert_int_equal(io_uring_register_files(&w->ring, (int[]){0}, 1), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_refuse_what_the_writer_never_submits),
		cmocka_unit_test(should_refuse_registration),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
