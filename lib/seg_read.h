/* SPDX-License-Identifier: MIT */
/*
 * seg_read.h - check and walk the disk FIFO's segments and blocks
 * (storage/seg_format.h). Pure parsing over bytes plus a few pread helpers:
 * used by the history reader, by the writer's recovery and by the fuzzer,
 * so every path that trusts a byte from disk goes through the same checks.
 */
#ifndef RAWCAP_SEG_READ_H
#define RAWCAP_SEG_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "../storage/seg_format.h"

/* 0 if h is a segment header we can read in a file of file_size bytes, else -EBADMSG/-EPROTO. */
int seg_hdr_check(const struct seg_hdr *h, uint64_t file_size);
void seg_hdr_seal(struct seg_hdr *h); /* set hdr_crc */

/* Does this block header claim (and checksum as) block blk_no of segment seg_no? */
bool seg_blk_hdr_ok(const struct seg_blk_hdr *b, uint64_t seg_no, uint32_t blk_no);
void seg_blk_hdr_seal(struct seg_blk_hdr *b); /* set hdr_crc (data_crc set by the caller) */

/*
 * Check a whole block (header + b->used bytes at blk): header, data CRC and
 * the record walk (lengths, types, sequence numbers matching the header and
 * increasing; a synthesised record shares its number with the next one).
 * 0 or -EBADMSG.
 */
int seg_blk_check(const void *blk, uint64_t seg_no, uint32_t blk_no);

/* Walk the records of a checked block: *off starts at 0; 1 and *rec, or 0 at the end. */
int seg_blk_rec(const void *blk, uint32_t *off, const struct rawcap_rec_hdr **rec);

/* Read and check a segment's header: 0, -EBADMSG, or -errno from the read. */
int seg_read_hdr(int fd, struct seg_hdr *out);
/* pread the header of block blk: 0 if valid for the segment, -EBADMSG if not, -ENODATA past EOF. */
int seg_read_blk_hdr(int fd, const struct seg_hdr *sh, uint32_t blk, struct seg_blk_hdr *out);
/*
 * pread block blk into buf (SEG_BLOCK_SIZE bytes) and check it whole:
 * 0, -EBADMSG (invalid or damaged), -ENODATA past EOF.
 */
int seg_read_blk(int fd, const struct seg_hdr *sh, uint32_t blk, void *buf);

/* Parse "seg-<16 hex>.rcs": 0 and the number, or -EINVAL. */
int seg_name_parse(const char *name, uint64_t *seg_no);

#endif
