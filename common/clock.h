/* SPDX-License-Identifier: MIT */
/*
 * clock.h - nanosecond clock reads shared by every layer: capd, the disk
 * FIFO, librawcap and the HTTP listeners. Use these rather than a private
 * clock_gettime() wrapper.
 */
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

/* CLOCK_MONOTONIC in nanoseconds: deadlines, intervals, rate limits. */
static inline uint64_t clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CLOCK_MONOTONIC in milliseconds, for poll() timeouts and the like. */
static inline uint64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* CLOCK_MONOTONIC in seconds, for rates and progress reports. */
static inline double clock_mono_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}

/* CLOCK_REALTIME in nanoseconds since the epoch: record timestamps. */
static inline uint64_t clock_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

#endif
