// SPDX-License-Identifier: MIT
/*
 * ebpf_capture_driver.c - stand-in for capd's loop in the eBPF capture tests
 * and benchmark: create a ring, attach ebpf_capture to the named interfaces,
 * drain into the ring until the time is up or SIGTERM/SIGINT, print counters.
 *
 * usage: ebpf_capture_driver -r RING [-i IFACE]... [-t SECONDS] [-s SNAPLEN]
 *        [-f FILTER] [-S STATE_DIR] [-F] [-z RING_BYTES] [-b BPF_RINGBUF_BYTES] [-W FILE]
 * Prints "ready" once attached, and "packets=N bytes=N drops=N filtered=N" at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ebpf_capture.h"
#include "ring_writer.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int run(struct ebpf_capture *cap, struct ring_writer *w, double seconds)
{
	uint64_t end = clock_mono_ns() + (uint64_t)(seconds * 1e9), next_tick = 0;
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(EPOLL_CLOEXEC), n;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ebpf_capture_fd(cap), &ev))
		return -errno;
	while (!stop && (seconds <= 0 || clock_mono_ns() < end)) {
		n = epoll_wait(ep, &ev, 1, 100);
		/* Like capd's loop: drain while readable, publish and wake readers per batch. */
		if (n > 0 && ebpf_capture_drain(cap, w) < 0)
			break;
		if (clock_mono_ns() >= next_tick) {
			ebpf_capture_tick(cap, w, clock_real_ns());
			ring_heartbeat(w, clock_real_ns());
			next_tick = clock_mono_ns() + 1000000000ull;
		}
		ring_publish(w);
		if (n <= 0)
			ring_notify(w);
	}
	while (ebpf_capture_drain(cap, w) > 0)
		;
	ebpf_capture_tick(cap, w, clock_real_ns());
	ring_publish(w);
	ring_notify(w);
	return 0;
}

int main(int argc, char **argv)
{
	struct ring_writer_opts ro = {.data_size = 32u << 20, .gid = (gid_t)-1, .mode = 0644};
	struct ebpf_capture_opts co = {0};
	const char *ifaces[16];
	struct ebpf_capture *cap = NULL;
	struct ebpf_capture_stats st;
	struct ring_writer w;
	int nif = 0, opt, err, ret = 1;
	double seconds = 0;
	const char *wait_file = NULL;
	char why[512];

	while ((opt = getopt(argc, argv, "r:i:t:s:f:S:Fz:b:W:")) != -1) {
		switch (opt) {
		case 'r':
			ro.name = optarg;
			break;
		case 'i':
			if (nif < 16)
				ifaces[nif++] = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 's':
			co.snaplen = (uint32_t)atoi(optarg);
			break;
		case 'f':
			co.filter = optarg;
			break;
		case 'S':
			co.state_dir = optarg;
			break;
		case 'F':
			co.force_fail = true;
			break;
		case 'z':
			ro.data_size = strtoull(optarg, NULL, 0);
			break;
		case 'W':
			wait_file = optarg;
			break;
		case 'b':
			co.ringbuf_bytes = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: %s -r RING [-i IFACE]... [-t S] [-s SNAPLEN] [-f FILTER] "
				"[-S DIR] [-F]\n",
				argv[0]);
			return 2;
		}
	}
	if (!ro.name) {
		fprintf(stderr, "ebpf_capture_driver: -r RING is required\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	err = ebpf_capture_open(&co, &cap, why, sizeof(why));
	if (err) {
		fprintf(stderr, "ebpf_capture_driver: %s (%s)\n", why, strerror(-err));
		return 3;
	}
	err = ring_writer_create(&w, &ro);
	if (err) {
		fprintf(stderr, "ebpf_capture_driver: create ring %s: %s\n", ro.name,
			strerror(-err));
		goto cleanup;
	}
	for (int i = 0; i < nif; i++) {
		int idx = (int)if_nametoindex(ifaces[i]);

		err = idx ? ebpf_capture_attach_ifindex(cap, idx) : -ENODEV;
		if (err) {
			fprintf(stderr, "ebpf_capture_driver: attach %s: %s\n", ifaces[i],
				strerror(-err));
			goto close_ring;
		}
	}
	printf("ready\n");
	fflush(stdout);
	/* -W: do not drain until FILE exists (at most 30 s), so that the loss path can be tested.
	 */
	for (int i = 0; wait_file && access(wait_file, F_OK) && i < 3000 && !stop; i++)
		usleep(10000);
	if (!run(cap, &w, seconds))
		ret = 0;
	ebpf_capture_get_stats(cap, &st);
	printf("packets=%llu bytes=%llu drops=%llu filtered=%llu truncated=%llu\n",
	       (unsigned long long)st.packets, (unsigned long long)st.bytes,
	       (unsigned long long)st.drops, (unsigned long long)st.filtered,
	       (unsigned long long)st.truncated);
close_ring:
	ring_writer_close(&w);
cleanup:
	ebpf_capture_close(cap);
	return ret;
}
