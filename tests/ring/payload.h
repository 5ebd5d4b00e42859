/* SPDX-License-Identifier: MIT */
/*
 * payload.h - self-checking record payloads for the ring stress test and
 * benchmark.
 *
 * A payload carries its record's sequence number, its own length and a hash
 * of the bytes after them. A reader that validated a record with
 * rawcap_rec_valid() and still finds a mismatch has read a torn record: the
 * one failure the ring protocol must make impossible.
 */
#ifndef RAWCAP_TEST_PAYLOAD_H
#define RAWCAP_TEST_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct payload_hdr {
	uint64_t seq;
	uint32_t len;  /* whole payload, this header included */
	uint32_t hash; /* payload_hash() of the bytes after this header */
};

#define PAYLOAD_MIN ((uint32_t)sizeof(struct payload_hdr))

static inline uint64_t payload_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Word-at-a-time hash: cheap enough that readers keep up with the writer. */
static inline uint32_t payload_hash(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n, w;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

/* Fill len bytes (len >= PAYLOAD_MIN) for record seq. */
static inline void payload_fill(void *buf, uint64_t seq, uint32_t len)
{
	struct payload_hdr *ph = buf;
	uint8_t *body = (uint8_t *)buf + sizeof(*ph);
	uint32_t n = len - PAYLOAD_MIN, i = 0;
	uint64_t x = seq * 0x2545f4914f6cdd1dull, w;

	for (; i + 8 <= n; i += 8) {
		w = payload_mix(x + i);
		memcpy(body + i, &w, 8);
	}
	w = payload_mix(x + i);
	memcpy(body + i, &w, n - i);
	ph->seq = seq;
	ph->len = len;
	ph->hash = payload_hash(body, n);
}

/* True if the payload is the one payload_fill() wrote for seq. */
static inline bool payload_check(const void *buf, uint64_t seq, uint32_t len)
{
	struct payload_hdr ph;

	if (len < PAYLOAD_MIN)
		return false;
	memcpy(&ph, buf, sizeof(ph));
	return ph.seq == seq && ph.len == len &&
	       ph.hash == payload_hash((const uint8_t *)buf + sizeof(ph), len - PAYLOAD_MIN);
}

#endif
