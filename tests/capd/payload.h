/* SPDX-License-Identifier: MIT */
/*
 * payload.h - the UDP test payloads capd's tests send and verify: a magic,
 * an index and a length and content derived from the index, so that a
 * reader can check every datagram byte for byte and exactly once.
 */
#ifndef CAPD_TEST_PAYLOAD_H
#define CAPD_TEST_PAYLOAD_H

#include <stdint.h>
#include <string.h>

#define PAYLOAD_MAGIC 0x31504352u /* "RCP1" */
#define PAYLOAD_MIN   16

static inline uint32_t payload_len(uint32_t idx)
{
	return PAYLOAD_MIN + (idx * 7919u) % 1200u;
}

static inline uint8_t payload_byte(uint32_t idx, uint32_t j)
{
	return (uint8_t)(idx * 31u + j * 7u + (idx >> 8));
}

static inline void payload_fill(uint8_t *p, uint32_t idx)
{
	uint32_t len = payload_len(idx), magic = PAYLOAD_MAGIC;

	memcpy(p, &magic, 4);
	memcpy(p + 4, &idx, 4);
	for (uint32_t j = 8; j < len; j++)
		p[j] = payload_byte(idx, j);
}

/* 1 if p/len is exactly payload idx (returned in *idx), 0 if malformed, -1 if not ours. */
static inline int payload_check(const uint8_t *p, uint32_t len, uint32_t *idx)
{
	uint32_t magic;

	if (len < 8)
		return -1;
	memcpy(&magic, p, 4);
	if (magic != PAYLOAD_MAGIC)
		return -1;
	memcpy(idx, p + 4, 4);
	if (len != payload_len(*idx))
		return 0;
	for (uint32_t j = 8; j < len; j++)
		if (p[j] != payload_byte(*idx, j))
			return 0;
	return 1;
}

#endif
