// SPDX-License-Identifier: MIT
/*
 * fuzz_parse.c - libFuzzer target for the size, time and duration parsers
 * (lib/parse.c), which read untrusted command-line and config text in every
 * rawcap tool. Beyond "no crash, no UB", it checks what a caller relies on:
 * an accepted size printed back in decimal parses to the same value, "+D"
 * and "-D" are now plus/minus the duration D (or a range error), and every
 * accepted absolute time formats to RFC 3339 text that parses back exactly
 * and, for RFC 3339 input, lies in the year it names (nothing wraps).
 *
 * Its corpus replay build links tests/fuzz/replay.c instead of libFuzzer.
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
	/* An accepted RFC 3339 time lands in its own year (an offset moves it by a day at most). */
	if (strlen(s) >= 10 && s[4] == '-' && abs(atoi(s) - atoi(buf)) > 1) {
		fprintf(stderr, "fuzz_parse: '%s' -> '%s': not the same year\n", s, buf);
		abort();
	}
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
