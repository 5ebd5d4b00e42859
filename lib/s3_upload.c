// SPDX-License-Identifier: MIT
/*
 * s3_upload.c - upload a local snapshot (rawcap/s3.h): its data files, then
 * its manifest, the exact bytes of the local one, last.
 *
 * Resuming: objects of an earlier run that have the file's size and carry
 * its SHA-256 (x-amz-meta-rawcap-sha256, set by us on a PUT that S3 checked
 * against the same sum) are kept; objects under NAME/data/ that the manifest
 * does not list are deleted before the manifest goes up.
 *
 * Each data file goes up as s3_upload_file.c says: every byte that leaves
 * is checked against the manifest's SHA-256, and a damaged local snapshot is
 * refused naming the file. This file orders the requests (multipart parts
 * in order, then the next file, then stale objects' deletes, the manifest
 * last) and aborts the multipart uploads a failed run began.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "s3_int.h"
#include "s3_upload_int.h"
#include "snapshot_int.h"

static int load_manifest(struct upload *u, const char *dir, const char *name)
{
	struct stat st;
	ssize_t n;
	int fd;

	u->snapfd = -1;
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		u->snapfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (u->snapfd < 0) {
			s3_fail(u->op, -errno, "%s: %s", path, strerror(errno));
			return -errno;
		}
	}
	fd = openat(u->snapfd, SNAP_MANIFEST, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > SNAP_MANIFEST_MAX) {
		int err = fd < 0 ? -errno : -EBADMSG;

		if (fd >= 0)
			close(fd);
		s3_fail(u->op, err, SNAP_MANIFEST ": %s",
			err == -EBADMSG ? "not a manifest" : strerror(-err));
		return err;
	}
	u->text = malloc((size_t)st.st_size + 1);
	n = u->text ? read(fd, u->text, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		s3_fail(u->op, -EIO, SNAP_MANIFEST ": short read");
		return -EIO;
	}
	u->text_len = (size_t)n;
	if (snap_manifest_parse(u->text, u->text_len, &u->m)) {
		s3_fail(u->op, -EBADMSG, SNAP_MANIFEST ": malformed");
		return -EBADMSG;
	}
	if (strcmp(u->m.info.name, name)) {
		s3_fail(u->op, -EBADMSG, SNAP_MANIFEST " names the snapshot %s, not %s",
			u->m.info.name, name);
		return -EBADMSG;
	}
	return 0;
}

static int plan(struct upload *u)
{
	uint64_t total = u->text_len;

	u->files = calloc(u->m.nfiles ? u->m.nfiles : 1, sizeof(*u->files));
	if (!u->files)
		return -ENOMEM;
	for (size_t i = 0; i < u->m.nfiles; i++) {
		struct up_file *f = &u->files[i];

		f->f = &u->m.files[i];
		f->fd = -1;
		f->remote_size = -1;
		if (!s3_rel_path_ok(f->f->path)) {
			s3_fail(u->op, -EBADMSG, "%s: bad path in the manifest", f->f->path);
			return -EBADMSG;
		}
		total += f->f->size;
	}
	u->files_left = u->m.nfiles;
	s3_progress_total(u->op->prog, total, (uint32_t)u->m.nfiles);
	return 0;
}

/* Is the snapshot already there? 0: go on; 1: the same manifest is there. */
static int probe(struct upload *u)
{
	char *text = NULL;
	size_t len = 0;
	int err = s3_get_manifest(u->op, u->name, &text, &len);

	if (!err)
		err = len == u->text_len && !memcmp(text, u->text, len) ? 1 : -EEXIST;
	else if (err == -ENOENT)
		err = 0;
	free(text);
	if (err == -EEXIST)
		s3_fail(u->op, err,
			"a different snapshot named %s is there; delete it first (delete --remote)",
			u->name);
	return err;
}

