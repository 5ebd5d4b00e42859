/* SPDX-License-Identifier: MIT */
/*
 * seg_format.h - the on-disk layout of the disk FIFO and of snapshots.
 *
 * A storage directory holds segment files named seg-<16 hex digits>.rcs,
 * the digits being the segment number (never reused, grows by one per new
 * segment). A segment file is a 4 KiB header followed by nblocks blocks of
 * SEG_BLOCK_SIZE bytes. A block is a 64-byte header followed by whole
 * records framed exactly as in the ring (<rawcap/format.h>, 8-byte aligned,
 * pads never stored). A block is written with one aligned write of its
 * header plus used bytes rounded up to SEG_IO_ALIGN, so O_DIRECT works.
 *
 * The block headers are the segment's time index: they sit at fixed offsets
 * and carry the first sequence number and the stream's timestamp high-water
 * mark, so a reader binary-searches them with pread (see lib/history_seek.c).
 * A block is valid only if its header names this segment and block number
 * and both checksums (header, data) match: a recycled file's stale blocks
 * carry the old segment number, a torn or damaged block fails its CRC.
 *
 * Bump SEG_VERSION on any change below.
 */
#ifndef RAWCAP_SEG_FORMAT_H
#define RAWCAP_SEG_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <rawcap/format.h>

#define SEG_MAGIC      0x0147455343520a52ull /* "R\nRCSEG\1" little-endian */
#define SEG_BLK_MAGIC  0x014b4c4243520a52ull /* "R\nRCBLK\1" */
#define SEG_VERSION    1
#define SEG_HDR_SIZE   4096u
#define SEG_IO_ALIGN   4096u	      /* O_DIRECT granularity we write in */
#define SEG_BLOCK_SIZE (512u * 1024u) /* holds the largest record (RAWCAP_REC_MAX) */
#define SEG_MIN_BLOCKS 2u
#define SEG_MAX_BLOCKS 4096u /* 2 GiB segments at most */
#define SEG_NAME_FMT   "seg-%016llx.rcs"
#define SEG_NAME_LEN   24 /* strlen("seg-0123456789abcdef.rcs") */

/* seg_hdr.flags */
enum seg_flags {
	SEG_F_FIFO = 1 << 0,	 /* part of a disk FIFO (recycled when full) */
	SEG_F_SNAPSHOT = 1 << 1, /* part of a snapshot (never rewritten) */
};

struct seg_hdr {
	uint64_t magic;	      /* SEG_MAGIC */
	uint32_t version;     /* SEG_VERSION */
	uint32_t hdr_size;    /* SEG_HDR_SIZE */
	uint32_t block_size;  /* SEG_BLOCK_SIZE */
	uint32_t nblocks;     /* blocks after the header */
	uint64_t seg_no;      /* equals the number in the file name */
	uint64_t writer_gen;  /* writer run that started this segment (CLOCK_REALTIME ns) */
	uint64_t first_seq;   /* sequence number of the first record written here */
	uint64_t prev_ts_hwm; /* max timestamp of every record before this segment */
	uint64_t created_ns;  /* CLOCK_REALTIME */
	uint32_t flags;	      /* enum seg_flags */
	uint32_t hdr_crc;     /* crc32c of the bytes before this field */
	uint8_t reserved[56];
};
_Static_assert(offsetof(struct seg_hdr, seg_no) == 24, "seg_no at 24");
_Static_assert(offsetof(struct seg_hdr, hdr_crc) == 68, "hdr_crc at 68");
_Static_assert(sizeof(struct seg_hdr) == 128, "segment header is 128 bytes");
_Static_assert(sizeof(struct seg_hdr) <= SEG_HDR_SIZE, "segment header fits its page");

struct seg_blk_hdr {
	uint64_t magic;	    /* SEG_BLK_MAGIC */
	uint64_t seg_no;    /* segment this block was written for */
	uint32_t blk_no;    /* index of the block in its segment */
	uint32_t nrec;	    /* records in the block, >= 1 */
	uint32_t used;	    /* bytes of records after the header (sum of spans) */
	uint32_t data_crc;  /* crc32c of those bytes */
	uint64_t first_seq; /* sequence number of the first record */
	uint64_t last_seq;  /* sequence number of the last record */
	uint64_t ts_hwm;    /* max timestamp of every record up to the end of this block */
	uint32_t flags;	    /* reserved, 0 */
	uint32_t hdr_crc;   /* crc32c of the bytes before this field */
};
_Static_assert(offsetof(struct seg_blk_hdr, first_seq) == 32, "first_seq at 32");
_Static_assert(offsetof(struct seg_blk_hdr, hdr_crc) == 60, "hdr_crc at 60");
_Static_assert(sizeof(struct seg_blk_hdr) == 64, "block header is 64 bytes");

#define SEG_BLK_CAP (SEG_BLOCK_SIZE - (uint32_t)sizeof(struct seg_blk_hdr))
_Static_assert(SEG_BLK_CAP >= RAWCAP_REC_MAX, "a block holds the largest record");
_Static_assert(SEG_BLOCK_SIZE % SEG_IO_ALIGN == 0, "blocks are O_DIRECT aligned");
_Static_assert(SEG_HDR_SIZE % SEG_IO_ALIGN == 0, "blocks start O_DIRECT aligned");

static inline uint64_t seg_blk_off(uint32_t blk_no)
{
	return SEG_HDR_SIZE + (uint64_t)blk_no * SEG_BLOCK_SIZE;
}

static inline uint64_t seg_file_size(uint32_t nblocks)
{
	return seg_blk_off(nblocks);
}

#endif /* RAWCAP_SEG_FORMAT_H */
