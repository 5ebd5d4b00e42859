// SPDX-License-Identifier: MIT
/*
 * s3_admin.c - what is done to remote snapshots besides moving them: list
 * the names under a prefix (complete ones have a manifest), delete one
 * (manifest first), and the listings the transfers share: every key under a
 * prefix (ListObjectsV2, paginated). Multipart uploads left behind:
 * s3_abort.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "snapshot_int.h"

#define LIST_TOKEN_MAX 1024

int s3_strv_add(char ***v, size_t *n, size_t *cap, const char *str)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	if (!((*v)[*n] = strdup(str)))
		return -ENOMEM;
	++*n;
	return 0;
}

int s3_get_manifest(struct s3_op *op, const char *name, char **text, size_t *len)
{
	char key[S3_KEY_MAX];
	struct s3_req *r;
	int err = s3_key(&op->t, name, SNAP_MANIFEST, key, sizeof(key));

	if (err || !(r = s3_req_new("GET", key, NULL)))
		return err ? err : -ENOMEM;
	r->resp_max = SNAP_MANIFEST_MAX;
	err = s3_run_one(op, r);
	if (!err) {
		*text = r->resp;
		*len = r->resp_len;
		r->resp = NULL;
	} else if (err != -ENOENT) {
		s3_fail_req(op, r, SNAP_MANIFEST);
	}
	s3_req_free(r);
	return err;
}

/* Counts a page's keys on their way to the caller's callback. */
struct list_page {
	int (*cb)(void *arg, const char *key, uint64_t size);
	void *arg;
	size_t keys;
};

static int list_page_key(void *arg, const char *key, uint64_t size)
{
	struct list_page *p = arg;

	p->keys++;
	return p->cb(p->arg, key, size);
}

/*
 * A truncated page must move on. Empty truncated pages with a new token are
 * legal (AWS, GCS and MinIO send them where many keys were deleted or are
 * being written), so what ends a listing is a token sent before (a server
 * that answers so, or alternates tokens, would be asked for ever: broken or
 * hostile) or an absurd run of empty pages.
 */
#define LIST_EMPTY_RUN_MAX 1000

struct list_seen {
	uint64_t *h; /* FNV-1a of every token sent */
	size_t n, cap;
	unsigned empty_run;
};

static uint64_t token_hash(const char *t)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *t; t++)
		h = (h ^ (uint8_t)*t) * 0x100000001b3ull;
	return h;
}

