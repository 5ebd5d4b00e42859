/* SPDX-License-Identifier: MIT */
/*
 * self_lookup.h - NETLINK_SOCK_DIAG requests for the self-exclusion
 * (self_lookup.c): a dump's request, and one TCP socket of capd's network
 * namespace by its exact 5-tuple.
 */
#ifndef CAPD_SELF_LOOKUP_H
#define CAPD_SELF_LOOKUP_H

#include <stdint.h>
#include <sys/types.h>

#define SELF_TCP_TIME_WAIT    6 /* TCP states as sock_diag gives them */
#define SELF_TCP_LISTEN	      10
#define SELF_TCP_NEW_SYN_RECV 12 /* a request, not yet a socket */

struct self_sock {
	uid_t uid;
	uint64_t inode;
	uint8_t state; /* SELF_TCP_LISTEN: no such connection, this is the local end's listener */
	uint8_t local[16]; /* the socket's own address (a listener's may be the wildcard) */
};

struct inet_diag_req_v2;

/* A sock_diag address (4 bytes for AF_INET, 16 for AF_INET6) as 16, IPv4 mapped. */
void self_diag_addr(uint8_t out[16], uint8_t family, const uint32_t *a);

/* Send one SOCK_DIAG_BY_FAMILY request r (flags: 0 or NLM_F_DUMP). 0 or -errno. */
int self_diag_request(int fd, uint32_t seq, uint16_t flags, const struct inet_diag_req_v2 *r);

/*
 * fd: a NETLINK_SOCK_DIAG socket used for nothing else. Addresses are 16
 * bytes, IPv4 as ::ffff:a.b.c.d; ports in host order. 0 with *out filled,
 * -ENOENT if no socket has that 5-tuple or listens on its local end, other
 * -errno on failure.
 */
int self_lookup_tcp(int fd, uint32_t seq, const uint8_t local[16], uint16_t lport,
		    const uint8_t remote[16], uint16_t rport, struct self_sock *out);

#endif
