// SPDX-License-Identifier: MIT
/*
 * test_crc32c.c - CRC-32C (common/crc32c.c): the published check vectors,
 * and the three-stream hardware path against a bit-at-a-time reference and
 * the portable table walk on every length around the piece boundaries, at
 * every alignment, on random lengths, and summed in random pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"

#define BUF_LEN (3 * 3 * 8192 + 3 * 256 + 4096)

static uint8_t buf[BUF_LEN + 16];

/* The definition itself, one bit at a time: independent of both paths. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static void fill_random(unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
}

static void check(const uint8_t *p, size_t len)
{
	uint32_t want = crc32c_bitwise(0, p, len);

	assert_int_equal(crc32c(0, p, len), want);
	assert_int_equal(crc32c_portable(0, p, len), want);
}

static void should_match_the_published_vectors(void **state)
{
	static const char check_str[] = "123456789";
	uint8_t v[32];

	(void)state;
	assert_int_equal(crc32c(0, check_str, 9), 0xe3069283);
	assert_int_equal(crc32c_portable(0, check_str, 9), 0xe3069283);
	assert_int_equal(crc32c(0, v, 0), 0);
	/* RFC 3720 (iSCSI), appendix B.4 */
	memset(v, 0, sizeof(v));
	assert_int_equal(crc32c(0, v, sizeof(v)), 0x8a9136aa);
	memset(v, 0xff, sizeof(v));
	assert_int_equal(crc32c(0, v, sizeof(v)), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		v[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, v, sizeof(v)), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		v[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(0, v, sizeof(v)), 0x113fdb5c);
}

static void should_agree_around_every_piece_boundary(void **state)
{
	/* Where the three-stream loops start, end and hand over to the tail. */
	static const size_t around[] = {
		0, 8, 768, 3 * 8192, 3 * 8192 + 768, 2 * 3 * 8192, 3 * 3 * 8192 + 3 * 256};

	(void)state;
	fill_random(1);
	for (size_t a = 0; a < sizeof(around) / sizeof(around[0]); a++)
		for (size_t off = 0; off < 8; off++)
			for (size_t d = 0; d < 18; d++) {
				size_t len = around[a] + d >= 9 ? around[a] + d - 9 : 0;

				check(buf + off, len);
			}
}

static void should_agree_on_random_lengths_and_alignments(void **state)
{
	(void)state;
	fill_random(2);
	srand(3);
	for (int i = 0; i < 300; i++) {
		size_t off = (size_t)rand() % 16, len = (size_t)rand() % BUF_LEN;

		check(buf + off, len);
	}
}

static void should_sum_in_pieces_as_in_one(void **state)
{
	(void)state;
	fill_random(4);
	srand(5);
	for (int i = 0; i < 100; i++) {
		size_t len = (size_t)rand() % BUF_LEN, done = 0;
		uint32_t crc = 0;

		while (done < len) {
			size_t n = (size_t)rand() % (len - done + 1);

			crc = crc32c(crc, buf + done, n);
			done += n;
		}
		assert_int_equal(crc, crc32c(0, buf, len));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_match_the_published_vectors),
		cmocka_unit_test(should_agree_around_every_piece_boundary),
		cmocka_unit_test(should_agree_on_random_lengths_and_alignments),
		cmocka_unit_test(should_sum_in_pieces_as_in_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
