// SPDX-License-Identifier: MIT
/*
 * self_lookup.c - the self-exclusion's NETLINK_SOCK_DIAG requests: the
 * dumps self_exclude.c reads asynchronously, and one TCP socket by its exact
 * 5-tuple: a SOCK_DIAG_BY_FAMILY request without NLM_F_DUMP (the kernel's
 * inet_diag "exact" lookup, linux/inet_diag.h). The kernel finds the
 * socket with a hash lookup and queues its answer before sendto() returns,
 * so one sendto and one recv cost a few microseconds, where a dump walks
 * every bucket of the TCP hash table (milliseconds on a large machine,
 * however few sockets the namespace has). Where no connection has the
 * 5-tuple the kernel answers with the listener on its local end, if any, as
 * it would deliver a packet: state TCP_LISTEN, which tells whose listener a
 * connection just asked for belongs to.
 */
#include <errno.h>
#include <stdbool.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "self_lookup.h"

static const uint8_t v4_prefix[12] = {[10] = 0xff, [11] = 0xff};

void self_diag_addr(uint8_t out[16], uint8_t family, const uint32_t *a)
{
	if (family == AF_INET6) {
		memcpy(out, a, 16);
		return;
	}
	memcpy(out, v4_prefix, 12);
	memcpy(out + 12, a, 4);
}

/* Both ends IPv4-mapped: an AF_INET request; else AF_INET6 with the 16 bytes. */
static void self_lookup_req(struct inet_diag_req_v2 *r, const uint8_t local[16], uint16_t lport,
			    const uint8_t remote[16], uint16_t rport)
{
	bool v4 = !memcmp(local, v4_prefix, 12) && !memcmp(remote, v4_prefix, 12);

	r->sdiag_family = v4 ? AF_INET : AF_INET6;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_states = ~0u;
	r->id.idiag_sport = htons(lport);
	r->id.idiag_dport = htons(rport);
	memcpy(r->id.idiag_src, v4 ? local + 12 : local, v4 ? 4 : 16);
	memcpy(r->id.idiag_dst, v4 ? remote + 12 : remote, v4 ? 4 : 16);
	r->id.idiag_cookie[0] = r->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

/* The answer to request seq: 1 with *out, 0 for someone else's message, -errno. */
static int self_lookup_parse(const uint8_t *buf, size_t len, uint32_t seq, struct self_sock *out)
{
	for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, len);
	     h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error ? e->error : -ENOENT;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			self_diag_addr(out->local, m->idiag_family, m->id.idiag_src);
			out->uid = m->idiag_uid;
			out->inode = m->idiag_inode;
			out->state = m->idiag_state;
			return 1;
		}
	}
	return 0;
}

int self_diag_request(int fd, uint32_t seq, uint16_t flags, const struct inet_diag_req_v2 *r)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | flags,
		      .nlmsg_seq = seq},
		.r = *r,
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

int self_lookup_tcp(int fd, uint32_t seq, const uint8_t local[16], uint16_t lport,
		    const uint8_t remote[16], uint16_t rport, struct self_sock *out)
{
	struct inet_diag_req_v2 r = {0};
	uint8_t buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	int err;

	self_lookup_req(&r, local, lport, remote, rport);
	err = self_diag_request(fd, seq, 0, &r);
	if (err)
		return err;
	for (;;) { /* a late answer to an earlier request is skipped by its seq */
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int ret;

		if (n < 0)
			return -errno;
		ret = self_lookup_parse(buf, (size_t)n, seq, out);
		if (ret)
			return ret < 0 ? ret : 0;
	}
}
