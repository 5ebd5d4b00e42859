// SPDX-License-Identifier: MIT
/*
 * cursor.c - librawcap's cursor over the live ring: deliver records in
 * order, detect being lapped, count loss by sequence number, reattach when
 * capd restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "safe_open.h"
#include "cursor.h"

/* How often an idle reader checks for a replaced ring (a restart whose wake it missed). */
#define CURSOR_IDLE_CHECK_MS 500

int rawcap_open(const char *ring_name, struct rawcap_cursor **out)
{
	struct rawcap_open_opts o = { .sz = sizeof(o), .ring = ring_name };

	return rawcap_open_opts(&o, out);
}

/*
 * No --storage given: the disk FIFO capd records in the ring, if any and if
 * it passes the same checks (owned by root or capd's user, not a link).
 * One this reader cannot open leaves it reading the ring alone, as before.
 */
static int cursor_found_history(struct rawcap_cursor *c)
{
	char dir[RING_STORAGE_MAX];
	uid_t owner;

	if (!c->has_ring || ring_reader_storage(&c->ring, dir, sizeof(dir), &owner))
		return 0;
	if (history_open_owned(dir, owner, &c->hist))
		c->hist = NULL;
	return 0;
}

static int cursor_open_history(struct rawcap_cursor *c, const struct rawcap_open_opts *o)
{
	int fd, err;

	c->hist_source = RAWCAP_SOURCE_DISK;
	if (!o->snapshot && o->storage_dir)
		return history_open(o->storage_dir, &c->hist);
	if (!o->snapshot)
		return cursor_found_history(c);
	/* A snapshot keeps its records as segments under data/; neither is a link. */
	c->hist_source = RAWCAP_SOURCE_SNAPSHOT;
	fd = safe_dir_open(o->snapshot, NULL, NULL, 0); /* walked: section 4.9 */
	if (fd < 0)
		return fd;
	err = history_openat(fd, "data", &c->hist);
	close(fd);
	return err;
}

int rawcap_open_opts(const struct rawcap_open_opts *opts, struct rawcap_cursor **out)
{
	struct rawcap_cursor *c;
	const char *name;
	bool want_ring;
	int err;

	*out = NULL;
	if (!opts || opts->sz < offsetof(struct rawcap_open_opts, no_ring) + sizeof(bool))
		return -EINVAL;
	want_ring = !opts->snapshot && !opts->no_ring;
	if (!want_ring && !opts->snapshot && !opts->storage_dir)
		return -EINVAL;
	name = opts->ring ? opts->ring : "default";
	if (strlen(name) > RING_NAME_MAX)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	strcpy(c->ring_name, name);
	if (want_ring) {
		err = ring_reader_open(&c->ring, name);
		if (err)
			goto fail;
		c->has_ring = true;
		c->pos = ring_head(&c->ring);
	}
	err = cursor_open_history(c, opts);
	if (err)
		goto fail;
	if (c->hist) /* without a ring, nothing will fill a gap in history later */
		history_set_sealed(c->hist, !want_ring);
	if (!want_ring) {
		err = history_seek(c->hist, RAWCAP_SEEK_OLDEST, 0);
		c->in_history = err == 0;
		if (err && err != -ENOENT)
			goto fail;
	}
	c->st.generations = 1;
	*out = c;
	return 0;
fail:
	if (c->hist)
		history_close(c->hist);
	if (c->has_ring)
		ring_reader_close(&c->ring);
	free(c);
	return err;
}

void rawcap_close(struct rawcap_cursor *c)
{
	if (!c)
		return;
	if (c->has_ring)
		ring_reader_close(&c->ring);
	if (c->hist)
		history_close(c->hist);
	free(c);
}

/* Header of the oldest record the ring still holds; false if it holds none (or is damaged). */
static bool ring_oldest_hdr(const struct ring_reader *r, struct rawcap_rec_hdr *h)
{
	uint64_t pos = ring_tail(r), head = ring_head(r);

	while (pos < head) {
		int err = ring_peek(r, pos, h);

		if (err == -ESTALE) {
			pos = ring_tail(r);
			continue;
		}
		if (err)
			return false;
		if (h->type != RAWCAP_REC_PAD)
			return true;
		pos += rawcap_rec_span(h->len);
	}
	return false;
}

static uint64_t ring_oldest_ts(const struct ring_reader *r)
{
	struct rawcap_rec_hdr h;

	return ring_oldest_hdr(r, &h) ? h.ts_ns : 0;
}

