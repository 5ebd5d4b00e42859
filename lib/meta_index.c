// SPDX-License-Identifier: MIT
/*
 * meta_index.c - which pod held which IP address when: the time-aware
 * index behind pod-aware readers (API in rawcap/meta.h).
 *
 * Pod records arrive in stream order. For every pod uid we remember the
 * addresses it holds now; for every address, the intervals [from, to) with
 * the pod version (namespace, name, labels) that held it. A record that
 * gives a pod an address closes whatever interval held that address (the
 * previous owner must be gone: addresses are reused) and opens one for the
 * pod; a record that takes an address away (deleted, finished, or a new
 * address list) closes the pod's interval. Pod versions are immutable and
 * kept for the index's lifetime, so answers stay valid while it lives.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/meta.h>

#include "meta_flow.h"
#include "meta_index.h"
#include "meta_mp.h"

#define BUCKETS	    4096
#define POD_IPS_MAX 16

struct ival {
	uint64_t from, to;
	const struct meta_pod *pod;
};

struct ipent {
	struct ipent *next;
	uint8_t key[17]; /* family byte, then 16 address bytes */
	struct ival *v;
	size_t n, cap;
};

struct uident {
	struct uident *next;
	char *uid;
	const struct meta_pod *cur;
	uint8_t ips[POD_IPS_MAX][17];
	int nips;
};

struct rawcap_meta_index {
	struct ipent *ips[BUCKETS];
	size_t nips; /* entries in ips: none (no pods known) skips the per-packet hash */
	struct uident *uids[BUCKETS];
	struct meta_pod **pods;
	size_t npods, pods_cap;
	struct rawcap_meta_index_stats st;
	struct meta_flow *flows; /* process records: sockets to processes */
};

static uint32_t hash(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *s++) * 16777619u;
	return h % BUCKETS;
}

int rawcap_meta_index_new(struct rawcap_meta_index **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out && meta_flow_new(&(*out)->flows, 0)) {
		free(*out);
		*out = NULL;
	}
	return *out ? 0 : -ENOMEM;
}

const struct meta_flow *meta_index_flows(const struct rawcap_meta_index *ix)
{
	return ix->flows;
}

static void pod_free(struct meta_pod *p)
{
	free(p->strs);
	free(p);
}

void rawcap_meta_index_free(struct rawcap_meta_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct ipent *e = ix->ips[i], *n; e; e = n) {
			n = e->next;
			free(e->v);
			free(e);
		}
		for (struct uident *u = ix->uids[i], *n; u; u = n) {
			n = u->next;
			free(u->uid);
			free(u);
		}
	}
	for (size_t i = 0; i < ix->npods; i++)
		pod_free(ix->pods[i]);
	free(ix->pods);
	meta_flow_free(ix->flows);
	free(ix);
}

static struct ipent *ip_get(const struct rawcap_meta_index *ix, const uint8_t key[17])
{
	if (!ix->nips)
		return NULL;
	for (struct ipent *e = ix->ips[hash(key, 17)]; e; e = e->next)
		if (!memcmp(e->key, key, 17))
			return e;
	return NULL;
}

static struct ipent *ip_add(struct rawcap_meta_index *ix, const uint8_t key[17])
{
	struct ipent *e = ip_get(ix, key);

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->key, key, 17);
	e->next = ix->ips[hash(key, 17)];
	ix->ips[hash(key, 17)] = e;
	ix->nips++;
	return e;
}

static struct uident *uid_get(struct rawcap_meta_index *ix, const char *uid, bool create)
{
	uint32_t h = hash(uid, strlen(uid));
	struct uident *u;

	for (u = ix->uids[h]; u; u = u->next)
		if (!strcmp(u->uid, uid))
			return u;
	if (!create)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->uid = strdup(uid))) {
		free(u);
		return NULL;
	}
	u->next = ix->uids[h];
	ix->uids[h] = u;
	return u;
}

/* Close the open interval on address key, if any; returns its pod. */
static const struct meta_pod *ip_close(struct rawcap_meta_index *ix, const uint8_t key[17],
				       uint64_t ts)
{
	struct ipent *e = ip_get(ix, key);
	struct ival *last;

	if (!e || !e->n)
		return NULL;
	last = &e->v[e->n - 1];
	if (last->to != UINT64_MAX)
		return NULL;
	last->to = ts > last->from ? ts : last->from;
	return last->pod;
}

