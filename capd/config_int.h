/* SPDX-License-Identifier: MIT */
/*
 * config_int.h - capd's option table and its setter (config.c), shared
 * with where the values come from (config_load.c).
 */
#ifndef RAWCAP_CAPD_CONFIG_INT_H
#define RAWCAP_CAPD_CONFIG_INT_H

#include "capd.h"
#include "opt.h"

/*
 * The dedicated identity capd drops to by default: uid and gid 64720, named
 * rawcap where scripts/run-capd.sh or the image created them. Not nobody:
 * other daemons share it, and whoever runs as capd's user owns the capture.
 */
#define CAPD_DEFAULT_ID "64720"

enum {
	OPT_RING_SIZE = 256,
	OPT_THREADS,
	OPT_FANOUT,
	OPT_BLOCK_SIZE,
	OPT_BLOCK_COUNT,
	OPT_DUP,
	OPT_STORAGE_SIZE,
	OPT_SYNC,
	OPT_STATS,
	OPT_STALL,
	OPT_BACKEND,
	OPT_K8S,
	OPT_PROC,
	OPT_SELFTEST,
	OPT_CAPTURE_SELF,
	OPT_SELF_UIDS,
};

/* Every option, for the command line, CAPD_<OPTION> and the config file alike. */
extern const struct opt capd_opts[];

/* --help's text. */
void capd_usage(void);
/* Set one option (by getopt code) from any origin; -EINVAL is said. */
int capd_config_set(struct capd_config *cfg, int code, const char *val, const char *origin);
/* Forget every option text kept so far (only with a fresh configuration). */
void capd_config_arena_reset(void);

#endif
