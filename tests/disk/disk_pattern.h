/* SPDX-License-Identifier: MIT */
/*
 * disk_pattern.h - the deterministic records the disk FIFO tests write and
 * check: a packet record whose length and bytes follow from its sequence
 * number, so a reader can prove each record it gets back is intact.
 */
#ifndef RAWCAP_DISK_PATTERN_H
#define RAWCAP_DISK_PATTERN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rawcap/format.h>

static inline uint32_t disk_pat_caplen(uint64_t seq, uint32_t max)
{
	uint32_t min = max < 60 ? max : 60;

	return min + (uint32_t)((seq * 7919u) % (max - min + 1));
}

/* Fill a packet payload (struct rawcap_pkt + caplen bytes) for seq. */
static inline void disk_pat_fill(void *payload, uint64_t seq, uint32_t caplen)
{
	struct rawcap_pkt *pk = payload;
	uint8_t *d = (uint8_t *)(pk + 1);

	memset(pk, 0, sizeof(*pk));
	pk->ifindex = 1;
	pk->orig_len = caplen;
	pk->linktype = 1;
	for (uint32_t i = 0; i < caplen; i++)
		d[i] = (uint8_t)(seq * 131u + i);
}

static inline bool disk_pat_check(const void *payload, uint32_t len, uint64_t seq)
{
	const struct rawcap_pkt *pk = payload;
	const uint8_t *d = (const uint8_t *)(pk + 1);
	uint32_t caplen;

	if (len < sizeof(*pk))
		return false;
	caplen = len - (uint32_t)sizeof(*pk);
	if (pk->ifindex != 1 || pk->orig_len != caplen || pk->linktype != 1)
		return false;
	for (uint32_t i = 0; i < caplen; i++)
		if (d[i] != (uint8_t)(seq * 131u + i))
			return false;
	return true;
}

#endif