static void uid_drop_ip(struct rawcap_meta_index *ix, const char *uid, const uint8_t key[17])
{
	struct uident *u = uid_get(ix, uid, false);

	for (int i = 0; u && i < u->nips; i++)
		if (!memcmp(u->ips[i], key, 17)) {
			memmove(u->ips[i], u->ips[i + 1], (size_t)(u->nips - i - 1) * 17);
			u->nips--;
			return;
		}
}

/* Open an interval for pod on key at ts, closing any other holder's. */
static int ip_open(struct rawcap_meta_index *ix, const uint8_t key[17], const struct meta_pod *pod,
		   uint64_t ts)
{
	struct ipent *e = ip_add(ix, key);
	struct ival *last;

	if (!e)
		return -ENOMEM;
	last = e->n ? &e->v[e->n - 1] : NULL;
	if (last && last->to == UINT64_MAX) {
		if (last->pod == pod)
			return 0;
		if (strcmp(last->pod->uid, pod->uid))
			uid_drop_ip(ix, last->pod->uid, key); /* the old holder lost it */
		ip_close(ix, key, ts);
	}
	if (ix->st.intervals >= RAWCAP_META_INDEX_MAX_INTERVALS) {
		ix->st.full++;
		return -ENOSPC;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 2;
		struct ival *nv = realloc(e->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		e->v = nv;
		e->cap = cap;
	}
	e->v[e->n++] = (struct ival){ .from = ts, .to = UINT64_MAX, .pod = pod };
	ix->st.intervals++;
	return 0;
}

static bool has_key(const uint8_t (*set)[17], int n, const uint8_t key[17])
{
	for (int i = 0; i < n; i++)
		if (!memcmp(set[i], key, 17))
			return true;
	return false;
}

/* Intern pod version p (taking ownership), reusing cur if it is the same. */
static const struct meta_pod *pod_intern(struct rawcap_meta_index *ix, struct meta_pod *p,
					 const struct meta_pod *cur)
{
	struct meta_pod **np;

	if (cur && meta_pod_same(cur, p)) {
		pod_free(p);
		return cur;
	}
	if (ix->npods >= RAWCAP_META_INDEX_MAX_PODS) {
		ix->st.full++;
		pod_free(p);
		return NULL;
	}
	if (ix->npods == ix->pods_cap) {
		size_t cap = ix->pods_cap ? ix->pods_cap * 2 : 64;

		np = realloc(ix->pods, cap * sizeof(*np));
		if (!np) {
			pod_free(p);
			return NULL;
		}
		ix->pods = np;
		ix->pods_cap = cap;
	}
	ix->pods[ix->npods++] = p;
	ix->st.pods = ix->npods;
	return p;
}

static int apply_pod(struct rawcap_meta_index *ix, struct meta_pod_rec *r, uint64_t ts)
{
	struct uident *u = uid_get(ix, r->pod->uid, true);
	const struct meta_pod *pv = NULL;
	int err = 0;

	if (!u) {
		pod_free(r->pod);
		return -ENOMEM;
	}
	/* addresses the pod no longer holds */
	for (int i = 0; i < u->nips; i++)
		if (!r->active || !has_key((const uint8_t(*)[17])r->ips, r->nips, u->ips[i])) {
			struct ipent *e = ip_get(ix, u->ips[i]);

			if (e && e->n && e->v[e->n - 1].pod == u->cur)
				ip_close(ix, u->ips[i], ts);
		}
	u->nips = 0;
	if (!r->active) {
		pod_free(r->pod);
		u->cur = NULL;
		return 0;
	}
	pv = pod_intern(ix, r->pod, u->cur);
	if (!pv)
		return -ENOSPC;
	u->cur = pv;
	for (int i = 0; i < r->nips && !err; i++) {
		err = ip_open(ix, r->ips[i], pv, ts);
		if (!err)
			memcpy(u->ips[u->nips++], r->ips[i], 17);
	}
	return err;
}

int rawcap_meta_index_add(struct rawcap_meta_index *ix, unsigned kind, uint64_t ts_ns,
			  const void *payload, size_t len)
{
	struct meta_pod_rec r;
	int err;

	ix->st.records++;
	if (kind == RAWCAP_META_PROCESS)
		return meta_flow_add(ix->flows, ts_ns, payload, len);
	if (kind != RAWCAP_META_POD)
		return 0;
	ix->st.pod_records++;
	err = meta_pod_decode(payload, len, &r);
	if (err) {
		ix->st.bad_records++;
		return err;
	}
	return apply_pod(ix, &r, ts_ns);
}

int rawcap_meta_index_add_rec(struct rawcap_meta_index *ix, const struct rawcap_rec *rec)
{
	void *copy;
	int err;

	if (rec->type != RAWCAP_REC_META ||
	    (rec->flags != RAWCAP_META_POD && rec->flags != RAWCAP_META_PROCESS))
		return rec->type == RAWCAP_REC_META ? (ix->st.records++, 0) : 0;
	if (rec->len > RAWCAP_REC_MAX)
		return -EBADMSG;
	copy = malloc(rec->len ? rec->len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, rec->payload, rec->len);
	err = rawcap_meta_index_add(ix, rec->flags, rec->ts_ns, copy, rec->len);
	free(copy);
	return err;
}

int rawcap_meta_pod_at(const struct rawcap_meta_index *ix, int family, const void *addr,
		       uint64_t ts_ns, struct rawcap_meta_pod *out)
{
	uint8_t key[17];
	const struct ipent *e;

	if (!meta_ip_key(family, addr, key))
		return 0;
	e = ip_get(ix, key);
	for (size_t i = e ? e->n : 0; i-- > 0;) {
		const struct ival *v = &e->v[i];

		if (v->from <= ts_ns && ts_ns < v->to) {
			meta_pod_view(v->pod, v->from, v->to, out);
			return 1;
		}
	}
	return 0;
}

void rawcap_meta_index_stats(const struct rawcap_meta_index *ix,
			     struct rawcap_meta_index_stats *out)
{
	*out = ix->st;
}

int rawcap_meta_index_prime_begin(struct rawcap_meta_index *ix, struct rawcap_cursor *c,
				  uint64_t from_ns, uint64_t lookback_ns)
{
	uint64_t start;
	int err;

	(void)ix;
	if (!lookback_ns)
		lookback_ns = RAWCAP_META_LOOKBACK_NS;
	start = from_ns > lookback_ns ? from_ns - lookback_ns : 0;
	err = rawcap_seek(c, start ? RAWCAP_SEEK_TIME : RAWCAP_SEEK_OLDEST, start);
	if (!err)
		return 1;
	if (err != -ENODATA && err != -ENOENT)
		return err;
	err = rawcap_seek(c, RAWCAP_SEEK_TIME, from_ns); /* nothing before from_ns */
	return err == -ENOENT ? 0 : err;
}

int rawcap_meta_index_prime_step(struct rawcap_meta_index *ix, struct rawcap_cursor *c,
				 uint64_t from_ns, void *buf, size_t cap, unsigned budget)
{
	struct rawcap_rec rec;
	int err;

	for (unsigned n = 0; n < budget; n++) {
		err = rawcap_next_copy(c, &rec, buf, cap);
		if (err == -EMSGSIZE || err == -EBADMSG)
			continue;
		if (err <= 0 || rec.ts_ns >= from_ns)
			goto done;
		rawcap_meta_index_add_rec(ix, &rec);
	}
	return 1; /* budget spent, more history to read */
done:
	if (err < 0 && err != -ENODATA && err != -ENOENT)
		return err;
	err = rawcap_seek(c, RAWCAP_SEEK_TIME, from_ns);
	return err == -ENOENT ? 0 : err;
}

int rawcap_meta_index_prime(struct rawcap_meta_index *ix, struct rawcap_cursor *c,
			    uint64_t from_ns, uint64_t lookback_ns)
{
	void *buf = malloc(RAWCAP_REC_MAX);
	int err;

	if (!buf)
		return -ENOMEM;
	err = rawcap_meta_index_prime_begin(ix, c, from_ns, lookback_ns);
	while (err > 0)
		err = rawcap_meta_index_prime_step(ix, c, from_ns, buf, RAWCAP_REC_MAX, UINT_MAX);
	free(buf);
	return err;
}
