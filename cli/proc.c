// SPDX-License-Identifier: MIT
/*
 * proc.c - child processes that never outlive kubectl-rawcap (see proc.h).
 *
 * The child calls setpgid(0, 0) and the parent does too (whichever runs
 * first wins the race), so kill(-pid) reaches kubectl and anything it
 * starts. PR_SET_PDEATHSIG covers the case where we are killed with
 * SIGKILL and no cleanup of ours runs; the getppid() check closes the
 * window where the parent died before prctl().
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "proc.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void child(char *const argv[], int out_w, int err_w, pid_t parent)
{
	int null = open("/dev/null", O_RDONLY);
	sigset_t none;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	/* the signal mask and dispositions we set are not kubectl's business */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(127);
	execvp(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int proc_start(struct proc *p, char *const argv[])
{
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	pid_t parent = getpid(), pid;

	memset(p, 0, sizeof(*p));
	p->out_fd = p->err_fd = -1;
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		int e = -errno;

		close(out[0]);
		close(out[1]);
		return e;
	}
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return e;
	}
	if (pid == 0)
		child(argv, out[1], err[1], parent);
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	p->pid = pid;
	p->out_fd = out[0];
	p->err_fd = err[0];
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void proc_drain_err(struct proc *p)
{
	char buf[4096];
	ssize_t n;

	while (p->err_fd >= 0 && (n = read(p->err_fd, buf, sizeof(buf))) != 0) {
		size_t keep, k;

		if (n < 0) {
			if (errno != EINTR && errno != EAGAIN)
				close_fd(&p->err_fd);
			if (errno == EAGAIN)
				return;
			continue;
		}
		/* keep the last sizeof(err_tail) - 1 bytes of everything read */
		k = (size_t)n < sizeof(p->err_tail) - 1 ? (size_t)n : sizeof(p->err_tail) - 1;
		keep = p->err_len + k < sizeof(p->err_tail) ? p->err_len
							    : sizeof(p->err_tail) - 1 - k;
		memmove(p->err_tail, p->err_tail + p->err_len - keep, keep);
		memcpy(p->err_tail + keep, buf + n - k, k);
		p->err_len = keep + k;
		p->err_tail[p->err_len] = '\0';
	}
	if (p->err_fd >= 0)
		close_fd(&p->err_fd); /* end of file */
}

bool proc_exited(struct proc *p)
{
	siginfo_t si = {0};

	if (!p->pid || p->exited)
		return true;
	/* WNOWAIT: it stays a zombie, so its process group id cannot be reused yet */
	if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
		p->exited = true;
	return p->exited;
}

static void reap(struct proc *p)
{
	/* the leader is a zombie or alive: -pid is still its group */
	kill(-p->pid, SIGKILL);
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	p->reaped = true;
}

void proc_stop(struct proc *p, int grace_ms)
{
	uint64_t end = now_ms() + (uint64_t)grace_ms;

	if (p->pid && !p->reaped) {
		if (!proc_exited(p))
			kill(-p->pid, SIGTERM);
		while (!proc_exited(p) && now_ms() < end)
			usleep(10000);
		reap(p);
	}
	proc_drain_err(p);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
}

const char *proc_err_line(struct proc *p)
{
	char *s = p->err_tail;
	size_t len;

	for (char *c = s; *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	while (*s == ' ')
		s++;
	len = strlen(s);
	while (len && s[len - 1] == ' ')
		s[--len] = '\0';
	return s;
}

int proc_run(struct proc *p, char *const argv[], size_t max, char **out, size_t *out_len,
	     int timeout_ms, volatile sig_atomic_t *stop)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	int err = proc_start(p, argv);

	*out = NULL;
	if (!buf || err) {
		free(buf);
		return err ? err : -ENOMEM;
	}
	while (p->out_fd >= 0) {
		struct pollfd pf[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
		ssize_t n;

		if (stop && *stop) {
			err = -EINTR;
			break;
		}
		if (now_ms() >= end) {
			err = -ETIMEDOUT;
			break;
		}
		if (poll(pf, p->err_fd >= 0 ? 2 : 1, 100) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		proc_drain_err(p);
		if (len == cap) {
			char *nb;

			if (cap >= max) {
				err = -EFBIG;
				break;
			}
			cap = cap * 2 < max ? cap * 2 : max;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(p->out_fd, buf + len, cap - len);
		if (n > 0)
			len += (size_t)n;
		else if (n == 0)
			close_fd(&p->out_fd);
		else if (errno != EAGAIN && errno != EINTR)
			err = -errno;
	}
	if (err) {
		proc_stop(p, 0);
		free(buf);
		return err;
	}
	/* its output is complete: wait (bounded) for its exit status */
	while (!proc_exited(p) && now_ms() < end && !(stop && *stop))
		usleep(5000);
	if (!p->exited) {
		proc_stop(p, 0);
		free(buf);
		return stop && *stop ? -EINTR : -ETIMEDOUT;
	}
	proc_stop(p, 0); /* reaps it, and anything left in its group */
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}
