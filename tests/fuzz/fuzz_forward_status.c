// SPDX-License-Identifier: MIT
/*
 * fuzz_forward_status.c - libFuzzer target for the forwarder's status file
 * parser (lib/forward_status.c), which rawcap-server runs on a file another
 * container writes. Input: the file's bytes, as rawcap_forward_status_load()
 * hands them over (at most RAWCAP_FORWARD_STATUS_MAX, no NUL). Beyond "no
 * crash, no UB": what is accepted, written back by the forwarder's own
 * formatter, parses to the same fields.
 *
 * Its corpus replay build links tests/fuzz/replay.c instead of libFuzzer
 * (ctest: fuzz_forward_status_corpus); scripts/fuzz.sh runs the libFuzzer build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forward_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct rawcap_forward_status *a, const struct rawcap_forward_status *b)
{
	return a->pid == b->pid && a->paused == b->paused && a->resume == b->resume &&
	       a->since_ns == b->since_ns && a->updated_ns == b->updated_ns &&
	       a->receivers == b->receivers && a->packets == b->packets && a->bytes == b->bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[RAWCAP_FORWARD_STATUS_MAX + 1], again[RAWCAP_FORWARD_STATUS_MAX];
	struct rawcap_forward_status st, back;

	if (size > RAWCAP_FORWARD_STATUS_MAX || memchr(data, '\0', size))
		return 0; /* refused before parsing */
	memcpy(text, data, size);
	text[size] = '\0';
	if (fwd_status_parse(text, &st))
		return 0;
	if (fwd_status_format(&st, again, sizeof(again)) < 0 || fwd_status_parse(again, &back) ||
	    !same(&st, &back))
		abort();
	return 0;
}
