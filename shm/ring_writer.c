// SPDX-License-Identifier: MIT
/*
 * ring_writer.c - create a ring (or continue a previous one in place) and
 * append records to it.
 *
 * A new ring is built under a temporary name and renamed over the old one,
 * so a reader opening by name never sees a half-initialised header. Readers
 * still mapping the old object are told by ring_prev_retire() (ring_prev.c).
 * A restart with the same size continues the old object instead
 * (ring_writer_adopt), so it needs no second ring's worth of /dev/shm.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "atomics.h"
#include "ring_check.h"
#include "ring_name.h"
#include "ring_writer.h"

static uint64_t realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* Where the disk FIFO is (ring_layout.h, struct ring_storage); a path too long is left out. */
static void ring_hdr_storage(struct ring_hdr *h, const struct ring_writer_opts *o)
{
	struct ring_storage *st = (struct ring_storage *)((uint8_t *)h + RING_STORAGE_OFF);
	size_t n = o->storage_dir ? strlen(o->storage_dir) : 0;

	if (n >= RING_STORAGE_MAX || (n && o->storage_dir[0] != '/'))
		n = 0;
	memset(st, 0, sizeof(*st));
	memcpy(st->dir, o->storage_dir ? o->storage_dir : "", n);
	st->uid = (uint32_t)o->storage_uid;
	st->len = (uint32_t)n;
}

/* The fields a writer sets when it takes a ring, new or continued. */
static void ring_hdr_own(struct ring_hdr *h, const struct ring_writer_opts *o, uint64_t base_seq)
{
	uint64_t now = realtime_ns();

	/* Unique across restarts even if the previous ring is gone. */
	h->generation = now > o->prev_generation ? now : o->prev_generation + 1;
	h->created_ns = now;
	h->base_seq = base_seq;
	h->writer_pid = (uint32_t)getpid();
	ring_hdr_storage(h, o);
	store_relaxed(&h->next_seq, base_seq);
	ring_heartbeat_hdr(h, now);
	store_release(&h->state, RING_STATE_LIVE);
}

static void ring_hdr_init(struct ring_hdr *h, const struct ring_writer_opts *o)
{
	unsigned shift = (unsigned)ring_layout_index_shift(o->data_size);

	h->magic = RING_MAGIC;
	h->version = RING_LAYOUT_VERSION;
	h->hdr_size = RING_HDR_SIZE;
	h->total_size = ring_layout_total(o->data_size);
	h->data_off = ring_layout_data_off(o->data_size);
	h->data_size = o->data_size;
	h->index_off = RING_HDR_SIZE;
	h->index_entries = (uint32_t)(o->data_size >> shift);
	h->index_shift = shift;
	h->iface_off = RING_HDR_SIZE + (uint64_t)h->index_entries * sizeof(struct ring_index_ent);
	h->max_record = o->data_size / 4 < RAWCAP_REC_MAX ? (uint32_t)(o->data_size / 4)
							  : RAWCAP_REC_MAX;
	ring_hdr_own(h, o, o->base_seq);
}

/* Geometry from a checked header; positions start empty at 0. */
static void ring_writer_init_state(struct ring_writer *w)
{
	struct ring_hdr *h = w->hdr;

	w->data = (uint8_t *)h + h->data_off;
	w->index = (struct ring_index_ent *)((uint8_t *)h + h->index_off);
	w->ifaces = (struct ring_iface_slot *)((uint8_t *)h + h->iface_off);
	w->size = h->data_size;
	w->mask = h->data_size - 1;
	w->index_shift = h->index_shift;
	w->index_mask = h->index_entries - 1;
	w->max_record = h->max_record;
	w->next_seq = h->base_seq;
	w->last_chunk = RING_POS_INVALID;
	/* Reclaim in steps, so the tail store and its fence are rare. */
	w->reclaim_ahead = w->size / 16 < (1u << 20) ? w->size / 16 : (1u << 20);
}

/* Create path.new-XXXXXXXX exclusively; a squatted temporary name is skipped, not trusted. */
static int ring_tmp_create(const char *path, mode_t mode, char *tmp, size_t len)
{
	for (int tries = 0; tries < 16; tries++) {
		uint32_t r = (uint32_t)realtime_ns() ^ (uint32_t)getpid();
		int fd;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) < 0)
			r += (uint32_t)tries;
		snprintf(tmp, len, "%s.new-%08x", path, r);
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

/* Mode and group of the object as asked (fchmod: the umask must not widen or narrow them). */
static int ring_set_access(int fd, const struct ring_writer_opts *o)
{
	if (fchmod(fd, o->mode ? o->mode : 0640) ||
	    (o->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, o->gid)))
		return -errno;
	return 0;
}

