/* SPDX-License-Identifier: MIT */
/*
 * landlock.h - capd's Landlock file-system confinement, applied after the
 * privilege drop: only the storage directory and the ring directory remain.
 */
#ifndef CAPD_LANDLOCK_H
#define CAPD_LANDLOCK_H

struct capd_ctx;

/*
 * Restrict capd's file access to its storage directory (if any) and the ring
 * directory (RAWCAP_SHM_DIR or /dev/shm). Needs no_new_privs. Returns 0 when
 * applied, 1 when the kernel has no Landlock (logged, not fatal), or a
 * negative errno.
 */
int capd_landlock_enter(const struct capd_ctx *ctx);

#endif