static uint64_t ring_oldest_seq(const struct ring_reader *r)
{
	struct rawcap_rec_hdr h;

	return ring_oldest_hdr(r, &h) ? h.seq : UINT64_MAX;
}

/* Does the target lie before what the ring holds, so history must serve it? */
static bool cursor_target_in_history(struct rawcap_cursor *c, enum rawcap_seek whence,
				     uint64_t value)
{
	uint64_t oldest;

	if (!c->hist)
		return false;
	if (!c->has_ring || whence == RAWCAP_SEEK_OLDEST)
		return true;
	if (whence == RAWCAP_SEEK_TIME) {
		oldest = ring_oldest_ts(&c->ring);
		return oldest == 0 || value < oldest;
	}
	if (whence == RAWCAP_SEEK_SEQ)
		return value < ring_oldest_seq(&c->ring);
	return false;
}

static int cursor_seek_ring(struct rawcap_cursor *c, enum rawcap_seek whence, uint64_t value)
{
	struct ring_reader *r = &c->ring;
	uint64_t head = ring_head(r);

	switch (whence) {
	case RAWCAP_SEEK_OLDEST:
		c->pos = ring_tail(r);
		return 0;
	case RAWCAP_SEEK_NEWEST:
		c->pos = head;
		return 0;
	case RAWCAP_SEEK_TIME:
		c->pos = ring_seek_time(r, value);
		return c->pos < head ? 0 : -ENOENT;
	case RAWCAP_SEEK_SEQ:
		c->pos = ring_seek_seq(r, value);
		return c->pos < head ? 0 : -ENOENT;
	}
	return -EINVAL;
}

int rawcap_seek(struct rawcap_cursor *c, enum rawcap_seek whence, uint64_t value)
{
	int err;

	if (whence < RAWCAP_SEEK_OLDEST || whence > RAWCAP_SEEK_SEQ)
		return -EINVAL;
	c->has_expect = false; /* a seek is not loss */
	c->in_history = false;
	if (cursor_target_in_history(c, whence, value)) {
		err = history_seek(c->hist, whence, value);
		if (err == 0 || !c->has_ring) {
			c->in_history = err == 0;
			return err;
		}
	}
	if (!c->has_ring)
		return -ENODATA;
	err = cursor_seek_ring(c, whence, value);
	/* After a clock jump back, older records (history) can be later than all the ring holds. */
	if (err == -ENOENT && whence == RAWCAP_SEEK_TIME && c->hist &&
	    history_seek(c->hist, whence, value) == 0) {
		c->in_history = true;
		return 0;
	}
	return err;
}

void cursor_account_seq(struct rawcap_cursor *c, uint64_t seq)
{
	if (c->has_expect && seq > c->expect_seq)
		c->st.records_lost += seq - c->expect_seq;
	/* seq < expect only after a restart that did not continue the sequence: rebase. */
	c->expect_seq = seq + 1;
	c->has_expect = true;
}

/* Skip damaged bytes: resume at the next record the index knows, else at head. */
static void cursor_resync(struct rawcap_cursor *c)
{
	c->pos = ring_next_indexed(&c->ring, c->pos);
}

/*
 * History stopped at a gap the writer may still fill. If the ring no longer
 * holds the records it lacks, they will never come from there: skip the gap
 * (counted as damage) and go on with the blocks after it.
 */
static bool cursor_skip_hole(struct rawcap_cursor *c)
{
	if (!c->has_ring || !c->has_expect || ring_oldest_seq(&c->ring) <= c->expect_seq)
		return false;
	return history_skip_hole(c->hist) == 0;
}

/* History ran out: continue in the ring at the sequence number we expect next. */
static int cursor_history_to_ring(struct rawcap_cursor *c)
{
	c->in_history = false;
	if (!c->has_ring)
		return c->detached ? 0 : -ENODATA;
	c->pos = c->has_expect ? ring_seek_seq(&c->ring, c->expect_seq) : ring_tail(&c->ring);
	return 0;
}

static int cursor_next_history(struct rawcap_cursor *c, struct rawcap_rec *rec)
{
	int ret = history_next(c->hist, rec, &c->st.corrupt);

	if (ret <= 0)
		return ret;
	rec->source = c->hist_source;
	cursor_account_seq(c, rec->seq);
	c->st.records++;
	c->st.bytes += rec->len;
	return 1;
}

/* Lapped in the ring: refill the gap from history when we have it. */
static void cursor_lapped(struct rawcap_cursor *c)
{
	c->st.times_lapped++;
	if (c->hist && c->has_expect && history_seek(c->hist, RAWCAP_SEEK_SEQ, c->expect_seq) == 0)
		c->in_history = true;
	else
		c->pos = ring_tail(&c->ring);
}

