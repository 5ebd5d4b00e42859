// SPDX-License-Identifier: MIT
/*
 * persister.c - follow capd's ring and persist it into the disk FIFO.
 *
 * The persister is lapped, never a gate: capd never waits for the disk.
 * It reads the ring it shares a thread with, so there is no race with the
 * writer: between two pumps the writer may have reclaimed records we had
 * not persisted yet (tail moved past our position), and that is loss,
 * counted by sequence number and announced with a LOSS record in the ring.
 * See docs/ARCHITECTURE.md, "Disk FIFO", for why lapping is the right call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "atomics.h"
#include "persister.h"
#include "seg_writer.h"

#define PERSIST_FLUSH_NS 1000000000ull /* partial blocks reach disk at least this often */

struct persister {
	struct seg_writer *sw;
	struct ring_writer *w;
	void (*log)(const char *fmt, ...);
	uint64_t pos;	     /* next ring position to persist */
	uint64_t expect_seq; /* sequence number we expect to persist next */
	uint64_t next_seq;   /* for the new ring: continues disk and previous ring */
	uint64_t sync_ns, last_sync, last_flush, last_announce;
	bool attached;
	/* A loss to announce in the ring. */
	uint64_t loss_count, loss_first;
	uint32_t loss_cause;
	struct persister_stats st;
};

static uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static void persist_log(const struct persister *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->log)
		p->log("persister: %s", msg);
	else
		fprintf(stderr, "rawcap-persister: %s\n", msg);
}

int persister_open(const struct persister_opts *o, struct persister **out)
{
	struct seg_writer_opts so = {
		.dir = o->dir,
		.total_size = o->size,
		.segment_size = o->segment_size,
		.fifo = true,
		.direct_io = o->direct_io,
		.gid = o->gid,
		.sync_interval_ns = o->sync_interval_ns,
		.nonblock = true,
		.chown_uid = o->uid >= 0,
		.uid = o->uid,
		.reg_buffers = o->reg_buffers,
		.holder = o->holder,
		.log = o->log,
	};
	struct seg_writer_stats ss;
	struct persister *p;
	uint64_t min_total;
	uint32_t nb, ns;
	int err;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->log = o->log;
	if (seg_geometry(o->size, o->segment_size, true, &nb, &ns, &min_total)) {
		persist_log(p,
			    "storage size %llu bytes cannot hold two segments: "
			    "use at least %llu bytes (--storage-size)",
			    (unsigned long long)o->size, (unsigned long long)min_total);
		free(p);
		return -EINVAL;
	}
	err = seg_writer_open(&so, &p->sw);
	if (err) {
		persist_log(p, "opening storage %s failed: %s", o->dir, strerror(-err));
		free(p);
		return err;
	}
	seg_writer_get_stats(p->sw, &ss);
	p->expect_seq = p->next_seq = ss.next_seq;
	p->sync_ns = o->sync_interval_ns;
	p->last_sync = p->last_flush = mono_ns();
	persist_log(p, "storage %s: %u of %u segments of %u blocks, continuing at seq %llu%s",
		    o->dir, ss.nsegs, ss.max_segs, ss.nblocks, (unsigned long long)ss.next_seq,
		    ss.direct ? ", O_DIRECT" : "");
	*out = p;
	return 0;
}

uint64_t persister_next_seq(const struct persister *p)
{
	return p->next_seq;
}

static void persister_note_loss(struct persister *p, uint32_t cause, uint64_t first, uint64_t n)
{
	if (!n)
		return;
	if (p->loss_count && p->loss_cause != cause)
		p->loss_count = 0; /* the older notice is superseded; both are counted in stats */
	if (!p->loss_count) {
		p->loss_first = first;
		p->loss_cause = cause;
	}
	p->loss_count += n;
	if (cause == RAWCAP_LOSS_DISK_ERROR)
		p->st.disk_error_records += n;
	else
		p->st.lapped_records += n;
	p->st.lapped_events++;
}

