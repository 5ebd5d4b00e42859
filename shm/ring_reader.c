// SPDX-License-Identifier: MIT
/*
 * ring_reader.c - open a ring read-only, read records optimistically,
 * seek by time and sequence through the coarse index.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring_check.h"
#include "ring_name.h"
#include "ring_reader.h"

/* Owners a reader trusts: root (capd creates rings before its drop) and the reader itself. */
static size_t ring_trusted_owners(uid_t owners[2])
{
	owners[0] = 0;
	owners[1] = geteuid();
	return owners[1] ? 2 : 1;
}

int ring_reader_check(const char *name, char *why, size_t len)
{
	char path[RING_PATH_MAX];
	uid_t owners[2];
	struct stat st;
	int fd, err = ring_name_path(name, path, sizeof(path));

	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno != ELOOP) {
		err = -errno;
		snprintf(why, len, "%s: %s", path, strerror(-err));
		return err;
	}
	if (fd < 0) {
		snprintf(why, len, "it is a symlink");
		err = -EPERM;
	} else {
		err = ring_obj_check(fd, owners, ring_trusted_owners(owners), &st, why, len);
		close(fd);
	}
	if (err) {
		char reason[160];

		snprintf(reason, sizeof(reason), "%s", why);
		snprintf(why, len, "%s: not a ring capd made (%s); ignoring it", path, reason);
	}
	return err;
}

int ring_reader_open(struct ring_reader *r, const char *name)
{
	char path[RING_PATH_MAX], why[160];
	uid_t owners[2];
	const struct ring_hdr *h;
	struct stat st;
	void *map;
	int fd, err;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	err = ring_name_path(name, path, sizeof(path));
	if (err)
		return err;
	/* O_NONBLOCK: a FIFO under the ring's name must not block the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	err = ring_obj_check(fd, owners, ring_trusted_owners(owners), &st, why, sizeof(why));
	if (err)
		goto fail;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	h = map;
	err = ring_hdr_check(h, (uint64_t)st.st_size);
	if (err) {
		munmap(map, (size_t)st.st_size);
		goto fail;
	}
	r->hdr = h;
	r->map_len = (size_t)st.st_size;
	r->fd = fd;
	r->data = (const uint8_t *)h + h->data_off;
	r->index = (const void *)((const uint8_t *)h + h->index_off);
	r->ifaces = (const void *)((const uint8_t *)h + h->iface_off);
	r->size = h->data_size;
	r->mask = h->data_size - 1;
	r->generation = h->generation;
	r->max_record = h->max_record;
	r->index_mask = h->index_entries - 1;
	r->index_shift = h->index_shift;
	return 0;
fail:
	close(fd);
	return err;
}

void ring_reader_close(struct ring_reader *r)
{
	if (r->hdr)
		munmap((void *)r->hdr, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

int ring_reader_storage(const struct ring_reader *r, char *buf, size_t len, uid_t *uid)
{
	const struct ring_storage *st =
		(const struct ring_storage *)((const uint8_t *)r->hdr + RING_STORAGE_OFF);
	struct ring_storage copy;

	memcpy(&copy, st, sizeof(copy)); /* the writer may rewrite it when it restarts */
	if (!copy.len)
		return -ENOENT;
	if (copy.len >= sizeof(copy.dir) || copy.len >= len || copy.dir[0] != '/' ||
	    memchr(copy.dir, 0, copy.len) || copy.dir[copy.len])
		return -EINVAL;
	memcpy(buf, copy.dir, copy.len + 1);
	*uid = (uid_t)copy.uid;
	return 0;
}

static bool ring_hdr_sane(const struct ring_reader *r, uint64_t off, const struct rawcap_rec_hdr *h)
{
	/* Bound len first: rawcap_rec_span() of a len near 4 GiB wraps to 0 (pads are shorter). */
	if (h->len < RAWCAP_REC_ALIGN || h->len > r->max_record ||
	    rawcap_rec_span(h->len) > r->size - off)
		return false;
	if (h->type == RAWCAP_REC_PAD)
		return true;
	return h->len >= sizeof(*h);
}

int ring_peek(const struct ring_reader *r, uint64_t pos, struct rawcap_rec_hdr *out)
{
	uint64_t off = pos & r->mask;

	if (pos & (RAWCAP_REC_ALIGN - 1))
		return -EBADMSG;
	/* 8-byte alignment keeps a record header inside the area only if >= 24 bytes remain. */
	if (r->size - off < sizeof(*out)) {
		memset(out, 0, sizeof(*out));
		memcpy(out, r->data + off, RAWCAP_REC_ALIGN);
	} else {
		memcpy(out, r->data + off, sizeof(*out));
	}
	if (!ring_pos_intact(r, pos))
		return -ESTALE;
	return ring_hdr_sane(r, off, out) ? 0 : -EBADMSG;
}

struct index_view {
	uint64_t pos, ts_hwm, seq;
};

/* Entry for chunk c, if it is whole and describes a record in [tail, head). */
static bool index_read(const struct ring_reader *r, uint64_t c, uint64_t tail, uint64_t head,
		       struct index_view *v)
{
	const struct ring_index_ent *e = &r->index[c & r->index_mask];
	uint64_t p1 = load_acquire(&e->pos), p2;

