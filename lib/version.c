// SPDX-License-Identifier: MIT
/* version.c - the library's version string, from CMake. */
#include <rawcap/rawcap.h>

const char *rawcap_version(void)
{
	return RAWCAP_VERSION_STRING;
}