/* Sanity of a record in a ring we did not write (the previous capd's). */
static bool prev_rec_ok(const struct ring_hdr *h, uint64_t off, const struct rawcap_rec_hdr *r)
{
	if (r->len < RAWCAP_REC_ALIGN || rawcap_rec_span(r->len) > h->data_size - off)
		return false;
	return r->type == RAWCAP_REC_PAD ||
	       (r->len >= sizeof(*r) && r->len <= RAWCAP_REC_MAX && r->len <= h->max_record);
}

static uint64_t prev_oldest_seq(const struct ring_prev *prev, uint64_t tail, uint64_t head)
{
	const struct ring_hdr *h = prev->hdr;
	const uint8_t *data = ring_prev_data(prev);

	while (tail < head) {
		uint64_t off = tail & (h->data_size - 1);
		const struct rawcap_rec_hdr *r = (const void *)(data + off);

		if (!prev_rec_ok(h, off, r))
			break;
		if (r->type != RAWCAP_REC_PAD)
			return r->seq;
		tail += rawcap_rec_span(r->len);
	}
	return UINT64_MAX;
}

int persister_recover_prev(struct persister *p, const struct ring_prev *prev)
{
	const struct ring_hdr *h = prev->hdr;
	const uint8_t *data = ring_prev_data(prev);
	struct seg_writer_stats ss;
	uint64_t tail = load_acquire(&h->tail), head = load_acquire(&h->head);
	uint64_t next, hole, n = 0;
	bool had_disk;
	int err = 0;

	if (head < tail || head - tail > h->data_size)
		return -EBADMSG;
	seg_writer_get_stats(p->sw, &ss);
	had_disk = ss.nsegs > 0;
	next = ss.next_seq;
	if (seg_writer_hole(p->sw, &hole) && prev_oldest_seq(prev, tail, head) <= hole &&
	    seg_writer_rewind(p->sw) == 0)
		next = hole; /* refill the blocks whose writes never landed */
	seg_writer_set_nonblock(p->sw, false);
	while (tail < head) {
		uint64_t off = tail & (h->data_size - 1);
		const struct rawcap_rec_hdr *r = (const void *)(data + off);

		if (!prev_rec_ok(h, off, r))
			break; /* not records: persist what we have, never trust the rest */
		tail += rawcap_rec_span(r->len);
		if (r->type == RAWCAP_REC_PAD || r->seq < next)
			continue;
		if (r->seq > next && had_disk)
			persister_note_loss(p, RAWCAP_LOSS_PERSIST_LAPPED, next, r->seq - next);
		err = seg_write_record(p->sw, r, r + 1);
		if (err) {
			persist_log(p, "persisting the previous ring failed at seq %llu: %s",
				    (unsigned long long)r->seq, strerror(-err));
			break;
		}
		next = r->seq + 1;
		n++;
	}
	if (!err)
		err = seg_writer_sync(p->sw);
	seg_writer_set_nonblock(p->sw, true);
	p->st.recovered_records += n;
	p->expect_seq = next;
	if (next > p->next_seq)
		p->next_seq = next;
	persist_log(p, "persisted %llu records left by the previous ring (generation %llu)",
		    (unsigned long long)n, (unsigned long long)h->generation);
	return err;
}

int persister_attach(struct persister *p, struct ring_writer *w)
{
	p->w = w;
	/* Records before wpos belong to the previous generation: persister_recover_prev's. */
	p->pos = w->wpos;
	p->expect_seq = w->hdr->base_seq;
	p->attached = true;
	return 0;
}

int persister_fd(const struct persister *p)
{
	return seg_writer_fd(p->sw);
}

/* Announce a pending loss with a LOSS record in the ring (persisted with the rest). */
static void persister_announce(struct persister *p, struct ring_writer *w)
{
	struct rawcap_loss *l;

	if (!p->loss_count)
		return;
	l = ring_reserve(w, RAWCAP_REC_LOSS, 0, real_ns(), sizeof(*l));
	if (!l)
		return;
	l->count = p->loss_count;
	l->cause = p->loss_cause;
	l->ifindex = 0;
	l->first_seq = p->loss_first;
	ring_count_loss(w, p->loss_cause, p->loss_count);
	ring_publish(w);
	p->loss_count = 0;
}