static int remote_key(void *arg, const char *key, uint64_t size)
{
	struct upload *u = arg;
	const char *rel = key + u->pfxlen;

	for (size_t i = 0; i < u->m.nfiles; i++)
		if (!strcmp(u->m.files[i].path, rel)) {
			u->files[i].remote_size = (int64_t)size;
			return 0;
		}
	return strncmp(rel, "data/", 5) ? 0
					: s3_strv_add(&u->extra, &u->nextra, &u->extra_cap, key);
}

static void head_done(struct s3_op *op, struct s3_req *r)
{
	struct upload *u = op->feed_arg;
	struct up_file *f = r->arg;

	if (!r->result && !strcmp(r->hdr_sha, f->f->sha256) && r->have_length &&
	    r->content_length == f->f->size) {
		f->state = UP_SKIP;
		u->files_left--;
		s3_progress_bytes(op->prog, (int64_t)f->f->size);
		s3_progress_files(op->prog, 1, 1);
	}
}

static struct s3_req *head_feed(struct s3_op *op)
{
	struct upload *u = op->feed_arg;

	while (u->next < u->m.nfiles) {
		struct up_file *f = &u->files[u->next++];
		char key[S3_KEY_MAX];
		struct s3_req *r;

		if (f->remote_size != (int64_t)f->f->size ||
		    s3_key(&op->t, u->name, f->f->path, key, sizeof(key)))
			continue;
		if (!(r = s3_req_new("HEAD", key, NULL))) {
			s3_fail(op, -ENOMEM, "out of memory");
			return NULL;
		}
		r->done = head_done;
		r->arg = f;
		return r;
	}
	return NULL;
}

static void extra_done(struct s3_op *op, struct s3_req *r)
{
	if (r->result && r->result != -ENOENT)
		s3_fail_req(op, r, "delete a stale object");
}

static struct s3_req *extra_feed(struct s3_op *op)
{
	struct upload *u = op->feed_arg;
	struct s3_req *r;

	if (u->next_extra == u->nextra)
		return NULL;
	r = s3_req_new("DELETE", u->extra[u->next_extra++], NULL);
	if (r)
		r->done = extra_done;
	return r;
}

/* What an earlier run left: stale multipart uploads, objects to keep or remove. */
static int resume(struct upload *u)
{
	char pfx[S3_KEY_MAX];
	int err = s3_abort_stale(u->op, u->name);

	if (!err)
		err = s3_key(&u->op->t, u->name, "", pfx, sizeof(pfx));
	if (err)
		return err;
	u->pfxlen = strlen(pfx);
	err = s3_list_keys(u->op, pfx, remote_key, u);
	if (err)
		return err;
	u->op->feed = head_feed;
	u->op->feed_arg = u;
	u->next = 0;
	err = s3_run(u->op);
	u->next = 0;
	return err;
}

static void manifest_done(struct s3_op *op, struct s3_req *r)
{
	struct upload *u = op->feed_arg;

	if (r->result)
		s3_fail_req(op, r, SNAP_MANIFEST);
	else
		u->manifest_done = true;
}

static struct s3_req *manifest_req(struct upload *u)
{
	char key[S3_KEY_MAX];
	struct s3_req *r;

