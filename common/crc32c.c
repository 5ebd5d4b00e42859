// SPDX-License-Identifier: MIT
/*
 * crc32c.c - CRC-32C with the SSE4.2 crc32 instruction when the CPU has it
 * (checked once at run time), else a portable slice-by-8 table walk.
 *
 * One stream of crc32q is bound by the instruction's latency (3 cycles per
 * 8 bytes), while the CPU can start one per cycle. So long buffers are cut
 * into three adjacent pieces summed as three independent streams, and the
 * three CRCs are joined afterwards: the CRC register is linear over GF(2),
 * so crc(A || B) = shift(crc(A), len(B)) ^ crc(B, from 0), where shift feeds
 * len(B) zero bytes through the register. For the two fixed piece lengths
 * that shift is a precomputed 4 x 256 table (four lookups per join). The
 * method is the one of the Linux kernel's crc32c-pcl-intel and of Mark
 * Adler's crc32c.c; this is written from their descriptions.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "crc32c.h"

#define CRC32C_POLY  0x82f63b78u /* reversed Castagnoli polynomial */
#define CRC32C_LONG  8192u	 /* piece length of the three-stream loop for long buffers */
#define CRC32C_SHORT 256u	 /* ... and for what is left of them, or short ones */

static uint32_t crc32c_table[8][256];
static uint32_t crc32c_long_shift[4][256];  /* feeds CRC32C_LONG zero bytes */
static uint32_t crc32c_short_shift[4][256]; /* feeds CRC32C_SHORT zero bytes */
static bool crc32c_have_hw;
static bool crc32c_ready; /* set last by crc32c_init: saves a libc call per sum */
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

/* Multiply the 32x32 GF(2) matrix mat (column i = image of bit i) by vec. */
static uint32_t gf2_times(const uint32_t mat[32], uint32_t vec)
{
	uint32_t sum = 0;

	for (int i = 0; vec; i++, vec >>= 1)
		if (vec & 1)
			sum ^= mat[i];
	return sum;
}

static void gf2_product(uint32_t out[32], const uint32_t a[32], const uint32_t b[32])
{
	uint32_t t[32];

	for (int i = 0; i < 32; i++)
		t[i] = gf2_times(a, b[i]);
	memcpy(out, t, sizeof(t));
}

/* The table that applies the operator "feed n zero bytes" to a CRC register. */
static void crc32c_shift_table(uint32_t table[4][256], size_t n)
{
	uint32_t op[32], sq[32];

	sq[0] = CRC32C_POLY; /* one zero bit: shift right, fold bit 0 back in */
	for (int i = 1; i < 32; i++)
		sq[i] = 1u << (i - 1);
	for (int i = 0; i < 3; i++) /* 2^3 bits: one zero byte */
		gf2_product(sq, sq, sq);
	for (int i = 0; i < 32; i++) /* identity */
		op[i] = 1u << i;
	for (; n; n >>= 1) { /* op = byte operator ^ n, by squaring */
		if (n & 1)
			gf2_product(op, sq, op);
		gf2_product(sq, sq, sq);
	}
	for (int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++)
			table[k][b] = gf2_times(op, b << (8 * k));
}

static void crc32c_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc32c_table[k][n] = (crc32c_table[k - 1][n] >> 8) ^
					     crc32c_table[0][crc32c_table[k - 1][n] & 0xff];
	crc32c_shift_table(crc32c_long_shift, CRC32C_LONG);
	crc32c_shift_table(crc32c_short_shift, CRC32C_SHORT);
#if defined(__x86_64__)
	crc32c_have_hw = __builtin_cpu_supports("sse4.2");
#endif
	__atomic_store_n(&crc32c_ready, true, __ATOMIC_RELEASE);
}

static inline void crc32c_ensure_init(void)
{
	if (!__atomic_load_n(&crc32c_ready, __ATOMIC_ACQUIRE))
		pthread_once(&crc32c_once, crc32c_init);
}

static uint32_t crc32c_shift(const uint32_t table[4][256], uint32_t crc)
{
	return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^
	       table[3][crc >> 24];
}

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v ^= crc;
		crc = crc32c_table[7][v & 0xff] ^ crc32c_table[6][(v >> 8) & 0xff] ^
		      crc32c_table[5][(v >> 16) & 0xff] ^ crc32c_table[4][(v >> 24) & 0xff] ^
		      crc32c_table[3][(v >> 32) & 0xff] ^ crc32c_table[2][(v >> 40) & 0xff] ^
		      crc32c_table[1][(v >> 48) & 0xff] ^ crc32c_table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * Sum as many 3 * piece-byte runs as len holds, three streams at a time; p
 * is 8-byte aligned. Returns the bytes consumed.
 */
__attribute__((target("sse4.2"))) static size_t
crc32c_hw3(uint32_t *crc, const uint8_t *p, size_t len, size_t piece, const uint32_t shift[4][256])
{
	size_t done = 0;
	uint64_t c0 = *crc;

	for (; len - done >= 3 * piece; done += 3 * piece) {
		const uint8_t *q = p + done, *end = q + piece;
		uint64_t c1 = 0, c2 = 0;

		do {
			c0 = __builtin_ia32_crc32di(c0, load64(q));
			c1 = __builtin_ia32_crc32di(c1, load64(q + piece));
			c2 = __builtin_ia32_crc32di(c2, load64(q + 2 * piece));
			q += 8;
		} while (q < end);
		c0 = crc32c_shift(shift, (uint32_t)c0) ^ (uint32_t)c1;
		c0 = crc32c_shift(shift, (uint32_t)c0) ^ (uint32_t)c2;
	}
	*crc = (uint32_t)c0;
	return done;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
							    size_t len)
{
	uint64_t c;
	size_t n;

	while (len && ((uintptr_t)p & 7)) {
		crc = __builtin_ia32_crc32qi(crc, *p++);
		len--;
	}
	if (len >= 3 * CRC32C_SHORT) { /* short buffers go straight to the one stream */
		n = crc32c_hw3(&crc, p, len, CRC32C_LONG, crc32c_long_shift);
		n += crc32c_hw3(&crc, p + n, len - n, CRC32C_SHORT, crc32c_short_shift);
		p += n;
		len -= n;
	}
	c = crc;
	while (len >= 8) {
		c = __builtin_ia32_crc32di(c, load64(p));
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	crc32c_ensure_init();
	crc = ~crc;
#if defined(__x86_64__)
	if (crc32c_have_hw)
		return ~crc32c_hw(crc, buf, len);
#endif
	return ~crc32c_sw(crc, buf, len);
}

/* For the tests: force the portable path to check it against the hardware one. */
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	crc32c_ensure_init();
	return ~crc32c_sw(~crc, buf, len);
}
