// SPDX-License-Identifier: MIT
/*
 * k8s_driver.c - stands in for capd in the Kubernetes tests: creates a ring,
 * runs the watcher exactly as capd does (eventfd in an epoll loop, drain on
 * readiness, tick once a second) and writes a dummy "packet" record every
 * 10 ms, so the test can show capture never waits for the API server.
 * With --capture IFNAME it also captures real packets from that interface
 * (a plain AF_PACKET socket; the pod-aware export test needs real traffic).
 * At exit it prints the watcher's counters as one JSON object on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rawcap/format.h>

#include "k8s_watch.h"
#include "ring_writer.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1 /* shadow memory and quarantine: RSS says nothing about our bounds */
#else
#define SANITIZED 0
#endif

static volatile sig_atomic_t quit;

static void on_sig(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: k8s_driver --ring NAME [--kubeconfig F | --sa-dir D] [--node N]\n"
		   "  [--duration S] [--max-event B] [--resync S] [--watch-timeout S]\n"
		   "  [--backoff-min MS] [--backoff-max MS] [--resources MASK] [--verbose]\n"
		   "  [--capture IFNAME]\n");
}

static void print_stats(struct k8s_watch *w, uint64_t max_gap, uint64_t pkts)
{
	struct k8s_watch_stats st;
	struct rusage ru = {0};

	k8s_watch_get_stats(w, &st);
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"pod\":%llu,\"namespace\":%llu,\"service\":%llu,\"endpoints\":%llu,"
	       "\"lists\":%llu,\"list_pages\":%llu,\"watches\":%llu,\"bookmarks\":%llu,"
	       "\"gone\":%llu,\"http_errors\":%llu,\"conn_errors\":%llu,\"json_errors\":%llu,"
	       "\"oversized\":%llu,\"deleted_on_relist\":%llu,\"syncs\":%llu,\"queued\":%llu,"
	       "\"dropped\":%llu,\"written\":%llu,\"max_loop_gap_ms\":%llu,\"packets\":%llu,"
	       "\"max_rss_kb\":%ld,\"sanitized\":%d}\n",
	       (unsigned long long)st.events[K8S_RES_POD],
	       (unsigned long long)st.events[K8S_RES_NAMESPACE],
	       (unsigned long long)st.events[K8S_RES_SERVICE],
	       (unsigned long long)st.events[K8S_RES_ENDPOINTS], (unsigned long long)st.lists,
	       (unsigned long long)st.list_pages, (unsigned long long)st.watches,
	       (unsigned long long)st.bookmarks, (unsigned long long)st.gone,
	       (unsigned long long)st.http_errors, (unsigned long long)st.conn_errors,
	       (unsigned long long)st.json_errors, (unsigned long long)st.oversized,
	       (unsigned long long)st.deleted_on_relist, (unsigned long long)st.syncs,
	       (unsigned long long)st.queued, (unsigned long long)st.dropped,
	       (unsigned long long)st.written, (unsigned long long)max_gap,
	       (unsigned long long)pkts, ru.ru_maxrss, SANITIZED);
}

/* A dummy packet record: stands for capture going on. */
static void write_packet(struct ring_writer *rw)
{
	struct rawcap_pkt *p = ring_reserve(rw, RAWCAP_REC_PACKET, 0, real_ns(), sizeof(*p));

	if (p) {
		memset(p, 0, sizeof(*p));
		ring_publish(rw);
	}
}

/* An AF_PACKET socket on ifname, described in the ring's interface table. */
static int capture_open(struct ring_writer *rw, const char *ifname)
{
	struct rawcap_iface ifc = { .linktype = 1, .arphrd = 772, .mtu = 65536 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "k8s_driver: capture on %s: %s\n", ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ifc.ifindex = (uint32_t)sll.sll_ifindex;
	snprintf(ifc.name, sizeof(ifc.name), "%s", ifname);
	ring_iface_set(rw, &ifc);
	return fd;
}

static uint64_t capture_drain(struct ring_writer *rw, int fd)
{
	static uint8_t buf[65536];
	uint64_t n = 0;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fl);
		uint32_t cap = len > (ssize_t)sizeof(buf) ? sizeof(buf) : (uint32_t)len;
		struct rawcap_pkt *p;

		if (len < 0)
			break;
		p = ring_reserve(rw, RAWCAP_REC_PACKET, 0, real_ns(), sizeof(*p) + cap);
		if (!p)
			continue;
		memset(p, 0, sizeof(*p));
		p->ifindex = (uint32_t)from.sll_ifindex;
		p->orig_len = (uint32_t)len;
		p->linktype = 1;
		p->dir = from.sll_pkttype;
		p->protocol = from.sll_protocol;
		memcpy(p + 1, buf, cap);
		n++;
	}
	if (n) {
		ring_publish(rw);
		ring_notify(rw);
	}
	return n;
}

