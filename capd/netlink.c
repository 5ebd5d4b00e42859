// SPDX-License-Identifier: MIT
/*
 * netlink.c - watch interfaces come and go (rtnetlink RTMGRP_LINK).
 *
 * The socket is opened and the first RTM_GETLINK dump read before the
 * privilege drop, so the interface table is complete before the first
 * packet. Afterwards every RTM_NEWLINK/RTM_DELLINK updates the table in
 * iface.c: a pod's veth that appears on the node and matches --interfaces is
 * captured from its first packet on. If the kernel reports that events were
 * lost (ENOBUFS), the socket asks for a fresh dump, which needs no privilege.
 */
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capd.h"

struct capd_netlink {
	int fd;
	uint32_t seq;
	uint64_t events, overruns;
	uint32_t dump_seq;
	bool dumping;
};

static struct capd_netlink capd_nl = {.fd = -1};

static int nl_request_dump(struct capd_netlink *nl, struct capd_ctx *ctx)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = RTM_GETLINK,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = ++nl->seq},
		.i = {.ifi_family = AF_UNSPEC},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	capd_iface_dump_begin(ctx);

	if (sendto(nl->fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	nl->dumping = true;
	nl->dump_seq = req.h.nlmsg_seq;
	return 0;
}

static void nl_link(struct capd_ctx *ctx, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct capd_iface_info info;
	const struct rtattr *a;
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	if (len < 0 || ifi->ifi_index <= 0)
		return;
	if (h->nlmsg_type == RTM_DELLINK) {
		capd_iface_remove(ctx, (uint32_t)ifi->ifi_index);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.ifindex = (uint32_t)ifi->ifi_index;
	info.arphrd = ifi->ifi_type;
	info.flags = ifi->ifi_flags;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case IFLA_IFNAME:
			memcpy(info.name, RTA_DATA(a),
			       n < sizeof(info.name) ? n : sizeof(info.name) - 1);
			break;
		case IFLA_MTU:
			if (n >= 4)
				memcpy(&info.mtu, RTA_DATA(a), 4);
			break;
		case IFLA_ADDRESS:
			info.mac_len = (uint16_t)(n < sizeof(info.mac) ? n : sizeof(info.mac));
			memcpy(info.mac, RTA_DATA(a), info.mac_len);
			break;
		}
	}
	info.name[sizeof(info.name) - 1] = 0;
	if (info.name[0])
		capd_iface_update(ctx, &info);
}

/* Read everything pending. Returns messages handled or -errno. */
static int nl_drain(struct capd_netlink *nl, struct capd_ctx *ctx)
{
	char buf[32768] __attribute__((aligned(8)));
	int handled = 0;

	for (;;) {
		ssize_t n = recv(nl->fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return handled;
			if (errno == ENOBUFS) {
				/* Events were lost: start over from a full dump. */
				nl->overruns++;
				capd_log("interface events overflowed; re-reading the interface "
					 "list");
				if (!nl->dumping && nl_request_dump(nl, ctx))
					return -errno;
				continue;
			}
			return -errno;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				/* A whole dump read: what it did not list is gone. */
				if (h->nlmsg_type == NLMSG_DONE && nl->dumping &&
				    h->nlmsg_seq == nl->dump_seq)
					capd_iface_dump_end(ctx);
				nl->dumping = false;
				continue;
			}
			if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
				nl_link(ctx, h);
				nl->events++;
				handled++;
			}
		}
	}
}

static int nl_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	(void)events;
	return nl_drain(state, ctx);
}

static int nl_refresh(struct capd_ctx *ctx)
{
	return nl_drain(&capd_nl, ctx);
}

static void nl_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	(void)state;
	(void)now_ns;
	capd_iface_tick(ctx);
}

static void nl_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	struct capd_netlink *nl = state;

	(void)ctx;
	capd_buf_printf(
		out,
		"# HELP capd_netlink_events_total Interface events handled.\n"
		"# TYPE capd_netlink_events_total counter\n"
		"capd_netlink_events_total %llu\n"
		"# HELP capd_netlink_overruns_total Times interface events were lost and re-read.\n"
		"# TYPE capd_netlink_overruns_total counter\n"
		"capd_netlink_overruns_total %llu\n",
		(unsigned long long)nl->events, (unsigned long long)nl->overruns);
}

static void nl_close(void *state, struct capd_ctx *ctx)
{
	struct capd_netlink *nl = state;

	(void)ctx;
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

static const struct capd_source_ops nl_ops = {
	.name = "netlink",
	.ready = nl_ready,
	.tick = nl_tick,
	.metrics = nl_metrics,
	.close = nl_close,
};

int capd_netlink_setup(struct capd_ctx *ctx)
{
	struct capd_netlink *nl = &capd_nl;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	int rcvbuf = 4 << 20, err;
	struct pollfd;

	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return -errno;
	/* A burst of pod churn must not overflow it; FORCE works as root, plain as fallback. */
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail_errno;
	err = nl_request_dump(nl, ctx);
	if (err)
		goto fail;
	/* Read the whole first dump now (bounded: the kernel answers at once). */
	for (int i = 0; i < 1000 && nl->dumping; i++) {
		err = nl_drain(nl, ctx);
		if (err < 0)
			goto fail;
		if (nl->dumping)
			usleep(1000);
	}
	ctx->nl_fd = nl->fd;
	ctx->iface_refresh = nl_refresh;
	err = capd_add_source(ctx, nl->fd, &nl_ops, nl);
	if (err)
		goto fail;
	return 0;
fail_errno:
	err = -errno;
fail:
	close(nl->fd);
	nl->fd = -1;
	return err;
}
