/* SPDX-License-Identifier: MIT */
/*
 * proc.h - the kubectl processes kubectl-rawcap runs: each in a process
 * group of its own (the terminal's Ctrl-C reaches us, and we end them),
 * killed by the kernel if we die first (PR_SET_PDEATHSIG), standard input
 * from /dev/null, standard output and error into pipes we read.
 */
#ifndef RAWCAP_CLI_PROC_H
#define RAWCAP_CLI_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc {
	pid_t pid;	    /* 0 when not running */
	int out_fd;	    /* its standard output, non-blocking; -1 once closed */
	int err_fd;	    /* its standard error, non-blocking; -1 once closed */
	char err_tail[512]; /* the last bytes of its standard error */
	size_t err_len;
	int status; /* wait status once reaped */
	bool exited, reaped;
};

/* Start argv[0] (searched in PATH) with argv. 0 or -errno. */
int proc_start(struct proc *p, char *const argv[]);
/* Read what standard error holds now into err_tail (keeping the last bytes). */
void proc_drain_err(struct proc *p);
/* True if it exited (not reaped yet: its group id stays reserved until proc_stop()). */
bool proc_exited(struct proc *p);
/*
 * End it: SIGTERM to its process group, up to grace_ms for it to exit,
 * then SIGKILL; always reaped. Safe to call twice or on a never-started proc.
 */
void proc_stop(struct proc *p, int grace_ms);
/* err_tail as one line (newlines folded, trimmed), for messages. */
const char *proc_err_line(struct proc *p);

/*
 * Run argv to completion: standard output into *out (malloc'd, NUL
 * terminated, at most max bytes, else -EFBIG), within timeout_ms (-ETIMEDOUT)
 * unless *stop is set (-EINTR). Returns 0 with p->status set, or -errno.
 */
int proc_run(struct proc *p, char *const argv[], size_t max, char **out, size_t *out_len,
	     int timeout_ms, volatile sig_atomic_t *stop);

#endif
