// SPDX-License-Identifier: MIT
/*
 * stress_writer.c - the writer side of the ring stress test: N records of
 * random sizes with self-checking payloads (payload.h), published in random
 * batches with a wake per batch, as capd would. Some records are reserved
 * larger and shrunk, as capd does with packets of unknown length.
 *
 * usage: stress_writer RING RECORDS SEED
 * stdout: "ready", then after "go" on stdin and the last record: "done END_SEQ".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "ring_writer.h"
#include "stress.h"

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mostly small records, now and then a large one: what a capture looks like. */
static uint32_t pick_len(uint64_t *s)
{
	uint64_t r = rng_next(s);

	if ((r & 63) == 0)
		return REC_PAYLOAD_MIN + (uint32_t)(r >> 8) % 4096;
	return REC_PAYLOAD_MIN + (uint32_t)(r >> 8) % 240;
}

int main(int argc, char **argv)
{
	struct ring_writer_opts o = {.data_size = STRESS_RING_SIZE, .gid = (gid_t)-1};
	struct ring_writer w;
	uint64_t n, s, seq = 0;
	char line[16];
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: stress_writer RING RECORDS SEED\n");
		return 2;
	}
	o.name = argv[1];
	n = strtoull(argv[2], NULL, 0);
	s = strtoull(argv[3], NULL, 0) | 1;
	err = ring_writer_create(&w, &o);
	if (err) {
		fprintf(stderr, "stress_writer: create ring %s: %s\n", o.name, strerror(-err));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || strcmp(line, "go\n")) {
		fprintf(stderr, "stress_writer: no go\n");
		return 1;
	}
	while (seq < n) {
		unsigned batch = 1 + (unsigned)(rng_next(&s) % 64);

		for (; batch && seq < n; batch--, seq++) {
			uint32_t len = pick_len(&s), extra = (rng_next(&s) & 7) == 0 ? 512 : 0;
			void *p = ring_reserve(&w, RAWCAP_REC_PACKET, 0, seq, len + extra);

			if (!p) {
				fprintf(stderr, "stress_writer: reserve %u failed\n", len + extra);
				return 1;
			}
			rec_payload_fill(p, seq, len);
			if (extra)
				ring_shrink_last(&w, p, len);
		}
		ring_publish(&w);
		ring_notify(&w);
	}
	rec_payload_fill(ring_reserve(&w, RAWCAP_REC_META, STRESS_END_FLAGS, seq, 64), seq, 64);
	ring_publish(&w);
	ring_notify(&w);
	printf("done %llu\n", (unsigned long long)seq);
	fflush(stdout);
	ring_writer_close(&w);
	return 0;
}
