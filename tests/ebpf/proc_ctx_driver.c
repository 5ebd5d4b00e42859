// SPDX-License-Identifier: MIT
/*
 * proc_ctx_driver.c - stand-in for capd's loop in the process-context tests:
 * create a ring, open proc_ctx, scan existing flows, drain events into the
 * ring until the time is up or SIGTERM/SIGINT, print counters.
 *
 * usage: proc_ctx_driver -r RING [-t SECONDS] [-n] [-F]
 *   -n  no socket-creation events   -F  force the failure path
 * Prints "ready" once attached, "events=N drops=N existing=N" at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "proc_ctx.h"
#include "ring_writer.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct ring_writer_opts ro = {.data_size = 4u << 20, .gid = (gid_t)-1, .mode = 0644};
	struct epoll_event ev = {.events = EPOLLIN};
	struct proc_ctx_opts po = {0};
	struct proc_ctx *pc = NULL;
	struct proc_ctx_stats st;
	uint64_t end, next_tick = 0;
	struct ring_writer w;
	double seconds = 5;
	int opt, err, ep, ret = 1;
	char why[1024];

	while ((opt = getopt(argc, argv, "r:t:nF")) != -1) {
		switch (opt) {
		case 'r':
			ro.name = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			po.no_create_events = true;
			break;
		case 'F':
			po.force_fail = true;
			break;
		default:
			fprintf(stderr, "usage: %s -r RING [-t SECONDS] [-n] [-F]\n", argv[0]);
			return 2;
		}
	}
	if (!ro.name) {
		fprintf(stderr, "proc_ctx_driver: -r RING is required\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	err = proc_ctx_open(&po, &pc, why, sizeof(why));
	if (err) {
		fprintf(stderr, "proc_ctx_driver: %s (%s)\n", why, strerror(-err));
		return 3;
	}
	if (why[0])
		fprintf(stderr, "proc_ctx_driver: partial context: %s\n", why);
	err = ring_writer_create(&w, &ro);
	if (err) {
		fprintf(stderr, "proc_ctx_driver: create ring %s: %s\n", ro.name, strerror(-err));
		goto cleanup;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, proc_ctx_fd(pc), &ev)) {
		fprintf(stderr, "proc_ctx_driver: epoll: %s\n", strerror(errno));
		goto close_ring;
	}
	err = proc_ctx_scan_existing(pc, &w);
	if (err < 0)
		fprintf(stderr, "proc_ctx_driver: scan existing flows: %s\n", strerror(-err));
	ring_publish(&w);
	printf("ready\n");
	fflush(stdout);
	end = clock_mono_ns() + (uint64_t)(seconds * 1e9);
	while (!stop && clock_mono_ns() < end) {
		if (epoll_wait(ep, &ev, 1, 100) > 0)
			proc_ctx_drain(pc, &w);
		if (clock_mono_ns() >= next_tick) {
			proc_ctx_tick(pc, &w, clock_real_ns());
			ring_heartbeat(&w, clock_real_ns());
			next_tick = clock_mono_ns() + 1000000000ull;
		}
		ring_publish(&w);
		ring_notify(&w);
	}
	while (proc_ctx_drain(pc, &w) > 0)
		;
	ring_publish(&w);
	ring_notify(&w);
	proc_ctx_get_stats(pc, &st);
	printf("events=%llu drops=%llu existing=%llu unresolved_cgroups=%llu\n",
	       (unsigned long long)st.events, (unsigned long long)st.drops,
	       (unsigned long long)st.existing, (unsigned long long)st.unresolved_cgroups);
	ret = 0;
	close(ep);
close_ring:
	ring_writer_close(&w);
cleanup:
	proc_ctx_close(pc);
	return ret;
}
