// SPDX-License-Identifier: MIT
/*
 * signals.c - SIGTERM and SIGINT as one more source: blocked, and read from a
 * signalfd, so they end capd's loop between batches and never interrupt a
 * record half written.
 */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "capd.h"

/* SIGTERM/SIGINT through a signalfd, so they end the loop between batches. */
static int sig_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct signalfd_siginfo si;
	int fd = *(int *)state;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			capd_log("signal %u: stopping", si.ssi_signo);
			ctx->stop = true;
		}
	}
	return 0;
}

static void sig_close(void *state, struct capd_ctx *ctx)
{
	(void)ctx;
	close(*(int *)state);
}

static const struct capd_source_ops sig_ops = {
	.name = "signals",
	.ready = sig_ready,
	.close = sig_close,
};

int capd_signals_setup(struct capd_ctx *ctx)
{
	static int sfd;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	return capd_add_source(ctx, sfd, &sig_ops, &sfd);
}