static int run(struct k8s_watch *w, struct ring_writer *rw, unsigned duration, int cap_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t start = mono_ms(), last = start, last_tick = start, max_gap = 0, pkts = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, k8s_watch_fd(w), &ev))
		return -errno;
	ev.data.fd = cap_fd;
	if (cap_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, cap_fd, &ev))
		return -errno;
	while (!quit && (!duration || mono_ms() - start < duration * 1000ull)) {
		int n = epoll_wait(ep, &ev, 1, 10);
		uint64_t now = mono_ms();

		if (now - last > max_gap)
			max_gap = now - last;
		last = now;
		if (n > 0 && k8s_watch_drain(w, rw) > 0) {
			ring_publish(rw); /* as capd's loop does after each batch */
			ring_notify(rw);
		}
		if (cap_fd >= 0) {
			pkts += capture_drain(rw, cap_fd);
		} else {
			write_packet(rw);
			pkts++;
		}
		if (now - last_tick >= 1000) {
			last_tick = now;
			k8s_watch_tick(w, rw, real_ns());
			ring_heartbeat(rw, real_ns());
		}
	}
	while (k8s_watch_drain(w, rw) > 0)
		;
	ring_publish(rw);
	ring_notify(rw);
	close(ep);
	print_stats(w, max_gap, pkts);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ring", required_argument, 0, 'r' },	     { "kubeconfig", required_argument, 0, 'k' },
		{ "sa-dir", required_argument, 0, 's' },     { "node", required_argument, 0, 'n' },
		{ "duration", required_argument, 0, 'd' },   { "max-event", required_argument, 0, 'm' },
		{ "resync", required_argument, 0, 'y' },     { "watch-timeout", required_argument, 0, 't' },
		{ "backoff-min", required_argument, 0, 'b' }, { "backoff-max", required_argument, 0, 'B' },
		{ "resources", required_argument, 0, 'R' },  { "verbose", no_argument, 0, 'v' },
		{ "capture", required_argument, 0, 'c' },    { "help", no_argument, 0, 'h' },
		{ 0 }
	};
	struct ring_writer_opts ro = { .data_size = 4u << 20, .mode = 0644, .gid = (gid_t)-1 };
	struct k8s_watch_opts o;
	struct ring_writer rw;
	struct k8s_watch *w;
	const char *capture = NULL;
	unsigned duration = 0;
	int c, err, cap_fd = -1;

	k8s_watch_opts_default(&o);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': ro.name = optarg; break;
		case 'k': o.kubeconfig = optarg; break;
		case 's': o.sa_dir = optarg; break;
		case 'n': o.node = optarg; break;
		case 'd': duration = (unsigned)atoi(optarg); break;
		case 'm': o.max_event = (size_t)atol(optarg); break;
		case 'y': o.resync_s = (unsigned)atoi(optarg); break;
		case 't': o.watch_timeout_s = (unsigned)atoi(optarg); break;
		case 'b': o.backoff_min_ms = (unsigned)atoi(optarg); break;
		case 'B': o.backoff_max_ms = (unsigned)atoi(optarg); break;
		case 'R': o.resources = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'v': o.verbose = 1; break;
		case 'c': capture = optarg; ro.data_size = 16u << 20; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!ro.name) {
		fprintf(stderr, "k8s_driver: --ring is required\n");
		return 2;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	err = ring_writer_create(&rw, &ro);
	if (err) {
		fprintf(stderr, "k8s_driver: cannot create ring %s: %s\n", ro.name, strerror(-err));
		return 1;
	}
	if (capture && (cap_fd = capture_open(&rw, capture)) < 0) {
		ring_writer_close(&rw);
		return 1;
	}
	err = k8s_watch_start(&o, &w);
	if (!err) {
		err = run(w, &rw, duration, cap_fd);
		k8s_watch_stop(w);
	}
	ring_writer_close(&rw);
	return err ? 1 : 0;
}
