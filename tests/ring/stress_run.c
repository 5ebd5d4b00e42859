// SPDX-License-Identifier: MIT
/*
 * stress_run.c - the ring's multi-process stress test: one stress_writer and
 * five stress_reader processes on a real shm ring. Three readers read flat
 * out, one is deliberately slow and gets lapped, and one is SIGKILLed while
 * it reads; the writer and the others must not notice. Every surviving
 * reader must account for every record (see stress_reader.c).
 *
 * usage: stress_run [RECORDS]   (default 10000000; $RAWCAP_STRESS_RECORDS overrides)
 * The helper programs are found next to this binary.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ring_test.h"

#define N_READERS 5
#define VICTIM	  4

struct proc {
	const char *role;
	pid_t pid;
	FILE *out; /* its stdout */
	int in;	   /* its stdin, -1 if not kept */
};

static char bindir[PATH_MAX];

static int spawn(struct proc *p, const char *role, char *const argv[])
{
	int out[2], in[2];

	if (pipe(out) || pipe(in))
		return -errno;
	p->role = role;
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(argv[0], argv);
		perror("stress_run: exec");
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->in = in[1];
	p->out = fdopen(out[0], "r");
	return p->out ? 0 : -errno;
}

/* Read one line from p into buf; 0, or -1 with a message. */
static int expect_line(struct proc *p, const char *want, char *buf, size_t len)
{
	if (!fgets(buf, (int)len, p->out)) {
		fprintf(stderr, "stress_run: %s (pid %d) closed its output\n", p->role, p->pid);
		return -1;
	}
	if (want && strncmp(buf, want, strlen(want))) {
		fprintf(stderr, "stress_run: %s said '%s', expected '%s'\n", p->role, buf, want);
		return -1;
	}
	return 0;
}

static int wait_exit(struct proc *p, int want_signal)
{
	int st;

	if (waitpid(p->pid, &st, 0) != p->pid)
		return -1;
	p->pid = 0;
	if (want_signal)
		return WIFSIGNALED(st) && WTERMSIG(st) == want_signal ? 0 : -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	fprintf(stderr, "stress_run: %s failed (status 0x%x)\n", p->role, st);
	return -1;
}

static struct proc procs[1 + N_READERS];

static void kill_all(void)
{
	for (int i = 0; i <= N_READERS; i++)
		if (procs[i].pid > 0) {
			kill(procs[i].pid, SIGKILL);
			waitpid(procs[i].pid, NULL, 0);
		}
	rt_shm_cleanup();
}

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "stress_run: timed out\n");
	kill_all();
	_exit(1);
}

int main(int argc, char **argv)
{
	static const char *modes[N_READERS] = {"fast", "fast", "fast", "slow", "victim"};
	const char *env = getenv("RAWCAP_STRESS_RECORDS"), *n = env	   ? env
								: argc > 1 ? argv[1]
									   : NULL;
	char wpath[PATH_MAX + 32], rpath[PATH_MAX + 32], line[512], seed[32], ring[64];
	struct proc *w = &procs[0];
	unsigned long long end = 0;
	int failed = 0;
	double t0;

	if (!realpath("/proc/self/exe", bindir))
		return 1;
	*strrchr(bindir, '/') = '\0';
	snprintf(wpath, sizeof(wpath), "%s/stress_writer", bindir);
	snprintf(rpath, sizeof(rpath), "%s/stress_reader", bindir);
	snprintf(seed, sizeof(seed), "%ld", (long)time(NULL));
	snprintf(ring, sizeof(ring), "%s", rt_name("stress"));
	if (!n)
		n = "10000000";
	rt_shm_dir();
	signal(SIGALRM, on_alarm);
	alarm(240);

	if (spawn(w, "writer", (char *const[]){wpath, ring, (char *)n, seed, NULL}) ||
	    expect_line(w, "ready", line, sizeof(line)))
		goto fail;
	for (int i = 1; i <= N_READERS; i++) {
		if (spawn(&procs[i], modes[i - 1],
			  (char *const[]){rpath, ring, (char *)modes[i - 1], NULL}) ||
		    expect_line(&procs[i], "ready", line, sizeof(line)))
			goto fail;
		close(procs[i].in);
	}
	printf("# ring %s: %s records, seed %s, 1 writer, %d readers\n", ring, n, seed, N_READERS);
	t0 = clock_mono_s();
	if (write(w->in, "go\n", 3) != 3)
		goto fail;

	/* Kill the victim once it is reading: mid-record, as far as anyone can tell. */
	if (expect_line(&procs[VICTIM + 1], "reading", line, sizeof(line)))
		goto fail;
	usleep(200000);
	kill(procs[VICTIM + 1].pid, SIGKILL);
	if (wait_exit(&procs[VICTIM + 1], SIGKILL))
		goto fail;
	printf("# victim reader SIGKILLed while reading\n");

	if (expect_line(w, "done", line, sizeof(line)) || wait_exit(w, 0))
		goto fail;
	end = strtoull(line + 5, NULL, 10);
	printf("# writer: %llu records in %.2f s\n", end, clock_mono_s() - t0);
	for (int i = 1; i <= N_READERS; i++) {
		if (i == VICTIM + 1)
			continue;
		while (expect_line(&procs[i], NULL, line, sizeof(line)) == 0 &&
		       strncmp(line, "end=", 4))
			;
		printf("# reader %d (%s): %s", i, procs[i].role, line);
		if (strncmp(line, "end=", 4) || strtoull(line + 4, NULL, 10) != end) {
			fprintf(stderr, "stress_run: reader %d did not see end %llu\n", i, end);
			failed = 1;
		}
		if (wait_exit(&procs[i], 0))
			failed = 1;
	}
	printf("# total %.2f s\n", clock_mono_s() - t0);
	rt_shm_cleanup();
	printf(failed ? "FAIL\n" : "PASS\n");
	return failed;
fail:
	fprintf(stderr, "stress_run: setup failed\n");
	kill_all();
	return 1;
}
