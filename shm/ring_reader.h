/* SPDX-License-Identifier: MIT */
/*
 * ring_reader.h - read-only access to a ring: the primitives librawcap's
 * cursor is built on.
 *
 * The mapping is PROT_READ of an O_RDONLY descriptor: a reader cannot write
 * the ring even by mistake. Every record is read optimistically and then
 * validated against the tail the writer published (ring_pos_intact).
 */
#ifndef RAWCAP_RING_READER_H
#define RAWCAP_RING_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomics.h"
#include "ring_layout.h"

struct ring_reader {
	const struct ring_hdr *hdr;
	const uint8_t *data;
	const struct ring_index_ent *index;
	const struct ring_iface_slot *ifaces;
	uint64_t size, mask;
	uint64_t generation;
	uint32_t max_record;
	uint32_t index_mask;
	unsigned index_shift;
	size_t map_len;
	int fd;
};

/*
 * 0, or -ENOENT (no such ring), -EACCES, -EPERM (not an object capd made: a
 * symlink, FIFO, directory, another user's file or one writable by others;
 * never mapped), -EBADMSG (not a ring), -EPROTO (other version).
 */
int ring_reader_open(struct ring_reader *r, const char *name);
/* Why ring_reader_open() refuses the object under name: one line naming it into why. */
int ring_reader_check(const char *name, char *why, size_t len);
void ring_reader_close(struct ring_reader *r);
/*
 * The disk FIFO directory the writer records (ring_layout.h, struct
 * ring_storage), copied into buf, and its owner besides root. 0, -ENOENT if
 * the writer records none, -EINVAL if the field is not one absolute path.
 */
int ring_reader_storage(const struct ring_reader *r, char *buf, size_t len, uid_t *uid);

static inline uint64_t ring_head(const struct ring_reader *r)
{
	/* Pairs with store_release(&head) in ring_publish(): records below it are whole. */
	return load_acquire(&r->hdr->head);
}

/*
 * Oldest readable position. Head is loaded first: the writer published a
 * tail >= head - size before it wrote the bytes below that head, so for a
 * correct writer the clamp never applies. It bounds every scan when the
 * header lies (a damaged or hostile object), so no loop runs past one lap.
 */
static inline uint64_t ring_tail(const struct ring_reader *r)
{
	uint64_t head = load_acquire(&r->hdr->head);
	uint64_t tail = load_acquire(&r->hdr->tail);

	return head > r->size && tail < head - r->size ? head - r->size : tail;
}

/*
 * True if nothing at or after pos has been overwritten yet. Call after
 * reading: the fence keeps the reads above from moving below the tail load.
 * Pairs with fence_release() in the writer's ring_make_room().
 */
static inline bool ring_pos_intact(const struct ring_reader *r, uint64_t pos)
{
	fence_acquire();
	return load_relaxed(&r->hdr->tail) <= pos;
}

/*
 * Copy and check the header of the record at pos (which must be below head).
 * 0 on success; -ESTALE if it was overwritten (lapped); -EBADMSG if the bytes
 * are not a record.
 */
int ring_peek(const struct ring_reader *r, uint64_t pos, struct rawcap_rec_hdr *out);

/* Position of the first record with hwm timestamp >= ts, scanning at most a few chunks. */
uint64_t ring_seek_time(const struct ring_reader *r, uint64_t ts_ns);
/* Position of the record with sequence seq or the first one after it. */
uint64_t ring_seek_seq(const struct ring_reader *r, uint64_t seq);

/* First indexed record after pos's chunk, or head: where to resume past damage. */
uint64_t ring_next_indexed(const struct ring_reader *r, uint64_t pos);

/* True if a newer capd replaced this ring (it was retired or unlinked). */
bool ring_replaced(const struct ring_reader *r);

/*
 * Sleep until the writer's wake word moves from `seen` or timeout_ms passes.
 * 0 woken or value already changed, -ETIMEDOUT, -EINTR.
 */
int ring_wait(const struct ring_reader *r, uint32_t seen, int timeout_ms);

static inline uint32_t ring_wake_seq(const struct ring_reader *r)
{
	return load_acquire(&r->hdr->wake_seq);
}

int ring_iface_get(const struct ring_reader *r, uint32_t ifindex, struct rawcap_iface *out);

#endif