static int cursor_next_ring(struct rawcap_cursor *c, struct rawcap_rec *rec)
{
	struct ring_reader *r = &c->ring;
	struct rawcap_rec_hdr h;

	for (;;) {
		uint64_t head = ring_head(r);
		int err;

		if (c->pos >= head)
			return 0;
		/* More than a lap behind is lapped, even if a damaged header's tail says not. */
		err = head - c->pos > r->size ? -ESTALE : ring_peek(r, c->pos, &h);
		if (err == -ESTALE) {
			/* The records we missed show up as a sequence gap. */
			cursor_lapped(c);
			if (c->in_history)
				return -EAGAIN;
			continue;
		}
		if (err) {
			c->st.corrupt++;
			cursor_resync(c);
			return err;
		}
		if (h.type == RAWCAP_REC_PAD) {
			c->pos += rawcap_rec_span(h.len);
			continue;
		}
		memset(rec, 0, sizeof(*rec));
		rec->seq = h.seq;
		rec->ts_ns = h.ts_ns;
		rec->type = h.type;
		rec->flags = h.flags;
		rec->len = h.len - (uint32_t)sizeof(h);
		rec->payload = r->data + (c->pos & r->mask) + sizeof(h);
		rec->pos = c->pos;
		rec->source = RAWCAP_SOURCE_RING;
		c->pos += rawcap_rec_span(h.len);
		cursor_account_seq(c, h.seq);
		c->st.records++;
		c->st.bytes += rec->len;
		return 1;
	}
}

int rawcap_next(struct rawcap_cursor *c, struct rawcap_rec *rec)
{
	for (;;) {
		int ret;

		if (c->in_history) {
			ret = cursor_next_history(c, rec);
			if (ret != 0)
				return ret;
			if (cursor_skip_hole(c))
				continue;
			ret = cursor_history_to_ring(c);
			if (ret)
				return ret;
		}
		if (!c->has_ring)
			return c->hist && !c->detached ? -ENODATA : 0;
		ret = cursor_next_ring(c, rec);
		if (ret != -EAGAIN)
			return ret;
	}
}

bool rawcap_rec_valid(struct rawcap_cursor *c, const struct rawcap_rec *rec)
{
	if (rec->source != RAWCAP_SOURCE_RING ||
	    (c->has_ring && ring_pos_intact(&c->ring, rec->pos)))
		return true;
	c->st.records--;
	c->st.bytes -= rec->len;
	c->st.records_lost++;
	c->st.torn_discarded++;
	return false;
}

int rawcap_next_copy(struct rawcap_cursor *c, struct rawcap_rec *rec, void *buf, size_t cap)
{
	for (;;) {
		int ret = rawcap_next(c, rec);

		if (ret <= 0)
			return ret;
		if (rec->len > cap) {
			c->st.records--;
			c->st.bytes -= rec->len;
			c->st.records_lost++;
			return -EMSGSIZE;
		}
		memcpy(buf, rec->payload, rec->len);
		if (!rawcap_rec_valid(c, rec))
			continue;
		rec->payload = buf;
		return 1;
	}
}

/* capd restarted: attach to the new ring and continue at the sequence we expect. */
static int cursor_reattach(struct rawcap_cursor *c)
{
	struct ring_reader fresh;
	int err = ring_reader_open(&fresh, c->ring_name);

	if (err)
		return err; /* keep the old mapping until the new ring exists */
	if (load_acquire(&fresh.hdr->state) == RING_STATE_RETIRED ||
	    (c->has_ring && fresh.generation == c->ring.generation)) {
		ring_reader_close(&fresh); /* the old object, not yet removed: not a new ring */
		return -EAGAIN;
	}
	if (c->has_ring)
		ring_reader_close(&c->ring);
	c->ring = fresh;
	c->has_ring = true;
	c->detached = false;
	c->st.generations++;
	if (c->has_expect && fresh.hdr->base_seq <= c->expect_seq)
		c->pos = ring_seek_seq(&c->ring, c->expect_seq);
	else
		c->pos = ring_tail(&c->ring);
	return 0;
}

/*
 * A replaced ring that is read to its end and has no successor yet: let it
 * go, since its memory stays allocated (in a /dev/shm sized for one ring,
 * the new capd needs it) for as long as anyone maps it.
 */
static void cursor_detach(struct rawcap_cursor *c)
{
	ring_reader_close(&c->ring);
	c->has_ring = false;
	c->detached = true;
}

