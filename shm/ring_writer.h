/* SPDX-License-Identifier: MIT */
/*
 * ring_writer.h - the single writer of a rawcap shm ring (used by capd only).
 *
 * The writer never waits for anyone. It reserves space for one record at a
 * time (reclaiming the oldest records first), fills it in place, and makes a
 * batch of records visible with ring_publish(). ring_notify() wakes readers
 * blocked in rawcap_wait(); call it when a batch ends and the writer is about
 * to go idle, so that a busy writer does not pay a syscall per record.
 */
#ifndef RAWCAP_RING_WRITER_H
#define RAWCAP_RING_WRITER_H

#include <stdint.h>
#include <sys/types.h>

#include "ring_layout.h"
#include "ring_prev.h"

struct ring_writer_opts {
	const char *name;   /* ring name; the object is /dev/shm/rawcap-<name> */
	uint64_t data_size; /* power of two, RING_DATA_MIN..RING_DATA_MAX */
	mode_t mode;	    /* 0 means 0640 */
	gid_t gid;	    /* group readers belong to; (gid_t)-1 keeps the creator's */
	uint64_t base_seq;  /* first sequence number (continues the previous run) */
	uint64_t prev_generation; /* the replaced ring's generation, 0 if none */
	const char *storage_dir;  /* absolute disk FIFO directory for readers, or NULL */
	uid_t storage_uid;	  /* its owner besides root */
};

struct ring_writer {
	struct ring_hdr *hdr;
	uint8_t *data;
	struct ring_index_ent *index;
	struct ring_iface_slot *ifaces;
	uint64_t size, mask;
	uint64_t wpos;	       /* end of the last reserved record */
	uint64_t last_pos;     /* start of the last reserved record */
	uint64_t tail;	       /* our copy of hdr->tail */
	uint64_t reclaim_ahead;
	uint64_t next_seq;
	uint64_t ts_hwm;
	uint64_t last_chunk;
	uint32_t max_record;
	uint32_t index_mask;
	unsigned index_shift;
	uint64_t counters[RING_CNT_NR];
	size_t map_len;
	int fd;
};

int ring_writer_create(struct ring_writer *w, const struct ring_writer_opts *o);
/*
 * Continue the previous writer's ring in place (its data size must be
 * o->data_size): positions go on from its head, sequence numbers from its
 * next_seq (or o->base_seq if larger), the generation changes, the records
 * it holds stay readable and its time index is rebuilt from them. Readers
 * that map it read on without reopening. If the records are damaged they
 * are all dropped (tail = head; *dropped says how many bytes), never
 * trusted. 0, or -EINVAL if it cannot be continued (create a new ring).
 */
int ring_writer_adopt(struct ring_writer *w, const struct ring_writer_opts *o,
		      const struct ring_prev *prev, uint64_t *dropped);
/* Publishes, marks the ring stopped and unmaps; the object stays for readers and a restart. */
void ring_writer_close(struct ring_writer *w);

/*
 * Reserve a record of payload_len bytes and fill its header. Returns the
 * payload to fill in, or NULL if the record exceeds max_record. The record is
 * invisible to readers until ring_publish().
 */
void *ring_reserve(struct ring_writer *w, uint16_t type, uint16_t flags, uint64_t ts_ns,
		   uint32_t payload_len);
/* Shrink the record just reserved (e.g. to the bytes actually received). */
void ring_shrink_last(struct ring_writer *w, void *payload, uint32_t payload_len);
void ring_publish(struct ring_writer *w);
void ring_notify(struct ring_writer *w);
void ring_heartbeat(struct ring_writer *w, uint64_t now_ns);
/* The same for a header not yet (or no longer) behind a ring_writer. */
void ring_heartbeat_hdr(struct ring_hdr *h, uint64_t now_ns);

/* Count units lost by cause (published with the next batch). */
static inline void ring_count_loss(struct ring_writer *w, unsigned cause, uint64_t n)
{
	if (cause < 16)
		w->counters[RING_CNT_LOSS_BASE + cause] += n;
}

/*
 * Write a LOSS record (struct rawcap_loss): count units lost to cause (enum
 * rawcap_loss_cause) on interface ifindex (0: none), first_seq for the
 * reader-side causes (else 0); and count them in the header by cause. Both
 * are published with the next batch.
 */
void ring_write_loss(struct ring_writer *w, uint64_t ts_ns, uint32_t cause, uint64_t count,
		     uint32_t ifindex, uint64_t first_seq);

/* Publish an interface description in the table (not a record; see ring_layout.h). */
int ring_iface_set(struct ring_writer *w, const struct rawcap_iface *iface);
/* Free the table slot of a vanished interface (its IFACE records stay in the stream). */
void ring_iface_del(struct ring_writer *w, uint32_t ifindex);

static inline uint32_t ring_max_payload(const struct ring_writer *w)
{
	return w->max_record - (uint32_t)sizeof(struct rawcap_rec_hdr);
}

#endif
