/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of the disk FIFO's blocks.
 * Shared by the segment writer, the segment checks (storage/) and librawcap.
 */
#ifndef RAWCAP_CRC32C_H
#define RAWCAP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) over len bytes; crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The table-driven path alone (tests compare it with the hardware path). */
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len);

#endif
