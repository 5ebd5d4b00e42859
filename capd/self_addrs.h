/* SPDX-License-Identifier: MIT */
/*
 * self_addrs.h - the addresses of capd's network namespace, kept current
 * for the self-exclusion's matcher (self_addrs.c).
 */
#ifndef CAPD_SELF_ADDRS_H
#define CAPD_SELF_ADDRS_H

struct capd_ctx;
struct self_match;

/* Before the privilege drop: the rtnetlink socket and the first dump's request. 0 or -errno. */
int capd_self_addrs_setup(struct capd_ctx *ctx, struct self_match *m);

#endif