/* Remember that token was sent; -EEXIST if it was before, -ENOMEM. */
static int list_sent(struct list_seen *seen, const char *token)
{
	uint64_t h = token_hash(token);

	for (size_t i = 0; i < seen->n; i++)
		if (seen->h[i] == h)
			return -EEXIST;
	if (seen->n == seen->cap) {
		size_t cap = seen->cap ? seen->cap * 2 : 64;
		uint64_t *nh = realloc(seen->h, cap * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		seen->h = nh;
		seen->cap = cap;
	}
	seen->h[seen->n++] = h;
	return 0;
}

static int list_progress(struct s3_op *op, const struct list_page *p, struct list_seen *seen,
			 const char *token)
{
	const char *why = NULL;
	int err;

	if (!token[0])
		return 0;
	seen->empty_run = p->keys ? 0 : seen->empty_run + 1;
	err = list_sent(seen, token);
	if (err == -ENOMEM)
		why = "out of memory";
	else if (err)
		why = "a continuation token it gave before (it would list for ever)";
	else if (seen->empty_run > LIST_EMPTY_RUN_MAX)
		why = "1000 truncated pages in a row without a key";
	if (!why)
		return 0;
	s3_fail(op, -EPROTO, "list the bucket: %s", why);
	return -EPROTO;
}

int s3_list_keys(struct s3_op *op, const char *prefix,
		 int (*cb)(void *arg, const char *key, uint64_t size), void *arg)
{
	char token[LIST_TOKEN_MAX] = "", etoken[3 * LIST_TOKEN_MAX];
	char epfx[3 * S3_KEY_MAX], q[sizeof(etoken) + sizeof(epfx) + 64];
	struct list_seen seen = {0};
	int err = s3_uri_encode(prefix, false, epfx, sizeof(epfx));

	if (err)
		return err;
	do {
		struct list_page page = {cb, arg, 0};
		struct s3_req *r;

		if (token[0]) {
			s3_uri_encode(token, false, etoken, sizeof(etoken));
			snprintf(q, sizeof(q), "continuation-token=%s&list-type=2&prefix=%s",
				 etoken, epfx);
		} else {
			snprintf(q, sizeof(q), "list-type=2&prefix=%s", epfx);
		}
		r = s3_req_new("GET", "", q);
		if (!r) {
			free(seen.h);
			return -ENOMEM;
		}
		r->resp_max = S3_XML_MAX;
		err = s3_run_one(op, r);
		if (err)
			s3_fail_req(op, r, "list the bucket");
		else if ((err = s3_xml_list(r->resp, r->resp_len, list_page_key, &page, token,
					    sizeof(token))) == -EPROTO)
			s3_fail(op, err, "list the bucket: malformed ListObjectsV2 response");
		else if (!err)
			err = list_progress(op, &page, &seen, token);
		s3_req_free(r);
	} while (!err && token[0]);
	free(seen.h);
	return err;
}

/* Listing: one entry per name, keys of a name arrive together (S3 lists in key order). */
struct lister {
	struct s3_op *op;
	size_t pfxlen;
	struct rawcap_s3_entry *v;
	size_t n, cap, next_info;
};

static int list_key(void *arg, const char *key, uint64_t size)
{
	struct lister *l = arg;
	const char *name = key + l->pfxlen, *slash = strchr(name, '/');
	struct rawcap_s3_entry *e = NULL;
	char nm[RAWCAP_SNAP_NAME_MAX + 1];
	size_t len = slash ? (size_t)(slash - name) : 0;

	if (!slash || len > RAWCAP_SNAP_NAME_MAX)
		return 0;
	memcpy(nm, name, len);
	nm[len] = '\0';
	if (!rawcap_snapshot_name_ok(nm))
		return 0;
	for (size_t i = l->n; i-- > 0 && !e;)
		if (!strcmp(l->v[i].name, nm))
			e = &l->v[i];
	if (!e) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct rawcap_s3_entry *nv = realloc(l->v, cap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			l->v = nv;
			l->cap = cap;
		}
		e = &l->v[l->n++];
		memset(e, 0, sizeof(*e));
		strcpy(e->name, nm);
	}
	e->objects++;
	e->bytes += size;
	if (!strcmp(slash + 1, SNAP_MANIFEST))
		e->complete = true;
	return 0;
}

static void info_done(struct s3_op *op, struct s3_req *r)
{
	struct rawcap_s3_entry *e = r->arg;
	struct snap_manifest m;

	(void)op;
	if (r->result || snap_manifest_parse(r->resp, r->resp_len, &m))
		return; /* listed, but without its details */
	if (!strcmp(m.info.name, e->name)) {
		e->info = m.info;
		e->have_info = true;
	}
	snap_manifest_free(&m);
}

static struct s3_req *info_feed(struct s3_op *op)
{
	struct lister *l = op->feed_arg;

	while (l->next_info < l->n) {
		struct rawcap_s3_entry *e = &l->v[l->next_info++];
		char key[S3_KEY_MAX];
		struct s3_req *r;

		if (!e->complete || s3_key(&op->t, e->name, SNAP_MANIFEST, key, sizeof(key)))
			continue;
		r = s3_req_new("GET", key, NULL);
		if (!r) {
			s3_fail(op, -ENOMEM, "out of memory");
			return NULL;
		}
		r->resp_max = SNAP_MANIFEST_MAX;
		r->done = info_done;
		r->arg = e;
		return r;
	}
	return NULL;
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct rawcap_s3_entry *)a)->name,
		      ((const struct rawcap_s3_entry *)b)->name);
}

static int op_open(struct s3_op *op, struct s3_progress *prog, const struct rawcap_s3_opts *o,
		   char *errbuf, size_t errlen)
{
	memset(prog, 0, sizeof(*prog));
	pthread_mutex_init(&prog->lock, NULL);
	if (!o || o->sz < sizeof(*o)) {
		snprintf(errbuf, errlen, "invalid options");
		return -EINVAL;
	}
	return s3_op_init(op, o, prog, errbuf, errlen);
}

static void op_close(struct s3_op *op, struct s3_progress *prog, int err, const char *what,
		     char *errbuf, size_t errlen)
{
	if (err && !errbuf[0])
		snprintf(errbuf, errlen, "%s %s: %s", what, op->t.display,
			 op->msg[0] ? op->msg : strerror(-err));
	s3_creds_redact(&op->creds, errbuf);
	s3_op_fini(op);
	pthread_mutex_destroy(&prog->lock);
}

