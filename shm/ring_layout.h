/* SPDX-License-Identifier: MIT */
/*
 * ring_layout.h - the shared-memory layout of one rawcap ring.
 *
 * One POSIX shm object per ring: a header page, the time index, the
 * interface table, then a power-of-two data area holding records framed as
 * in <rawcap/format.h>. There is exactly one writer (capd); readers map the
 * object read-only and never write a byte of it, so everything a reader needs
 * to coordinate with the writer is published here by the writer alone.
 *
 * Positions are 64-bit byte offsets into an infinite stream that never wraps;
 * `pos & (data_size - 1)` is the offset into the data area. The writer keeps
 *	tail <= every readable record < head
 * and publishes tail before it overwrites and head after it writes. See
 * docs/ARCHITECTURE.md, "Memory ordering", for the full argument.
 *
 * Bump RING_LAYOUT_VERSION on any change below.
 */
#ifndef RAWCAP_RING_LAYOUT_H
#define RAWCAP_RING_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

#include <rawcap/format.h>

#define RING_MAGIC	    0x31474e49525752ull /* "RWRING1" little-endian */
#define RING_LAYOUT_VERSION 1
#define RING_CACHELINE	    128 /* two lines: defeats the adjacent-line prefetcher */
#define RING_HDR_SIZE	    4096
#define RING_DATA_MIN	    (64u * 1024u)
#define RING_DATA_MAX	    (1ull << 40)
#define RING_IFACE_SLOTS    256
#define RING_INDEX_MAX_SHIFT 14 /* at most 16384 index entries */
#define RING_INDEX_MIN_CHUNK_SHIFT 12
#define RING_POS_INVALID    UINT64_MAX

/* ring_hdr.state */
enum ring_state {
	RING_STATE_LIVE = 0,
	RING_STATE_RETIRED = 1, /* a newer capd replaced this object: reopen by name */
	RING_STATE_STOPPED = 2, /* the writer exited cleanly; a restart continues this object */
};

/* Writer statistics, updated once per published batch (relaxed stores). */
enum ring_counter {
	RING_CNT_RECORDS,      /* records written, pads excluded */
	RING_CNT_BYTES,	       /* record bytes written, pads excluded */
	RING_CNT_PACKETS,      /* packet records */
	RING_CNT_PKT_BYTES,    /* original packet bytes */
	RING_CNT_WRAPS,	       /* pad records written at the end of the area */
	RING_CNT_LOSS_BASE,    /* + enum rawcap_loss_cause: units lost by cause */
	RING_CNT_NR = RING_CNT_LOSS_BASE + 16,
};

struct ring_hdr {
	/* Line 0: written once at creation, before the object is published. */
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;    /* RING_HDR_SIZE */
	uint64_t total_size;  /* size of the whole shm object */
	uint64_t data_off;    /* offset of the data area, page aligned */
	uint64_t data_size;   /* power of two */
	uint64_t generation;  /* changes on every (re)creation by a writer */
	uint64_t created_ns;  /* CLOCK_REALTIME */
	uint64_t index_off;   /* struct ring_index_ent[index_entries] */
	uint32_t index_entries;
	uint32_t index_shift; /* chunk = 1 << index_shift bytes of position */
	uint64_t iface_off;   /* struct ring_iface_slot[RING_IFACE_SLOTS] */
	uint64_t base_seq;    /* first sequence number of this generation */
	uint32_t writer_pid;
	uint32_t max_record;  /* largest record the writer will write */
	uint8_t pad0[RING_CACHELINE - 96];

	/* Line 1: end of the last committed record (store-release by the writer). */
	_Atomic uint64_t head;
	uint8_t pad1[RING_CACHELINE - 8];

	/* Line 2: oldest position still intact (store + release fence before overwrite). */
	_Atomic uint64_t tail;
	uint8_t pad2[RING_CACHELINE - 8];

	/* Line 3: futex word bumped after each published batch; lifecycle state. */
	_Atomic uint32_t wake_seq;
	_Atomic uint32_t state; /* enum ring_state */
	uint8_t pad3[RING_CACHELINE - 8];

	/* Line 4+: writer statistics for rawcap-stat and metrics. */
	_Atomic uint64_t next_seq;     /* sequence number the next record gets */
	_Atomic uint64_t newest_ts_ns; /* timestamp of the newest record */
	_Atomic uint64_t heartbeat_ns; /* CLOCK_REALTIME, refreshed at least every second */
	_Atomic uint64_t counters[RING_CNT_NR];
	_Atomic uint64_t heartbeat_mono_ns; /* CLOCK_MONOTONIC at the same moment; 0: unknown */
	uint8_t pad4[RING_CACHELINE * 3 - 32 - 8 * RING_CNT_NR];
};

