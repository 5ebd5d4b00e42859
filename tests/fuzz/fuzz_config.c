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
 * With FUZZ_CONFIG_MAIN the file also has a main that replays a corpus
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

#ifdef FUZZ_CONFIG_MAIN
static int replay_file(const char *path)
{
	static uint8_t in[FUZZ_CONFIG_MAX];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "fuzz_config: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	n = fread(in, 1, sizeof(in), f);
	fclose(f);
	LLVMFuzzerTestOneInput(in, n);
	return 0;
}

int main(int argc, char **argv)
{
	int err = 0, files = 0;

	for (int a = 1; a < argc; a++) {
		struct dirent **names;
		char path[4096];
		int n = scandir(argv[a], &names, NULL, alphasort);

		if (n < 0) {
			err |= replay_file(argv[a]);
			files++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (names[i]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[a], names[i]->d_name);
				err |= replay_file(path);
				files++;
			}
			free(names[i]);
		}
		free(names);
	}
	printf("fuzz_config: replayed %d inputs\n", files);
	return err || files == 0 ? 1 : 0;
}
#endif
