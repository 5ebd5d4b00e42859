// SPDX-License-Identifier: MIT
/*
 * s3_abort.c - multipart uploads left behind: those a killed run left under
 * a snapshot's prefix (ListMultipartUploads, then AbortMultipartUpload for
 * each: s3_abort_stale), and those that came back after a cancelled run
 * aborted its own (s3_abort_confirm).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3_int.h"

struct stale {
	struct {
		char *key, *id;
	} * v;
	size_t n, cap;
};

static int stale_add(void *arg, const char *key, const char *id)
{
	struct stale *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *nv = realloc(s->v, cap * sizeof(*s->v));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n].key = strdup(key);
	s->v[s->n].id = strdup(id);
	if (!s->v[s->n].key || !s->v[s->n].id) {
		free(s->v[s->n].key);
		free(s->v[s->n].id);
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

static void stale_free(struct stale *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].id);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * One page of ListMultipartUploads under prefix; -ENOTSUP where the server
 * has none. cleanup: after a failure or cancel (s3_run_cleanup's rules).
 */
static int list_uploads(struct s3_op *op, const char *epfx, char *key_marker, char *id_marker,
			size_t markerlen, struct stale *s, bool *truncated, bool cleanup)
{
	char ek[3 * S3_KEY_MAX], eid[3 * 1024], q[sizeof(ek) + sizeof(eid) + 3 * S3_KEY_MAX + 64];
	char pkm[S3_KEY_MAX], pim[1024];
	struct s3_req *r;
	int err;

	snprintf(pkm, sizeof(pkm), "%s", key_marker);
	snprintf(pim, sizeof(pim), "%s", id_marker);
	if (key_marker[0]) {
		s3_uri_encode(key_marker, false, ek, sizeof(ek));
		s3_uri_encode(id_marker, false, eid, sizeof(eid));
		snprintf(q, sizeof(q), "key-marker=%s&prefix=%s&upload-id-marker=%s&uploads=", ek,
			 epfx, eid);
	} else {
		snprintf(q, sizeof(q), "prefix=%s&uploads=", epfx);
	}
	r = s3_req_new("GET", "", q);
	if (!r)
		return -ENOMEM;
	r->resp_max = S3_XML_MAX;
	if (cleanup) {
		r->keep = true;
		s3_submit(op, r);
		s3_run_cleanup(op);
		err = r->result ? r->result : r->status ? 0 : -ETIMEDOUT;
	} else {
		err = s3_run_one(op, r);
	}
	if (!err)
		err = s3_xml_uploads(r->resp, r->resp_len, stale_add, s, truncated, key_marker,
				     id_marker, markerlen);
	/* Markers that did not move would be asked for again for ever (callers cap pages too). */
	if (!err && !strcmp(key_marker, pkm) && !strcmp(id_marker, pim))
		*truncated = false;
	s3_req_free(r);
	return err;
}

/* Pages of ListMultipartUploads read at most (1000 uploads each): the aborts are best effort. */
#define UPLOADS_PAGES_MAX 1000

/* Whether id is one of ids (n); every id when ids is NULL. */
static bool id_in(const char *id, const char *const *ids, size_t n)
{
	if (!ids)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return true;
	return false;
}

/*
 * Abort the uploads the server lists under epfx whose id is in ids (NULL:
 * all), page by page; cleanup: after a failure or cancel (s3_run_cleanup's
 * rules). How many it aborted, or -errno (no listing to be had: -ENOTSUP on
 * s3rver and some gateways, or refused). Abort requests: the outcome does
 * not matter (the upload may be gone already).
 */
static int abort_listed(struct s3_op *op, const char *epfx, const char *const *ids, size_t n,
			bool cleanup)
{
	char km[S3_KEY_MAX] = "", im[1024] = "";
	struct stale s = {0};
	bool truncated = false;
	unsigned pages = 0;
	int err, found = 0;

	do {
		err = list_uploads(op, epfx, km, im, sizeof(im), &s, &truncated, cleanup);
		for (size_t i = 0; !err && i < s.n; i++) {
			char q[3 * 1024 + 16], eid[3 * 1024];
			struct s3_req *r;

			if (!id_in(s.v[i].id, ids, n) ||
			    s3_uri_encode(s.v[i].id, false, eid, sizeof(eid)))
				continue;
			snprintf(q, sizeof(q), "uploadId=%s", eid);
			if ((r = s3_req_new("DELETE", s.v[i].key, q)))
				s3_submit(op, r);
			found++;
		}
		stale_free(&s);
		if (!err && found && cleanup)
			s3_run_cleanup(op);
		else if (!err && found)
			err = s3_run(op);
	} while (!err && truncated && ++pages < UPLOADS_PAGES_MAX);
	return err ? err : found;
}

/* NAME/'s key prefix, URI-encoded into epfx (3 * S3_KEY_MAX bytes). */
static int name_prefix(struct s3_op *op, const char *name, char *epfx)
{
	char pfx[S3_KEY_MAX];
	int err = s3_key(&op->t, name, "", pfx, sizeof(pfx));

	return err ? err : s3_uri_encode(pfx, false, epfx, 3 * S3_KEY_MAX);
}

int s3_abort_stale(struct s3_op *op, const char *name)
{
	char epfx[3 * S3_KEY_MAX];
	int err = name_prefix(op, name, epfx);

	if (err)
		return err;
	abort_listed(op, epfx, NULL, 0, false);
	return op->error;
}

#define CONFIRM_PASSES	 3
#define CONFIRM_PAUSE_US 250000

void s3_abort_confirm(struct s3_op *op, const char *name, const char *const *ids, size_t n)
{
	char epfx[3 * S3_KEY_MAX];

	if (!n || name_prefix(op, name, epfx))
		return;
	for (int pass = 0; pass < CONFIRM_PASSES; pass++) {
		usleep(CONFIRM_PAUSE_US); /* parts the server began before the abort */
		if (abort_listed(op, epfx, ids, n, true) <= 0)
			break; /* none of ours listed, or no listing to be had */
	}
}