_Static_assert(offsetof(struct ring_hdr, head) == 1 * RING_CACHELINE, "head on line 1");
_Static_assert(offsetof(struct ring_hdr, tail) == 2 * RING_CACHELINE, "tail on line 2");
_Static_assert(offsetof(struct ring_hdr, wake_seq) == 3 * RING_CACHELINE, "wake on line 3");
_Static_assert(offsetof(struct ring_hdr, next_seq) == 4 * RING_CACHELINE, "stats on line 4");
_Static_assert(sizeof(struct ring_hdr) == 7 * RING_CACHELINE, "header is 7 lines");
_Static_assert(sizeof(struct ring_hdr) <= RING_HDR_SIZE, "header fits its page");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "lock-free 64-bit atomics");

/*
 * Coarse time index: one entry per chunk of position space, describing the
 * first non-pad record that starts in that chunk. Entry for chunk c lives at
 * slot c & (index_entries - 1) and is valid only if pos >> index_shift == c.
 * Written seqlock-style: pos is invalidated, the fields written, pos set.
 */
struct ring_index_ent {
	_Atomic uint64_t pos;	 /* record position, or RING_POS_INVALID while written */
	_Atomic uint64_t ts_hwm; /* max timestamp of all records up to and including it */
	_Atomic uint64_t seq;	 /* its sequence number */
	_Atomic uint64_t ts;	 /* its own timestamp */
};
_Static_assert(sizeof(struct ring_index_ent) == 32, "index entry is 32 bytes");
/*
 * Where the header page continues after struct ring_hdr: the disk FIFO
 * directory capd writes (--storage), so readers find history without being
 * told. Set by each writer when it takes the ring, before it goes live. The
 * page is zero in objects whose writer predates the field (shm objects
 * start zeroed), which reads as "no disk FIFO": older readers ignore it and
 * newer readers of older rings find nothing, so no layout version changes.
 * A reader trusts the path only as far as the ring's own checks, and opens
 * it with the same checks as a given --storage (owner root or storage_uid).
 */
#define RING_STORAGE_OFF 1024
#define RING_STORAGE_MAX 1024 /* bytes of the path, NUL included */
struct ring_storage {
	uint32_t uid; /* the directory's owner besides root */
	uint32_t len; /* strlen(dir); 0: no disk FIFO */
	char dir[RING_STORAGE_MAX];
};
_Static_assert(sizeof(struct ring_hdr) <= RING_STORAGE_OFF, "storage after the header");
_Static_assert(RING_STORAGE_OFF + sizeof(struct ring_storage) <= RING_HDR_SIZE,
	       "storage within the header page");

/* Interface table, so readers can describe an interface whose IFACE record was overwritten. */
struct ring_iface_slot {
	_Atomic uint32_t seq; /* seqlock: odd while the writer updates the slot */
	uint32_t used;
	struct rawcap_iface iface;
};
_Static_assert(sizeof(struct ring_iface_slot) == 312, "interface slot is 312 bytes");

static inline uint64_t ring_layout_index_shift(uint64_t data_size)
{
	unsigned log2 = 63 - (unsigned)__builtin_clzll(data_size);
	unsigned shift = log2 > RING_INDEX_MAX_SHIFT ? log2 - RING_INDEX_MAX_SHIFT : 0;

	return shift < RING_INDEX_MIN_CHUNK_SHIFT ? RING_INDEX_MIN_CHUNK_SHIFT : shift;
}

static inline int ring_layout_valid_data_size(uint64_t size)
{
	return size >= RING_DATA_MIN && size <= RING_DATA_MAX && (size & (size - 1)) == 0;
}

/* Offset of the data area: header, time index and interface table, page aligned. */
static inline uint64_t ring_layout_data_off(uint64_t data_size)
{
	uint64_t index =
		(data_size >> ring_layout_index_shift(data_size)) * sizeof(struct ring_index_ent);

	return (RING_HDR_SIZE + index + RING_IFACE_SLOTS * sizeof(struct ring_iface_slot) + 4095) &
	       ~4095ull;
}

/* Size of the whole object for a data area of data_size bytes. */
static inline uint64_t ring_layout_total(uint64_t data_size)
{
	return ring_layout_data_off(data_size) + data_size;
}

#endif /* RAWCAP_RING_LAYOUT_H */
