// SPDX-License-Identifier: MIT
/*
 * fuzz_crc32c.c - CRC-32C's three-stream hardware path against the portable
 * table walk on arbitrary bytes: the whole input summed at once by both, and
 * summed in two pieces split where the input's first two bytes say, must all
 * agree. Built as a libFuzzer target with -DRAWCAP_FUZZ=ON (clang), and as a
 * corpus replay (fuzz_crc32c_corpus) in every build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crc32c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split;
	uint32_t whole;

	if (size < 2)
		return 0;
	split = ((size_t)data[0] << 8 | data[1]) * 7 % (size - 1);
	data += 2;
	size -= 2;
	whole = crc32c(0, data, size);
	if (whole != crc32c_portable(0, data, size) ||
	    whole != crc32c(crc32c(0, data, split), data + split, size - split))
		abort();
	return 0;
}