	if (p1 == RING_POS_INVALID || p1 >> r->index_shift != c)
		return false;
	v->ts_hwm = load_relaxed(&e->ts_hwm);
	v->seq = load_relaxed(&e->seq);
	fence_acquire();
	p2 = load_relaxed(&e->pos);
	if (p1 != p2 || p1 < tail || p1 >= head)
		return false;
	v->pos = p1;
	return true;
}

enum seek_key { SEEK_KEY_TS, SEEK_KEY_SEQ };

/*
 * Binary search the chunks in [tail, head) for the last index entry whose
 * key is below target. Chunks whose entry is missing (a large record spans
 * them, or the entry is being rewritten) are stepped over.
 */
static uint64_t index_search(const struct ring_reader *r, enum seek_key key, uint64_t target,
			     uint64_t tail, uint64_t head)
{
	uint64_t lo = tail >> r->index_shift, hi = (head - 1) >> r->index_shift;
	uint64_t best = tail;
	struct index_view v;

	while (lo <= hi) {
		uint64_t mid = lo + (hi - lo) / 2, c = mid;

		while (c <= hi && !index_read(r, c, tail, head, &v))
			c++;
		if (c > hi) {
			if (mid == 0)
				break;
			hi = mid - 1;
			continue;
		}
		if ((key == SEEK_KEY_TS ? v.ts_hwm : v.seq) < target) {
			best = v.pos;
			lo = c + 1;
		} else {
			if (mid == 0)
				break;
			hi = mid - 1;
		}
	}
	return best;
}

static uint64_t ring_seek(const struct ring_reader *r, enum seek_key key, uint64_t target)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		uint64_t head = ring_head(r), tail = ring_tail(r), pos;
		struct rawcap_rec_hdr h;

		if (tail >= head)
			return head;
		pos = index_search(r, key, target, tail, head);
		while (pos < head) {
			int err = ring_peek(r, pos, &h);

			if (err == -ESTALE)
				break; /* lapped while seeking: search again from the new tail */
			if (err)
				return pos; /* let the cursor report the damage */
			if (h.type != RAWCAP_REC_PAD &&
			    (key == SEEK_KEY_TS ? h.ts_ns : h.seq) >= target)
				return pos;
			pos += rawcap_rec_span(h.len);
		}
		if (pos >= head)
			return head;
	}
	return ring_tail(r);
}

uint64_t ring_seek_time(const struct ring_reader *r, uint64_t ts_ns)
{
	return ring_seek(r, SEEK_KEY_TS, ts_ns);
}

uint64_t ring_seek_seq(const struct ring_reader *r, uint64_t seq)
{
	return ring_seek(r, SEEK_KEY_SEQ, seq);
}

uint64_t ring_next_indexed(const struct ring_reader *r, uint64_t pos)
{
	uint64_t head = ring_head(r), tail = ring_tail(r), c = (pos >> r->index_shift) + 1;
	struct index_view v;

	if (pos >= head)
		return head;
	if (c < tail >> r->index_shift)
		c = tail >> r->index_shift; /* bounds the scan to the chunks the ring holds */
	for (; c <= (head - 1) >> r->index_shift; c++)
		if (index_read(r, c, tail, head, &v) && v.pos > pos)
			return v.pos;
	return head;
}

bool ring_replaced(const struct ring_reader *r)
{
	struct stat st;

	if (load_acquire(&r->hdr->state) == RING_STATE_RETIRED)
		return true;
	return fstat(r->fd, &st) == 0 && st.st_nlink == 0;
}

int ring_wait(const struct ring_reader *r, uint32_t seen, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	long ret;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	/* FUTEX_WAIT only reads the word, so it works on our read-only mapping. */
	ret = syscall(SYS_futex, &r->hdr->wake_seq, FUTEX_WAIT, seen, tsp, NULL, 0);
	if (ret == 0 || errno == EAGAIN)
		return 0;
	return errno == ETIMEDOUT ? -ETIMEDOUT : -errno;
}

int ring_iface_get(const struct ring_reader *r, uint32_t ifindex, struct rawcap_iface *out)
{
	for (int i = 0; i < RING_IFACE_SLOTS; i++) {
		const struct ring_iface_slot *s = &r->ifaces[i];

		for (int tries = 0; tries < 16; tries++) {
			uint32_t s1 = load_acquire(&s->seq), s2, used;

			if (s1 & 1)
				continue;
			used = s->used; /* a freed slot (ring_iface_del) keeps its old contents */
			memcpy(out, &s->iface, sizeof(*out));
			fence_acquire();
			s2 = load_relaxed(&s->seq);
			if (s1 != s2)
				continue;
			if (s1 && used && out->ifindex == ifindex) {
				out->name[RAWCAP_IFNAMSIZ - 1] = '\0';
				out->filter[RAWCAP_FILTER_MAX - 1] = '\0';
				return 0;
			}
			break;
		}
	}
	return -ENOENT;
}
