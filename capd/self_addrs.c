// SPDX-License-Identifier: MIT
/*
 * self_addrs.c - the addresses of capd's network namespace, for the
 * self-exclusion: only at one of them can a connection's end be a socket of
 * rawcap's. A node that routes (to pods whose veths capd captures, or as a
 * router) sends packets out that other hosts sent, with other hosts'
 * addresses at both ends: self_match.c asks about no such end, so a SYN
 * flood routed through the node spends none of the lookups of the node's
 * own connections.
 *
 * An rtnetlink socket (RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR), opened
 * before the privilege drop, dumps the addresses (RTM_GETADDR) into a set
 * beside the live one, swapped in when the dump ends; a new address joins
 * the live set at once, a removed one makes a new dump, as does a lost
 * event (ENOBUFS). Until the first dump ends, and past SELF_MAX_ADDRS, any
 * address may be ours (the lookups as without the list). Addresses made
 * local by a route alone (AnyIP: `ip route add local NET dev lo`) are not
 * listed: a connection of rawcap's from one waits for the next socket dump.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capd.h"
#include "self_addrs.h"
#include "self_lookup.h"
#include "self_match.h"

struct selfa {
	int fd;
	uint32_t seq, dump_seq;
	bool dumping, again; /* again: dump once more when this one ends */
	int live;	     /* set[live] is the matcher's, -1 before the first dump ends */
	struct self_match *m;
	uint64_t overruns;
	struct self_addrs set[2];
	uint8_t buf[16384];
};

/* One per capd, static like the interface watcher's: the matcher may read its sets until exit. */
static struct selfa selfa_state;

static int selfa_dump(struct selfa *a)
{
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg i;
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = RTM_GETADDR,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = ++a->seq},
		.i = {.ifa_family = AF_UNSPEC},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	self_addrs_clear(&a->set[a->live == 0]);
	if (sendto(a->fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	a->dumping = true;
	a->again = false;
	a->dump_seq = req.h.nlmsg_seq;
	return 0;
}

/* A dump is due (an address removed, events lost): now, or when the running one ends. */
static int selfa_redump(struct selfa *a)
{
	if (a->dumping) {
		a->again = true;
		return 0;
	}
	return selfa_dump(a);
}

static void selfa_new(struct selfa *a, const struct nlmsghdr *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	const void *addr = NULL, *local = NULL;
	size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
	uint8_t out[16];

	if (len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	for (const struct rtattr *r = IFA_RTA(ifa); RTA_OK(r, len); r = RTA_NEXT(r, len)) {
		if (RTA_PAYLOAD(r) < want)
			continue;
		if (r->rta_type == IFA_ADDRESS)
			addr = RTA_DATA(r);
		else if (r->rta_type == IFA_LOCAL)
			local = RTA_DATA(r); /* point-to-point: IFA_ADDRESS is the peer's */
	}
	if (local)
		addr = local;
	if (!addr)
		return;
	self_diag_addr(out, ifa->ifa_family, (const uint32_t *)addr);
	if (a->live >= 0)
		self_addrs_add(&a->set[a->live], out);
	if (a->dumping)
		self_addrs_add(&a->set[a->live == 0], out);
}

/* The dump ended: its set is the matcher's. */
static int selfa_dump_done(struct selfa *a)
{
	a->live = a->live == 0;
	a->m->addrs = &a->set[a->live];
	a->dumping = false;
	return a->again ? selfa_dump(a) : 0;
}

static int selfa_parse(struct selfa *a, size_t len)
{
	for (struct nlmsghdr *h = (struct nlmsghdr *)a->buf; NLMSG_OK(h, len);
	     h = NLMSG_NEXT(h, len)) {
		int err = 0;

		if (h->nlmsg_type == NLMSG_DONE && a->dumping && h->nlmsg_seq == a->dump_seq)
			err = selfa_dump_done(a);
		else if (h->nlmsg_type == NLMSG_ERROR && a->dumping && h->nlmsg_seq == a->dump_seq)
			err = -EPROTO;
		else if (h->nlmsg_type == RTM_NEWADDR)
			selfa_new(a, h);
		else if (h->nlmsg_type == RTM_DELADDR)
			err = selfa_redump(a);
		if (err)
			return err;
	}
	return 0;
}

static int selfa_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	struct selfa *a = state;

	(void)ctx;
	(void)events;
	for (;;) {
		ssize_t n = recv(a->fd, a->buf, sizeof(a->buf), MSG_DONTWAIT);
		int err;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			a->overruns++; /* events lost: the list may be stale */
			err = selfa_redump(a);
		} else if (n < 0) {
			return errno == EAGAIN ? 0 : -errno;
		} else {
			err = selfa_parse(a, (size_t)n);
		}
		if (err) {
			capd_log("self-exclusion: reading the namespace's addresses: %s; any "
				 "address "
				 "counts as ours from now on",
				 strerror(-err));
			a->m->addrs = NULL;
			return err; /* the loop removes the source */
		}
	}
}

static void selfa_close(void *state, struct capd_ctx *ctx)
{
	struct selfa *a = state;

	(void)ctx;
	close(a->fd);
	a->fd = -1;
}

static void selfa_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct selfa *a = state;

	(void)ctx;
	capd_buf_printf(
		out,
		"# HELP capd_self_addresses Addresses of capd's network namespace where "
		"rawcap's sockets may be (0 before the first dump).\n"
		"# TYPE capd_self_addresses gauge\n"
		"capd_self_addresses %u\n"
		"# HELP capd_self_address_overruns_total Times address events were lost and "
		"the addresses dumped again.\n"
		"# TYPE capd_self_address_overruns_total counter\n"
		"capd_self_address_overruns_total %llu\n",
		a->live >= 0 ? a->set[a->live].n : 0, (unsigned long long)a->overruns);
}

static const struct capd_source_ops selfa_ops = {
	.name = "self-exclusion addresses",
	.ready = selfa_ready,
	.metrics = selfa_metrics,
	.close = selfa_close,
};

int capd_self_addrs_setup(struct capd_ctx *ctx, struct self_match *m)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
	struct selfa *a = &selfa_state;
	int err;

	a->live = -1;
	a->m = m;
	a->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (a->fd < 0)
		return -errno;
	err = bind(a->fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : selfa_dump(a);
	if (!err)
		err = capd_add_source(ctx, a->fd, &selfa_ops, a);
	if (err) {
		close(a->fd);
		a->fd = -1;
	}
	return err;
}
