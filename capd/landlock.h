/* SPDX-License-Identifier: MIT */
/*
 * landlock.h - capd's Landlock confinement: after the privilege drop only the
 * ring directory, the storage directory and a few read-only paths that
 * enabled sources re-read remain reachable, and TCP only to the ports its
 * sources registered.
 */
#ifndef CAPD_LANDLOCK_H
#define CAPD_LANDLOCK_H

struct capd_ctx;

/*
 * As root, before the drop: build the ruleset (RAWCAP_SHM_DIR or /dev/shm,
 * --storage, source paths). Returns its fd, -1 when the kernel has no
 * Landlock (logged, not fatal), or a negative errno.
 */
int capd_landlock_prepare(const struct capd_ctx *ctx);
/*
 * Before prepare: let capd connect over TCP, after the drop, to the port of
 * url (https://host:port, default 443/80; a proxy's host:port, default
 * 1080). 0, -EINVAL for a URL without a usable port, -ENOSPC.
 */
int capd_landlock_allow_url(struct capd_ctx *ctx, const char *url);
/* After no_new_privs: apply and close the ruleset (a no-op for -1). 0 or -errno. */
int capd_landlock_restrict(int ruleset);

#endif
