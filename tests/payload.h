/* SPDX-License-Identifier: MIT */
/*
 * payload.h - the self-checking payloads rawcap's tests and benchmarks write
 * and verify, one header for both kinds:
 *
 * rec_payload_*: ring record payloads (ring tests, stress test, benchmark).
 * A payload carries its record's sequence number, its own length and a hash
 * of the bytes after them. A reader that validated a record with
 * rawcap_rec_valid() and still finds a mismatch has read a torn record: the
 * one failure the ring protocol must make impossible.
 *
 * udp_payload_*: the UDP datagrams capd's tests send and verify: a magic, an
 * index, and a length and content derived from the index, so that a reader
 * can check every datagram byte for byte and exactly once.
 */
#ifndef RAWCAP_TEST_PAYLOAD_H
#define RAWCAP_TEST_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct rec_payload_hdr {
	uint64_t seq;
	uint32_t len;  /* whole payload, this header included */
	uint32_t hash; /* rec_payload_hash() of the bytes after this header */
};

#define REC_PAYLOAD_MIN ((uint32_t)sizeof(struct rec_payload_hdr))

static inline uint64_t rec_payload_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Word-at-a-time hash: cheap enough that readers keep up with the writer. */
static inline uint32_t rec_payload_hash(const uint8_t *p, uint32_t n)
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

/* Fill len bytes (len >= REC_PAYLOAD_MIN) for record seq. */
static inline void rec_payload_fill(void *buf, uint64_t seq, uint32_t len)
{
	struct rec_payload_hdr *ph = buf;
	uint8_t *body = (uint8_t *)buf + sizeof(*ph);
	uint32_t n = len - REC_PAYLOAD_MIN, i = 0;
	uint64_t x = seq * 0x2545f4914f6cdd1dull, w;

	for (; i + 8 <= n; i += 8) {
		w = rec_payload_mix(x + i);
		memcpy(body + i, &w, 8);
	}
	w = rec_payload_mix(x + i);
	memcpy(body + i, &w, n - i);
	ph->seq = seq;
	ph->len = len;
	ph->hash = rec_payload_hash(body, n);
}

/* True if the payload is the one rec_payload_fill() wrote for seq. */
static inline bool rec_payload_check(const void *buf, uint64_t seq, uint32_t len)
{
	struct rec_payload_hdr ph;

	if (len < REC_PAYLOAD_MIN)
		return false;
	memcpy(&ph, buf, sizeof(ph));
	return ph.seq == seq && ph.len == len &&
	       ph.hash ==
		       rec_payload_hash((const uint8_t *)buf + sizeof(ph), len - REC_PAYLOAD_MIN);
}

#define UDP_PAYLOAD_MAGIC 0x31504352u /* "RCP1" */
#define UDP_PAYLOAD_MIN	  16

static inline uint32_t udp_payload_len(uint32_t idx)
{
	return UDP_PAYLOAD_MIN + (idx * 7919u) % 1200u;
}

static inline uint8_t udp_payload_byte(uint32_t idx, uint32_t j)
{
	return (uint8_t)(idx * 31u + j * 7u + (idx >> 8));
}

static inline void udp_payload_fill(uint8_t *p, uint32_t idx)
{
	uint32_t len = udp_payload_len(idx), magic = UDP_PAYLOAD_MAGIC;

	memcpy(p, &magic, 4);
	memcpy(p + 4, &idx, 4);
	for (uint32_t j = 8; j < len; j++)
		p[j] = udp_payload_byte(idx, j);
}

/* 1 if p/len is exactly payload idx (returned in *idx), 0 if malformed, -1 if not ours. */
static inline int udp_payload_check(const uint8_t *p, uint32_t len, uint32_t *idx)
{
	uint32_t magic;

	if (len < 8)
		return -1;
	memcpy(&magic, p, 4);
	if (magic != UDP_PAYLOAD_MAGIC)
		return -1;
	memcpy(idx, p + 4, 4);
	if (len != udp_payload_len(*idx))
		return 0;
	for (uint32_t j = 8; j < len; j++)
		if (p[j] != udp_payload_byte(*idx, j))
			return 0;
	return 1;
}

#endif
