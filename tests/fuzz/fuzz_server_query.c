// SPDX-License-Identifier: MIT
/*
 * fuzz_server_query.c - libFuzzer target for rawcap-server's query parser
 * (server/query.c), which reads every GET /v1/pcap query string from the
 * network. The input is a query string, split at '&' and the first '=' as
 * MHD hands it over. Beyond "no crash, no UB, no leak": an accepted query
 * gives a window [from, to) with from < to, and a refusal always says why
 * (the 400's detail is never empty).
 *
 * Its corpus replay build links tests/fuzz/replay.c instead of libFuzzer
 * (ctest: fuzz_server_query_corpus); scripts/fuzz.sh runs the libFuzzer build.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

#define FUZZ_QUERY_MAX 4096
#define FUZZ_NOW_NS    1764000000123456789ull /* a fixed "now": runs are reproducible */
#define FUZZ_OLDEST_NS 1763999000000000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each "key=value" (or "key") of the &-separated string s, in order. */
static int fuzz_args(struct server_query *q, char *s)
{
	for (char *arg = strtok(s, "&"); arg; arg = strtok(NULL, "&")) {
		char *eq = strchr(arg, '=');
		int err;

		if (eq)
			*eq = '\0';
		err = server_query_arg(q, arg, eq ? eq + 1 : NULL);
		if (err)
			return err;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_query q;
	char s[FUZZ_QUERY_MAX + 1];
	int err;

	if (size > FUZZ_QUERY_MAX || memchr(data, '\0', size))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (server_query_init(&q, FUZZ_NOW_NS))
		return 0;
	err = fuzz_args(&q, s);
	if (!err)
		err = server_query_finish(&q, FUZZ_OLDEST_NS);
	if (err == -EINVAL && !q.detail[0])
		abort();
	if (!err && q.from_ns >= q.to_ns)
		abort();
	server_query_free(&q);
	return 0;
}
