/* SPDX-License-Identifier: MIT */
/*
 * blocks.h - build pcapng blocks by hand, in either byte order, for the
 * reader's and the merge's unit tests: what a well-behaved writer sends and
 * what a broken or hostile one might.
 */
#ifndef RAWCAP_TESTS_KUBECTL_BLOCKS_H
#define RAWCAP_TESTS_KUBECTL_BLOCKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <byteswap.h>

struct blk {
	uint8_t buf[1 << 20];
	size_t len;
	bool be; /* write big-endian */
};

static inline void blk_raw(struct blk *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static inline void blk_u16(struct blk *b, uint16_t v)
{
	v = b->be ? bswap_16(v) : v;
	blk_raw(b, &v, 2);
}

static inline void blk_u32(struct blk *b, uint32_t v)
{
	v = b->be ? bswap_32(v) : v;
	blk_raw(b, &v, 4);
}

static inline void blk_u64(struct blk *b, uint64_t v)
{
	v = b->be ? bswap_64(v) : v;
	blk_raw(b, &v, 8);
}

static inline void blk_pad(struct blk *b)
{
	while (b->len % 4)
		b->buf[b->len++] = 0;
}

/* Start a block: returns its offset; blk_end() writes both lengths. */
static inline size_t blk_start(struct blk *b, uint32_t type)
{
	size_t at = b->len;

	blk_u32(b, type);
	blk_u32(b, 0);
	return at;
}

static inline void blk_end(struct blk *b, size_t at)
{
	uint32_t total = (uint32_t)(b->len - at + 4), v = b->be ? bswap_32(total) : total;

	memcpy(b->buf + at + 4, &v, 4);
	blk_u32(b, total);
}

static inline void blk_opt(struct blk *b, uint16_t code, const void *v, uint16_t len)
{
	blk_u16(b, code);
	blk_u16(b, len);
	blk_raw(b, v, len);
	blk_pad(b);
}

static inline void blk_opt_end(struct blk *b)
{
	blk_u32(b, 0);
}

static inline void blk_shb(struct blk *b)
{
	size_t at = blk_start(b, 0x0A0D0D0A);

	blk_u32(b, 0x1A2B3C4D);
	blk_u16(b, 1);
	blk_u16(b, 0);
	blk_u64(b, UINT64_MAX);
	blk_end(b, at);
}

/* tsresol 0xff: leave if_tsresol out (microseconds). */
static inline void blk_idb(struct blk *b, uint16_t lt, const char *name, uint8_t tsresol)
{
	size_t at = blk_start(b, 1);

	blk_u16(b, lt);
	blk_u16(b, 0);
	blk_u32(b, 262144);
	if (name)
		blk_opt(b, 2, name, (uint16_t)strlen(name));
	if (tsresol != 0xff)
		blk_opt(b, 9, &tsresol, 1);
	blk_opt_end(b);
	blk_end(b, at);
}

/* An enhanced packet block: data of len bytes, flags (0: none), drops (0: none), comment. */
static inline void blk_epb(struct blk *b, uint32_t if_id, uint64_t ts, const void *data,
			   uint32_t len, uint32_t flags, uint64_t drops, const char *comment)
{
	size_t at = blk_start(b, 6);

	blk_u32(b, if_id);
	blk_u32(b, (uint32_t)(ts >> 32));
	blk_u32(b, (uint32_t)ts);
	blk_u32(b, len);
	blk_u32(b, len + 10);
	blk_raw(b, data, len);
	blk_pad(b);
	if (flags) {
		uint32_t f = b->be ? bswap_32(flags) : flags;

		blk_opt(b, 2, &f, 4);
	}
	if (drops) {
		uint64_t d = b->be ? bswap_64(drops) : drops;

		blk_opt(b, 4, &d, 8);
	}
	if (comment)
		blk_opt(b, 1, comment, (uint16_t)strlen(comment));
	if (flags || drops || comment)
		blk_opt_end(b);
	blk_end(b, at);
}

static inline void blk_isb(struct blk *b, uint32_t if_id, uint64_t ifdrop)
{
	size_t at = blk_start(b, 5);
	uint64_t d = b->be ? bswap_64(ifdrop) : ifdrop;

	blk_u32(b, if_id);
	blk_u32(b, 0);
	blk_u32(b, 0);
	blk_opt(b, 5, &d, 8);
	blk_opt_end(b);
	blk_end(b, at);
}

#endif
