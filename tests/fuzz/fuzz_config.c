// SPDX-License-Identifier: MIT
/*
 * fuzz_config.c - libFuzzer target for capd's config file parser
 * (capd/config.c, `key = value` lines, as a Helm ConfigMap delivers them):
 * capd reads it as root, before any privilege drop, so odd text must give a
 * clean error and never a crash. The input goes through
 * capd_config_parse_text(), the same line parser capd_config_load() uses for
 * --config; an accepted configuration must leave every string set and every
 * interface name shorter than IFNAMSIZ.
 *
 * Its corpus replay build links tests/fuzz/replay.c instead of libFuzzer.
 * (ctest: fuzz_config_corpus); scripts/fuzz.sh runs the libFuzzer build.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capd.h"

#define FUZZ_CONFIG_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* iface.c is not linked: the same rule, a glob character makes a pattern. */
bool capd_iface_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct capd_config cfg;

	if (size > FUZZ_CONFIG_MAX)
		size = FUZZ_CONFIG_MAX;
	memset(&cfg, 0, sizeof(cfg));
	if (capd_config_parse_text(&cfg, (const char *)data, size))
		return 0;
	if (!cfg.ring_name || !cfg.fanout || !cfg.user || !cfg.backend || !cfg.filter ||
	    cfg.n_ifaces > CAPD_MAX_IFACES)
		abort();
	for (unsigned i = 0; i < cfg.n_ifaces; i++)
		if (!cfg.ifaces[i][0] || strlen(cfg.ifaces[i]) >= IFNAMSIZ)
			abort();
	return 0;
}
