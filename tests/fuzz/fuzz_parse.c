// SPDX-License-Identifier: MIT
/*
 * fuzz_parse.c - libFuzzer target for the size, time and duration parsers
 * (lib/parse.c), which read untrusted command-line and config text in every
 * rawcap tool. Beyond "no crash, no UB", it checks what a caller relies on:
 * an accepted size printed back in decimal parses to the same value, "+D"
 * and "-D" are now plus/minus the duration D (or a range error), and every
 * accepted absolute time formats to RFC 3339 text that parses back exactly.
 *
 * With FUZZ_PARSE_MAIN the file also has a main that replays a corpus
 * (ctest: fuzz_parse_corpus); scripts/fuzz.sh runs the libFuzzer build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/rawcap.h>

#define FUZZ_PARSE_MAX 256
#define FUZZ_NOW_NS    1764000000123456789ull /* a fixed "now": runs are reproducible */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_size(const char *s)
{
	uint64_t v, back;
	char buf[32];

	if (rawcap_parse_size(s, &v))
		return;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	if (rawcap_parse_size(buf, &back) || back != v)
		abort();
}

static void check_duration(const char *s)
{
	char rel[FUZZ_PARSE_MAX + 2];
	uint64_t d, t;
	int err;

	if (rawcap_parse_duration(s, &d))
		return;
	snprintf(rel, sizeof(rel), "+%s", s);
	err = rawcap_parse_time(rel, FUZZ_NOW_NS, &t);
	if (err ? err != -ERANGE || d <= UINT64_MAX - FUZZ_NOW_NS : t != FUZZ_NOW_NS + d)
		abort();
	rel[0] = '-';
	err = rawcap_parse_time(rel, FUZZ_NOW_NS, &t);
	if (err ? err != -ERANGE || d <= FUZZ_NOW_NS : t != FUZZ_NOW_NS - d)
		abort();
}

static void check_time(const char *s)
{
	char buf[64];
	uint64_t t, back;

	if (rawcap_parse_time(s, FUZZ_NOW_NS, &t))
		return;
	rawcap_format_time(t, buf, sizeof(buf));
	/* Years past 9999 do not fit RFC 3339; those need not round-trip. */
	if (strlen(buf) != 30)
		return;
	if (rawcap_parse_time(buf, FUZZ_NOW_NS, &back) || back != t) {
		fprintf(stderr, "fuzz_parse: '%s' -> %llu -> '%s' does not round-trip\n", s,
			(unsigned long long)t, buf);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_PARSE_MAX + 1];

	if (size > FUZZ_PARSE_MAX)
		size = FUZZ_PARSE_MAX;
	memcpy(s, data, size);
	s[size] = 0;
	check_size(s);
	check_duration(s);
	check_time(s);
	return 0;
}

#ifdef FUZZ_PARSE_MAIN
static int replay_file(const char *path)
{
	uint8_t in[FUZZ_PARSE_MAX];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "fuzz_parse: open %s: %s\n", path, strerror(errno));
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
	printf("fuzz_parse: replayed %d inputs\n", files);
	return err || files == 0 ? 1 : 0;
}
#endif