/* The ring reclaimed records we had not persisted: count them by sequence number. */
static void persister_check_lapped(struct persister *p, struct ring_writer *w, uint64_t head)
{
	struct seg_writer_stats ss;
	uint64_t pos = w->tail, seq = w->next_seq;

	if (p->pos >= w->tail)
		return;
	while (pos < head) {
		const struct rawcap_rec_hdr *r = (const void *)(w->data + (pos & w->mask));

		if (r->type != RAWCAP_REC_PAD) {
			seq = r->seq;
			break;
		}
		pos += rawcap_rec_span(r->len);
	}
	seg_writer_get_stats(p->sw, &ss);
	persister_note_loss(p, ss.error ? RAWCAP_LOSS_DISK_ERROR : RAWCAP_LOSS_PERSIST_LAPPED,
			    p->expect_seq, seq > p->expect_seq ? seq - p->expect_seq : 0);
	p->pos = w->tail;
	p->expect_seq = seq;
}

/* Copy published records into blocks; stops when the writer refuses (busy or failing). */
static int persister_copy(struct persister *p, struct ring_writer *w, uint64_t head)
{
	while (p->pos < head) {
		const struct rawcap_rec_hdr *r = (const void *)(w->data + (p->pos & w->mask));
		uint32_t span = rawcap_rec_span(r->len);
		int err;

		if (r->type != RAWCAP_REC_PAD) {
			err = seg_write_record(p->sw, r, r + 1);
			if (err)
				return err;
			p->expect_seq = r->seq + 1;
			p->st.records++;
			p->st.bytes += r->len;
		}
		p->pos += span;
	}
	return 0;
}

void persister_pump(struct persister *p, struct ring_writer *w)
{
	uint64_t now = mono_ns(), head;

	seg_writer_poll(p->sw, now);
	if (!p->attached)
		return;
	head = load_acquire(&w->hdr->head);
	persister_check_lapped(p, w, head);
	/* One notice per second at most: a failing disk must not flood the ring with them. */
	if (p->loss_count && (now - p->last_announce >= PERSIST_FLUSH_NS || !p->last_announce)) {
		p->last_announce = now;
		persister_announce(p, w);
		head = load_acquire(&w->hdr->head);
		persister_check_lapped(p, w, head);
	}
	persister_copy(p, w, head);
	if (p->sync_ns && now - p->last_sync >= p->sync_ns) {
		seg_writer_flush(p->sw, true);
		p->last_sync = p->last_flush = now;
	} else if (now - p->last_flush >= PERSIST_FLUSH_NS) {
		seg_writer_flush(p->sw, false);
		p->last_flush = now;
	}
	seg_writer_poll(p->sw, now);
}

void persister_get_stats(const struct persister *p, struct persister_stats *out)
{
	struct seg_writer_stats ss;

	seg_writer_get_stats(p->sw, &ss);
	*out = p->st;
	out->blocks_written = ss.blocks_written;
	out->bytes_written = ss.bytes_written;
	out->syncs = ss.syncs;
	out->write_errors = ss.write_errors;
	out->segments_recycled = ss.segments_recycled;
	out->nsegs = ss.nsegs;
	out->max_segs = ss.max_segs;
	out->error = ss.error;
	out->direct = ss.direct;
	if (p->attached)
		out->behind_bytes = load_acquire(&p->w->hdr->head) - p->pos;
}

int persister_close(struct persister *p, struct ring_writer *w, struct persister_stats *st)
{
	int err;

	if (!p)
		return 0;
	if (w && p->attached) {
		p->last_announce = 0; /* announce what is pending now */
		persister_pump(p, w);
		seg_writer_set_nonblock(p->sw, false);
		persister_copy(p, w, load_acquire(&w->hdr->head));
	}
	err = seg_writer_finish(p->sw);
	if (st)
		persister_get_stats(p, st);
	err = seg_writer_close(p->sw) ?: err;
	if (err)
		persist_log(p, "closing storage: %s", strerror(-err));
	free(p);
	return err;
}