static int ring_writer_map(struct ring_writer *w, int fd, size_t total)
{
	void *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);

	if (map == MAP_FAILED)
		return -errno;
	w->hdr = map;
	w->map_len = total;
	w->fd = fd;
	return 0;
}

int ring_writer_create(struct ring_writer *w, const struct ring_writer_opts *o)
{
	char path[RING_PATH_MAX], tmp[RING_PATH_MAX + 32];
	uint64_t data_off = ring_layout_data_off(o->data_size);
	size_t total = (size_t)ring_layout_total(o->data_size);
	int fd, err;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!ring_layout_valid_data_size(o->data_size))
		return -EINVAL;
	err = ring_name_path(o->name, path, sizeof(path));
	if (err)
		return err;
	fd = ring_tmp_create(path, o->mode ? o->mode : 0640, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	err = ring_set_access(fd, o);
	if (!err)
		err = ring_writer_lock(fd);
	/* posix_fallocate reserves tmpfs pages now: a full /dev/shm fails here, not as SIGBUS later. */
	if (!err)
		err = -posix_fallocate(fd, 0, (off_t)total);
	if (!err)
		err = ring_writer_map(w, fd, total);
	if (err)
		goto fail;

	/*
	 * Touch every page now. Measured here: MAP_POPULATE (and
	 * MADV_POPULATE_WRITE) leave the first write to each tmpfs page ~40x
	 * slower than later laps (0.43 s vs 0.01 s per 256 MiB), which would
	 * put a page-fault storm on the capture path during the whole first
	 * lap. Zeroing the area here costs ~0.5 s per 256 MiB once, at start.
	 */
	memset((uint8_t *)w->hdr + data_off, 0, o->data_size);

	ring_hdr_init(w->hdr, o);
	ring_writer_init_state(w);
	for (uint32_t i = 0; i <= w->index_mask; i++)
		store_relaxed(&w->index[i].pos, RING_POS_INVALID);
	if (rename(tmp, path)) {
		err = -errno;
		munmap(w->hdr, total);
		w->hdr = NULL;
		w->fd = -1;
		goto fail;
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return err;
}

void ring_writer_close(struct ring_writer *w)
{
	if (w->hdr) {
		ring_publish(w);
		store_release(&w->hdr->state, RING_STATE_STOPPED);
		ring_notify(w);
		munmap(w->hdr, w->map_len);
	}
	if (w->fd >= 0)
		close(w->fd);
	w->hdr = NULL;
	w->fd = -1;
}

/*
 * The first record starting in the first index chunk at or after pos, from
 * our own time index: one load instead of a walk over every record header
 * in between (cold lines, each load depending on the last: the walk cost a
 * sixth of the writer's time at 1500 B records). RING_POS_INVALID if no
 * record starts in that chunk. The slot cannot hold a later lap's entry yet:
 * that would start at chunk * chunk_size + size > wpos.
 */
static uint64_t ring_index_next_record(const struct ring_writer *w, uint64_t pos)
{
	uint64_t chunk = (pos + (1ull << w->index_shift) - 1) >> w->index_shift;
	uint64_t p = load_relaxed(&w->index[chunk & w->index_mask].pos);

	if (p == RING_POS_INVALID || p >> w->index_shift != chunk || p >= w->wpos)
		return RING_POS_INVALID;
	return p;
}

/*
 * Advance the tail past every record that the bytes up to `end` would
 * overwrite, and publish it before a single one of those bytes is written.
 * Callers check first that end > tail + size (ring_room_needed).
 */
static void ring_make_room(struct ring_writer *w, uint64_t end)
{
	uint64_t target = end - w->size + w->reclaim_ahead;
	uint64_t t = ring_index_next_record(w, target);

	if (t != RING_POS_INVALID)
		goto publish;
	t = w->tail; /* no record starts in that chunk (a large one spans it): walk */
	while (t < target && t < w->wpos) {
		const struct rawcap_rec_hdr *r = (const void *)(w->data + (t & w->mask));

		if (r->len < RAWCAP_REC_ALIGN)
			break; /* cannot happen for our own records; never loop on it */
		t += rawcap_rec_span(r->len);
	}
publish:
	w->tail = t;
	store_relaxed(&w->hdr->tail, t);
	/*
	 * Pairs with the reader's fence_acquire() before it re-reads tail:
	 * a reader that saw any byte written after this point also sees the
	 * new tail, and so discards the record it read.
	 */
	fence_release();
}

static inline bool ring_room_needed(const struct ring_writer *w, uint64_t end)
{
	return end > w->tail + w->size;
}

/* Fill the end of the data area with a pad record so no record straddles it. */
static void ring_pad_to_end(struct ring_writer *w, uint64_t off)
{
	uint32_t gap = (uint32_t)(w->size - off);
	struct rawcap_rec_hdr *pad = (void *)(w->data + off);

	if (ring_room_needed(w, w->wpos + gap))
		ring_make_room(w, w->wpos + gap);
	pad->len = gap;
	pad->type = RAWCAP_REC_PAD;
	pad->flags = 0;
	w->wpos += gap;
	w->counters[RING_CNT_WRAPS]++;
}

static void ring_index_update(struct ring_writer *w, const struct rawcap_rec_hdr *r)
{
	uint64_t chunk = w->wpos >> w->index_shift;
	struct ring_index_ent *e;

	if (chunk == w->last_chunk)
		return;
	w->last_chunk = chunk;
	e = &w->index[chunk & w->index_mask];
	/* Seqlock: readers that see pos unchanged across their read saw whole fields. */
	store_relaxed(&e->pos, RING_POS_INVALID);
	fence_release();
	store_relaxed(&e->ts_hwm, w->ts_hwm);
	store_relaxed(&e->seq, r->seq);
	store_relaxed(&e->ts, r->ts_ns);
	store_release(&e->pos, w->wpos);
}

void *ring_reserve(struct ring_writer *w, uint16_t type, uint16_t flags, uint64_t ts_ns,
		   uint32_t payload_len)
{
	uint32_t len, span;
	uint64_t off;
	struct rawcap_rec_hdr *r;

	if (payload_len > ring_max_payload(w))
		return NULL;
	len = (uint32_t)sizeof(*r) + payload_len;
	span = rawcap_rec_span(len);
	off = w->wpos & w->mask;
	if (off + span > w->size) {
		ring_pad_to_end(w, off);
		off = 0;
	}
	if (ring_room_needed(w, w->wpos + span))
		ring_make_room(w, w->wpos + span);

	r = (void *)(w->data + off);
	r->len = len;
	r->type = type;
	r->flags = flags;
	r->seq = w->next_seq++;
	r->ts_ns = ts_ns;
	if (ts_ns > w->ts_hwm)
		w->ts_hwm = ts_ns;
	ring_index_update(w, r);

	w->last_pos = w->wpos;
	w->wpos += span;
	w->counters[RING_CNT_RECORDS]++;
	w->counters[RING_CNT_BYTES] += len;
	return r + 1;
}

void ring_write_loss(struct ring_writer *w, uint64_t ts_ns, uint32_t cause, uint64_t count,
		     uint32_t ifindex, uint64_t first_seq)
{
	struct rawcap_loss *l = ring_reserve(w, RAWCAP_REC_LOSS, 0, ts_ns, sizeof(*l));

	/* 24 bytes always fit: ring_reserve() refuses only records over max_record */
	if (l)
		*l = (struct rawcap_loss){
			.count = count, .cause = cause, .ifindex = ifindex, .first_seq = first_seq};
	ring_count_loss(w, cause, count);
}

void ring_shrink_last(struct ring_writer *w, void *payload, uint32_t payload_len)
{
	struct rawcap_rec_hdr *r = (struct rawcap_rec_hdr *)payload - 1;
	uint32_t len = (uint32_t)sizeof(*r) + payload_len;

	if (len >= r->len || (uint8_t *)r != w->data + (w->last_pos & w->mask))
		return;
	w->counters[RING_CNT_BYTES] -= r->len - len;
	r->len = len;
	w->wpos = w->last_pos + rawcap_rec_span(len);
}

void ring_publish(struct ring_writer *w)
{
	struct ring_hdr *h = w->hdr;

	/* Pairs with the reader's load_acquire(&head): records below head are whole. */
	store_release(&h->head, w->wpos);
	store_relaxed(&h->next_seq, w->next_seq);
	store_relaxed(&h->newest_ts_ns, w->ts_hwm);
	for (int i = 0; i < RING_CNT_NR; i++)
		store_relaxed(&h->counters[i], w->counters[i]);
}

void ring_notify(struct ring_writer *w)
{
	atomic_fetch_add_explicit(&w->hdr->wake_seq, 1, memory_order_release);
	/* Shared (not PRIVATE) futex: waiters are other processes mapping the same object. */
	syscall(SYS_futex, &w->hdr->wake_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void ring_heartbeat_hdr(struct ring_hdr *h, uint64_t now_ns)
{
	store_relaxed(&h->heartbeat_ns, now_ns);
	store_relaxed(&h->heartbeat_mono_ns, clock_ns(CLOCK_MONOTONIC));
}

void ring_heartbeat(struct ring_writer *w, uint64_t now_ns)
{
	ring_heartbeat_hdr(w->hdr, now_ns);
}

int ring_iface_set(struct ring_writer *w, const struct rawcap_iface *iface)
{
	struct ring_iface_slot *free_slot = NULL, *s = NULL;

	for (int i = 0; i < RING_IFACE_SLOTS; i++) {
		struct ring_iface_slot *c = &w->ifaces[i];

		if (c->used && c->iface.ifindex == iface->ifindex) {
			s = c;
			break;
		}
		if (!c->used && !free_slot)
			free_slot = c;
	}
	if (!s)
		s = free_slot;
	if (!s)
		return -ENOSPC;
	store_relaxed(&s->seq, load_relaxed(&s->seq) + 1); /* odd: being written */
	fence_release();
	s->iface = *iface;
	s->used = 1;
	store_release(&s->seq, load_relaxed(&s->seq) + 1);
	return 0;
}

void ring_iface_del(struct ring_writer *w, uint32_t ifindex)
{
	for (int i = 0; i < RING_IFACE_SLOTS; i++) {
		struct ring_iface_slot *s = &w->ifaces[i];

		if (!s->used || s->iface.ifindex != ifindex)
			continue;
		store_relaxed(&s->seq, load_relaxed(&s->seq) + 1); /* odd: being written */
		fence_release();
		s->used = 0;
		s->iface.ifindex = 0; /* ring_iface_get() matches on ifindex alone */
		store_release(&s->seq, load_relaxed(&s->seq) + 1);
		return;
	}
}

/*
 * Walk the records the previous writer left in [tail, head): rebuild the
 * time index from them and find where the sequence and the timestamps
 * stand. Returns the position of the first byte that is not a well-formed
 * record continuing the sequence (head if all are).
 */
static uint64_t ring_adopt_walk(struct ring_writer *w, uint64_t tail, uint64_t head,
				uint64_t seq_limit)
{
	uint64_t pos = tail;
	bool any = false;

	while (pos < head) {
		uint64_t off = pos & w->mask;
		const struct rawcap_rec_hdr *r = (const void *)(w->data + off);

		if (r->len < RAWCAP_REC_ALIGN || rawcap_rec_span(r->len) > w->size - off)
			break;
		if (r->type == RAWCAP_REC_PAD) {
			if (off + rawcap_rec_span(r->len) != w->size)
				break; /* pads only fill the end of the area */
			pos += rawcap_rec_span(r->len);
			continue;
		}
		if (r->len < sizeof(*r) || r->len > w->max_record ||
		    (any && r->seq < w->next_seq) || r->seq >= seq_limit)
			break;
		if (r->ts_ns > w->ts_hwm)
			w->ts_hwm = r->ts_ns;
		w->wpos = pos;
		ring_index_update(w, r);
		w->next_seq = r->seq + 1;
		any = true;
		pos += rawcap_rec_span(r->len);
	}
	return pos;
}

int ring_writer_adopt(struct ring_writer *w, const struct ring_writer_opts *o,
		      const struct ring_prev *prev, uint64_t *dropped)
{
	const struct ring_hdr *old = prev->hdr;
	uint64_t head = load_acquire(&old->head), tail = load_acquire(&old->tail);
	uint64_t old_next = load_relaxed(&old->next_seq), end;
	int fd, err;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	*dropped = 0;
	if (old->data_size != o->data_size || (head & (RAWCAP_REC_ALIGN - 1)) || head >> 62)
		return -EINVAL;
	fd = fcntl(prev->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = ring_set_access(fd, o);
	if (!err)
		err = ring_writer_map(w, fd, prev->map_len);
	if (err) {
		close(fd);
		return err;
	}
	ring_writer_init_state(w);
	w->ts_hwm = load_relaxed(&old->newest_ts_ns);
	if (tail > head || head - tail > w->size || (tail & (RAWCAP_REC_ALIGN - 1)))
		tail = head; /* positions that cannot be: keep none of the records */
	end = ring_adopt_walk(w, tail, head, old_next);
	if (end != head) {
		/* Damaged past end: drop every record, so no reader trusts what follows it. */
		*dropped = head - tail;
		tail = head;
	}
	w->tail = tail;
	w->wpos = w->last_pos = head;
	store_relaxed(&w->hdr->tail, tail);
	fence_release();
	if (w->next_seq < old_next)
		w->next_seq = old_next;
	if (w->next_seq < o->base_seq)
		w->next_seq = o->base_seq;
	/* The interface table describes this generation's interfaces: capd fills it anew. */
	for (int i = 0; i < RING_IFACE_SLOTS; i++)
		if (w->ifaces[i].used)
			ring_iface_del(w, w->ifaces[i].iface.ifindex);
	ring_hdr_own(w->hdr, o, w->next_seq);
	ring_publish(w);
	return 0;
}
