// SPDX-License-Identifier: MIT
/* ring_name.c - ring name validation and shm path construction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_name.h"

int ring_name_valid(const char *name)
{
	size_t n = strnlen(name, RING_NAME_MAX + 1);

	if (n == 0 || n > RING_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int ring_name_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("RAWCAP_SHM_DIR");
	int n;

	if (!name || !ring_name_valid(name))
		return -EINVAL;
	if (!dir || !*dir)
		dir = "/dev/shm";
	n = snprintf(buf, len, "%s/rawcap-%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
