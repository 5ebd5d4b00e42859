/* SPDX-License-Identifier: MIT */
/*
 * self_exclude.h - capd's source that keeps rawcap's own traffic out of the
 * capture (self_exclude.c); the per-packet test is in self_match.h.
 */
#ifndef CAPD_SELF_EXCLUDE_H
#define CAPD_SELF_EXCLUDE_H

#include <stdbool.h>

struct capd_config;
struct capd_ctx;

/* On unless --capture-self. */
bool capd_self_exclude_enabled(const struct capd_config *cfg);
/* Before the privilege drop: the NETLINK_SOCK_DIAG socket, the first dump. 0 or -errno (logged). */
int capd_self_exclude_setup(struct capd_ctx *ctx);

#endif