/* capd restarted in place (same object, new generation): the stream just continues. */
static void cursor_check_generation(struct rawcap_cursor *c)
{
	uint64_t g = *(volatile const uint64_t *)&c->ring.hdr->generation;

	if (g != c->ring.generation) {
		c->ring.generation = g;
		c->st.generations++;
	}
}

/* Detached: look for the new ring every CURSOR_IDLE_CHECK_MS until the deadline. */
static int cursor_wait_detached(struct rawcap_cursor *c, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - (int64_t)clock_mono_ms();
		struct timespec ts;

		if (cursor_reattach(c) == 0)
			return 1;
		if (left <= 0)
			return 0;
		if (left > CURSOR_IDLE_CHECK_MS)
			left = CURSOR_IDLE_CHECK_MS;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		if (nanosleep(&ts, NULL))
			return -errno;
	}
}

int rawcap_wait(struct rawcap_cursor *c, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? (int64_t)clock_mono_ms() + timeout_ms : INT64_MAX;

	if (c->in_history)
		return 1;
	if (!c->has_ring && !c->detached)
		return -ENODATA;
	for (;;) {
		uint32_t seen;
		int64_t left;
		int err;

		if (c->detached) {
			err = cursor_wait_detached(c, deadline);
			if (err <= 0)
				return err;
		}
		/* Read the wake word before head: a publish after this read changes it. */
		seen = ring_wake_seq(&c->ring);
		cursor_check_generation(c);
		if (ring_head(&c->ring) > c->pos)
			return 1;
		if (ring_replaced(&c->ring)) {
			if (cursor_reattach(c) == 0)
				continue;
			cursor_detach(c);
			continue;
		}
		left = deadline - (int64_t)clock_mono_ms();
		if (left <= 0)
			return 0;
		err = ring_wait(&c->ring, seen, left < CURSOR_IDLE_CHECK_MS ? (int)left
									    : CURSOR_IDLE_CHECK_MS);
		if (err == -EINTR)
			return err;
	}
}

void rawcap_get_stats(const struct rawcap_cursor *c, struct rawcap_stats *out)
{
	*out = c->st;
}

int rawcap_ring_info(struct rawcap_cursor *c, struct rawcap_ring_info *out)
{
	const struct ring_hdr *h;

	if (!c->has_ring)
		return -ENODATA;
	h = c->ring.hdr;
	memset(out, 0, sizeof(*out));
	out->generation = h->generation;
	out->created_ns = h->created_ns;
	out->data_size = h->data_size;
	out->head = ring_head(&c->ring);
	out->tail = ring_tail(&c->ring);
	out->base_seq = h->base_seq;
	out->next_seq = load_relaxed(&h->next_seq);
	out->oldest_ts_ns = ring_oldest_ts(&c->ring);
	out->newest_ts_ns = load_relaxed(&h->newest_ts_ns);
	out->heartbeat_ns = load_relaxed(&h->heartbeat_ns);
	out->records = load_relaxed(&h->counters[RING_CNT_RECORDS]);
	out->bytes = load_relaxed(&h->counters[RING_CNT_BYTES]);
	out->packets = load_relaxed(&h->counters[RING_CNT_PACKETS]);
	out->packet_bytes = load_relaxed(&h->counters[RING_CNT_PKT_BYTES]);
	out->wraps = load_relaxed(&h->counters[RING_CNT_WRAPS]);
	for (int i = 0; i < 16; i++)
		out->loss[i] = load_relaxed(&h->counters[RING_CNT_LOSS_BASE + i]);
	out->writer_pid = h->writer_pid;
	out->retired = load_relaxed(&h->state) == RING_STATE_RETIRED;
	return 0;
}

int rawcap_iface_get(struct rawcap_cursor *c, uint32_t ifindex, struct rawcap_iface *out)
{
	if (!c->has_ring)
		return -ENOENT;
	return ring_iface_get(&c->ring, ifindex, out);
}

const struct rawcap_pkt *rawcap_rec_pkt(const struct rawcap_rec *rec, const uint8_t **data,
					uint32_t *caplen)
{
	if (rec->type != RAWCAP_REC_PACKET || rec->len < sizeof(struct rawcap_pkt))
		return NULL;
	if (data)
		*data = (const uint8_t *)rec->payload + sizeof(struct rawcap_pkt);
	if (caplen)
		*caplen = rec->len - (uint32_t)sizeof(struct rawcap_pkt);
	return rec->payload;
}