	u->manifest_sent = true;
	if (s3_key(&u->op->t, u->name, SNAP_MANIFEST, key, sizeof(key)) ||
	    !(r = s3_req_new("PUT", key, NULL)) || !(r->body_mem = malloc(u->text_len + 1))) {
		s3_fail(u->op, -ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(r->body_mem, u->text, u->text_len);
	r->body_len = r->body_mem_len = u->text_len;
	s3_sha256_hex(u->text, u->text_len, r->payload_sha);
	r->content_type = "application/json";
	r->progress = true;
	r->done = manifest_done;
	return r;
}

/*
 * The next request: parts of multipart files already started, in order;
 * then the next file; then, once every data object is complete and stale
 * ones are gone, the manifest.
 */
static struct s3_req *upload_feed(struct s3_op *op)
{
	struct upload *u = op->feed_arg;

	while (u->lo < u->next && u->files[u->lo].state >= UP_SKIP &&
	       u->files[u->lo].state != UP_RUNNING)
		u->lo++;
	for (size_t i = u->lo; i < u->next; i++) {
		struct up_file *f = &u->files[i];

		if (f->state == UP_RUNNING && f->upload_id && f->next_part < f->nparts)
			return s3_upload_part_req(u, f);
	}
	while (u->next < u->m.nfiles) {
		struct up_file *f = &u->files[u->next++];

		if (f->state == UP_TODO)
			return s3_upload_file_req(u, f);
	}
	if (u->files_left || op->running)
		return NULL;
	if (u->next_extra < u->nextra)
		return extra_feed(op);
	return u->manifest_sent ? NULL : manifest_req(u);
}

/* After a failure: abort the multipart uploads this run began, and check they stay gone. */
static void abort_started(struct upload *u)
{
	const char **ids = calloc(u->m.nfiles ? u->m.nfiles : 1, sizeof(*ids));
	size_t n = 0;

	for (size_t i = 0; i < u->m.nfiles; i++) {
		struct up_file *f = &u->files[i];
		char key[S3_KEY_MAX], q[3 * 1024 + 16], eid[3 * 1024];
		struct s3_req *r;

		if (!f->upload_id || s3_key(&u->op->t, u->name, f->f->path, key, sizeof(key)) ||
		    s3_uri_encode(f->upload_id, false, eid, sizeof(eid)))
			continue;
		snprintf(q, sizeof(q), "uploadId=%s", eid);
		if ((r = s3_req_new("DELETE", key, q)))
			s3_submit(u->op, r);
		if (ids)
			ids[n++] = f->upload_id;
	}
	s3_run_cleanup(u->op);
	if (ids)
		s3_abort_confirm(u->op, u->name, ids, n);
	free(ids);
}

static void upload_free(struct upload *u)
{
	for (size_t i = 0; u->files && i < u->m.nfiles; i++) {
		if (u->files[i].fd >= 0)
			close(u->files[i].fd);
		free(u->files[i].upload_id);
		free(u->files[i].etags);
		EVP_MD_CTX_free(u->files[i].whole);
	}
	for (size_t i = 0; i < u->nextra; i++)
		free(u->extra[i]);
	free(u->extra);
	free(u->files);
	free(u->text);
	free(u->buf);
	snap_manifest_free(&u->m);
	if (u->snapfd >= 0)
		close(u->snapfd);
}

int s3_upload_run(struct s3_op *op, const char *dir, const char *name)
{
	struct upload u = {.op = op, .name = name, .snapfd = -1};
	bool sent; /* data may have gone up: say how to resume */
	uint32_t skipped;
	int err;

	u.part_size = op->part_size;
	err = load_manifest(&u, dir, name);
	if (!err)
		err = plan(&u);
	if (!err && !(u.buf = malloc(HASH_BUF)))
		err = -ENOMEM;
	if (!err)
		err = probe(&u);
	if (err == 1) {
		s3_progress_bytes(op->prog, (int64_t)(op->prog->st.bytes_total));
		s3_progress_files(op->prog, (uint32_t)u.m.nfiles, (uint32_t)u.m.nfiles);
		snprintf(op->msg, sizeof(op->msg),
			 "already there (the same manifest): nothing sent");
		upload_free(&u);
		return 0;
	}
	sent = !err;
	if (!err)
		err = resume(&u);
	if (!err) {
		op->feed = upload_feed;
		op->feed_arg = &u;
		err = s3_run(op);
		if (!err && !u.manifest_done)
			s3_fail(op, err = -EIO, "the upload ended before its manifest was sent");
	}
	if (err && sent) {
		abort_started(&u);
		snprintf(op->msg + strlen(op->msg), sizeof(op->msg) - strlen(op->msg),
			 "; not listed there (no manifest): run the upload again to resume, or "
			 "delete --remote");
	}
	skipped = op->prog->st.files_skipped;
	if (!err)
		snprintf(op->msg, sizeof(op->msg), "%zu files, %llu bytes of data%s", u.m.nfiles,
			 (unsigned long long)u.m.info.data_bytes,
			 skipped ? " (resumed: some were already there)" : "");
	upload_free(&u);
	return err;
}
