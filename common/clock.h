/* SPDX-License-Identifier: MIT */
/* clock.h - nanosecond clock reads shared by capd, the disk FIFO and librawcap. */
#ifndef RAWCAP_CLOCK_H
#define RAWCAP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_REALTIME for record timestamps, CLOCK_MONOTONIC for intervals. */
static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
