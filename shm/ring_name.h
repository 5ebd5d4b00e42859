/* SPDX-License-Identifier: MIT */
/*
 * ring_name.h - map a ring name to its shm object path, refusing bad names.
 *
 * A ring named NAME is the POSIX shm object "/rawcap-NAME", which on Linux is
 * the file /dev/shm/rawcap-NAME. The writer needs the path (not shm_open) so
 * that it can build a new generation beside the old one and rename it into
 * place atomically. RAWCAP_SHM_DIR overrides /dev/shm (tests, containers).
 */
#ifndef RAWCAP_RING_NAME_H
#define RAWCAP_RING_NAME_H

#include <stddef.h>

#define RING_NAME_MAX 64
#define RING_PATH_MAX 256

/* 1 for a name of [A-Za-z0-9._-]{1,64} not starting with '.', else 0. */
int ring_name_valid(const char *name);

/* 0 and the path in buf, or -EINVAL for a name that is not [A-Za-z0-9._-]{1,64}. */
int ring_name_path(const char *name, char *buf, size_t len);

#endif
