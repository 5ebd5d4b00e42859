/* SPDX-License-Identifier: MIT */
/*
 * ring_test.h - helpers shared by the ring's tests: a private shm directory
 * (RAWCAP_SHM_DIR) so tests never touch /dev/shm/rawcap-* of a running capd,
 * unique ring names, one-call record appends, and the cmocka group fixture
 * that sets the directory up and removes it.
 */
#ifndef RAWCAP_TEST_RING_TEST_H
#define RAWCAP_TEST_RING_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring_writer.h"

/* Point every ring at a fresh directory; returns its path (static storage). */
static inline const char *rt_shm_dir(void)
{
	static char dir[128];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/dev/shm/rawcap-test-%d-XXXXXX", (int)getpid());
		if (!mkdtemp(dir)) {
			perror("rt_shm_dir: mkdtemp");
			exit(1);
		}
		setenv("RAWCAP_SHM_DIR", dir, 1);
	}
	return dir;
}

/* Remove the directory and every ring in it. */
static inline void rt_shm_cleanup(void)
{
	const char *dir = getenv("RAWCAP_SHM_DIR");
	char cmd[256];

	if (dir && strstr(dir, "rawcap-test-")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "rt_shm_cleanup: could not remove %s\n", dir);
	}
}

/* cmocka group fixture: every test of the group uses the same private directory. */
static inline int rt_group_setup(void **state)
{
	(void)state;
	rt_shm_dir();
	return 0;
}

static inline int rt_group_teardown(void **state)
{
	(void)state;
	rt_shm_cleanup();
	return 0;
}

static inline const char *rt_name(const char *what)
{
	static char name[64];
	static int n;

	snprintf(name, sizeof(name), "%s-%d-%d", what, (int)getpid(), n++);
	return name;
}

/* Append one record whose payload is len bytes of `fill`; returns its payload. */
static inline void *rt_append(struct ring_writer *w, uint16_t type, uint64_t ts, uint32_t len,
			      uint8_t fill)
{
	void *p = ring_reserve(w, type, 0, ts, len);

	if (p)
		memset(p, fill, len);
	return p;
}

#endif
