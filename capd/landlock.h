/* SPDX-License-Identifier: MIT */
/*
 * landlock.h - capd's Landlock file-system confinement: after the privilege
 * drop only the ring directory, the storage directory and a few read-only
 * paths that enabled sources re-read remain reachable.
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
/* After no_new_privs: apply and close the ruleset (a no-op for -1). 0 or -errno. */
int capd_landlock_restrict(int ruleset);

#endif