int rawcap_s3_list(const struct rawcap_s3_opts *o, bool with_info, struct rawcap_s3_entry **out,
		   size_t *n, char *errbuf, size_t errlen)
{
	char pfx[S3_KEY_MAX + 1];
	struct s3_progress prog;
	struct lister l = {0};
	struct s3_op op;
	int err;

	*out = NULL;
	*n = 0;
	errbuf[0] = '\0';
	err = op_open(&op, &prog, o, errbuf, errlen);
	if (!err) {
		snprintf(pfx, sizeof(pfx), "%s%s", op.t.prefix, op.t.prefix[0] ? "/" : "");
		l.op = &op;
		l.pfxlen = strlen(pfx);
		err = s3_list_keys(&op, pfx, list_key, &l);
	}
	if (!err && with_info) {
		op.feed = info_feed;
		op.feed_arg = &l;
		err = s3_run(&op);
	}
	op_close(&op, &prog, err, "list", errbuf, errlen);
	if (err) {
		free(l.v);
		return err;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_entries);
	*out = l.v;
	*n = l.n;
	return 0;
}

void rawcap_s3_list_free(struct rawcap_s3_entry *entries)
{
	free(entries);
}

/* Deleting: the keys of one name, the manifest apart. */
struct doomed {
	char **keys;
	size_t n, cap, next;
	bool manifest;
	size_t pfxlen;
};

static int doomed_add(void *arg, const char *key, uint64_t size)
{
	struct doomed *d = arg;

	(void)size;
	if (!strcmp(key + d->pfxlen, SNAP_MANIFEST)) {
		d->manifest = true;
		return 0;
	}
	return s3_strv_add(&d->keys, &d->n, &d->cap, key);
}

static void delete_done(struct s3_op *op, struct s3_req *r)
{
	if (r->result && r->result != -ENOENT)
		s3_fail_req(op, r, r->key);
}

static struct s3_req *delete_feed(struct s3_op *op)
{
	struct doomed *d = op->feed_arg;
	struct s3_req *r;

	if (d->next == d->n)
		return NULL;
	r = s3_req_new("DELETE", d->keys[d->next++], NULL);
	if (!r)
		s3_fail(op, -ENOMEM, "out of memory");
	else
		r->done = delete_done;
	return r;
}

static int delete_manifest(struct s3_op *op, const char *name)
{
	char key[S3_KEY_MAX];
	struct s3_req *r;
	int err = s3_key(&op->t, name, SNAP_MANIFEST, key, sizeof(key));

	if (err)
		return err;
	r = s3_req_new("DELETE", key, NULL);
	if (!r)
		return -ENOMEM;
	err = s3_run_one(op, r);
	if (err && err != -ENOENT)
		s3_fail_req(op, r, SNAP_MANIFEST);
	s3_req_free(r);
	return err == -ENOENT ? 0 : err;
}

int rawcap_s3_delete(const struct rawcap_s3_opts *o, const char *name, char *errbuf, size_t errlen)
{
	char pfx[S3_KEY_MAX], what[RAWCAP_SNAP_NAME_MAX + 16];
	struct s3_progress prog;
	struct doomed d = {0};
	struct s3_op op;
	int err;

	errbuf[0] = '\0';
	if (!rawcap_snapshot_name_ok(name)) {
		snprintf(errbuf, errlen, "%s: invalid snapshot name", name ? name : "(null)");
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "delete %s from", name);
	err = op_open(&op, &prog, o, errbuf, errlen);
	if (!err)
		err = s3_key(&op.t, name, "", pfx, sizeof(pfx));
	if (!err) {
		d.pfxlen = strlen(pfx);
		err = s3_list_keys(&op, pfx, doomed_add, &d);
	}
	if (!err && !d.n && !d.manifest) {
		err = -ENOENT;
		snprintf(op.msg, sizeof(op.msg), "no snapshot named %s there", name);
	}
	if (!err && d.manifest)
		err = delete_manifest(&op, name); /* first: it stops being a snapshot at once */
	if (!err) {
		op.feed = delete_feed;
		op.feed_arg = &d;
		err = s3_run(&op);
		op.feed = NULL;
	}
	if (!err)
		err = s3_abort_stale(&op, name);
	op_close(&op, &prog, err, what, errbuf, errlen);
	for (size_t i = 0; i < d.n; i++)
		free(d.keys[i]);
	free(d.keys);
	return err;
}
