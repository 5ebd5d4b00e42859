// SPDX-License-Identifier: MIT
/*
 * s3_upload_file.c - upload one data file of a snapshot (s3_upload.c runs
 * the whole): below two part sizes one PutObject, signed with the
 * manifest's sum and hashed as it is sent; else a multipart upload whose
 * parts are read once ahead of their requests, to hash each (its signed
 * payload) and the whole file, which must match the manifest before the
 * upload is completed.
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

static void file_finished(struct upload *u, struct up_file *f)
{
	f->state = UP_DONE;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->upload_id);
	f->upload_id = NULL;
	free(f->etags);
	f->etags = NULL;
	EVP_MD_CTX_free(f->whole);
	f->whole = NULL;
	u->files_left--;
	s3_progress_files(u->op->prog, 1, 0);
}

static void put_done(struct s3_op *op, struct s3_req *r)
{
	struct upload *u = op->feed_arg;
	struct up_file *f = r->arg;

	if (r->result)
		s3_fail_req(op, r, f->f->path);
	else
		file_finished(u, f);
}

static void complete_done(struct s3_op *op, struct s3_req *r)
{
	struct upload *u = op->feed_arg;
	struct up_file *f = r->arg;
	struct s3_xml_error e;

	if (!r->result && s3_xml_complete(r->resp, r->resp_len, &e)) {
		r->result = -EIO;
		snprintf(r->err, sizeof(r->err), "CompleteMultipartUpload: %s%s%s",
			 e.code[0] ? e.code : "malformed response", e.message[0] ? ": " : "",
			 e.message);
	}
	if (r->result) {
		s3_fail_req(op, r, f->f->path);
		return;
	}
	free(f->upload_id); /* completed: nothing to abort */
	f->upload_id = NULL;
	file_finished(u, f);
}

static void xml_escape_put(char **p, const char *s)
{
	for (; *s; s++) {
		const char *rep = *s == '"'   ? "&quot;"
				  : *s == '&' ? "&amp;"
				  : *s == '<' ? "&lt;"
				  : *s == '>' ? "&gt;"
					      : NULL;

		if (rep) {
			strcpy(*p, rep);
			*p += strlen(rep);
		} else {
			*(*p)++ = *s;
		}
	}
}

static int submit_complete(struct s3_op *op, struct up_file *f, const char *key)
{
	char q[3 * 1024 + 16], eid[3 * 1024], *body, *p;
	struct s3_req *r;

	if (s3_uri_encode(f->upload_id, false, eid, sizeof(eid)))
		return -EPROTO;
	snprintf(q, sizeof(q), "uploadId=%s", eid);
	r = s3_req_new("POST", key, q);
	body = malloc(64 + (size_t)f->nparts * (64 + 6 * sizeof(f->etags[0])));
	if (!r || !body) {
		s3_req_free(r);
		free(body);
		return -ENOMEM;
	}
	p = body + sprintf(body, "<CompleteMultipartUpload>");
	for (uint32_t i = 0; i < f->nparts; i++) {
		p += sprintf(p, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
		xml_escape_put(&p, f->etags[i]);
		p += sprintf(p, "</ETag></Part>");
	}
	p += sprintf(p, "</CompleteMultipartUpload>");
	r->body_mem = body;
	r->body_mem_len = (size_t)(p - body);
	s3_sha256_hex(body, r->body_mem_len, r->payload_sha);
	r->content_type = "application/xml";
	r->resp_max = S3_XML_MAX;
	r->done = complete_done;
	r->arg = f;
	s3_submit(op, r);
	return 0;
}

static void part_done(struct s3_op *op, struct s3_req *r)
{
	struct up_file *f = r->arg;
	uint32_t part = (uint32_t)r->u64;
	int err;

	if (!r->result && !r->etag[0]) {
		r->result = -EPROTO;
		snprintf(r->err, sizeof(r->err), "part %u: no ETag in the answer", part);
	}
	if (r->result) {
		char what[160];

		snprintf(what, sizeof(what), "%s part %u", f->f->path, part);
		s3_fail_req(op, r, what);
		return;
	}
	snprintf(f->etags[part - 1], sizeof(f->etags[0]), "%s", r->etag);
	if (++f->parts_done == f->nparts && (err = submit_complete(op, f, r->key)))
		s3_fail(op, err, "%s: complete the multipart upload: %s", f->f->path,
			strerror(-err));
}

static void init_done(struct s3_op *op, struct s3_req *r)
{
	struct up_file *f = r->arg;
	char id[1024];

	if (!r->result && s3_xml_upload_id(r->resp, r->resp_len, id, sizeof(id))) {
		r->result = -EPROTO;
		snprintf(r->err, sizeof(r->err), "malformed CreateMultipartUpload response");
	}
	if (r->result)
		s3_fail_req(op, r, f->f->path);
	else if (!(f->upload_id = strdup(id)))
		s3_fail(op, -ENOMEM, "out of memory");
}

/* Hash part n (1-based) ahead of its request; the last part settles the whole file. */
static int hash_part(struct upload *u, struct up_file *f, uint32_t n, uint64_t off, uint64_t len,
		     char hex[65])
{
	EVP_MD_CTX *part = EVP_MD_CTX_new();
	uint64_t done = 0;
	int err = part ? 0 : -ENOMEM;

	if (!err)
		EVP_DigestInit_ex(part, EVP_sha256(), NULL);
	while (!err && done < len) {
		size_t want = len - done < HASH_BUF ? (size_t)(len - done) : HASH_BUF;
		ssize_t got = pread(f->fd, u->buf, want, (off_t)(off + done));

		if (got <= 0) {
			err = got < 0 ? -errno : -EBADMSG;
			break;
		}
		EVP_DigestUpdate(part, u->buf, (size_t)got);
		EVP_DigestUpdate(f->whole, u->buf, (size_t)got);
		done += (uint64_t)got;
	}
	if (!err)
		s3_hash_hex(part, hex);
	if (!err && n == f->nparts) {
		char whole[65];

		s3_hash_hex(f->whole, whole);
		if (strcmp(whole, f->f->sha256))
			err = -EBADMSG;
	}
	EVP_MD_CTX_free(part);
	return err;
}

static void file_failed(struct s3_op *op, struct up_file *f, int err)
{
	s3_fail(op, err, "%s: %s", f->f->path,
		err == -EBADMSG
			? "content does not match the manifest's SHA-256 (the local snapshot "
			  "is damaged; check it with verify)"
			: strerror(-err));
}

struct s3_req *s3_upload_part_req(struct upload *u, struct up_file *f)
{
	uint32_t n = ++f->next_part;
	uint64_t off = (uint64_t)(n - 1) * f->part_size;
	uint64_t len = n == f->nparts ? f->f->size - off : f->part_size;
	char key[S3_KEY_MAX], q[3 * 1024 + 48], eid[3 * 1024];
	struct s3_req *r;
	int err;

	if (s3_key(&u->op->t, u->name, f->f->path, key, sizeof(key)) ||
	    s3_uri_encode(f->upload_id, false, eid, sizeof(eid))) {
		s3_fail(u->op, -ENAMETOOLONG, "%s: key too long", f->f->path);
		return NULL;
	}
	snprintf(q, sizeof(q), "partNumber=%u&uploadId=%s", n, eid);
	r = s3_req_new("PUT", key, q);
	if (!r) {
		s3_fail(u->op, -ENOMEM, "out of memory");
		return NULL;
	}
	err = hash_part(u, f, n, off, len, r->payload_sha);
	if (err) {
		s3_req_free(r);
		file_failed(u->op, f, err);
		return NULL;
	}
	r->body_fd = f->fd;
	r->body_off = off;
	r->body_len = len;
	r->progress = true;
	/*
	 * Heard out on a cancel (bounded), as the AWS CLI does: a part cut off
	 * mid-request can still be begun by the server after the abort and
	 * bring the upload back; once answered, the abort that follows is final.
	 */
	r->finish_on_stop = true;
	r->done = part_done;
	r->arg = f;
	r->u64 = n;
	return r;
}

/* Cut a file into parts: n of part_size, the last one taking the rest (< 2 part sizes). */
static void part_plan(struct up_file *f, uint64_t part_size)
{
	uint64_t n = f->f->size / part_size;

	if (n > S3_MAX_PARTS) {
		part_size = (f->f->size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
		part_size = (part_size + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
		n = f->f->size / part_size;
	}
	f->part_size = part_size;
	f->nparts = (uint32_t)n;
}

struct s3_req *s3_upload_file_req(struct upload *u, struct up_file *f)
{
	char key[S3_KEY_MAX];
	struct stat st;
	struct s3_req *r;

	f->fd = openat(u->snapfd, f->f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f->fd < 0 || fstat(f->fd, &st)) {
		file_failed(u->op, f, -errno);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->f->size) {
		s3_fail(u->op, -EBADMSG,
			"%s: %llu bytes, the manifest says %llu (the local snapshot is damaged)",
			f->f->path, (unsigned long long)st.st_size, (unsigned long long)f->f->size);
		return NULL;
	}
	if (s3_key(&u->op->t, u->name, f->f->path, key, sizeof(key))) {
		s3_fail(u->op, -ENAMETOOLONG, "%s: key too long", f->f->path);
		return NULL;
	}
	f->state = UP_RUNNING;
	if (f->f->size >= 2 * u->part_size) {
		part_plan(f, u->part_size);
		f->etags = calloc(f->nparts, sizeof(f->etags[0]));
		f->whole = EVP_MD_CTX_new();
		r = f->etags && f->whole ? s3_req_new("POST", key, "uploads=") : NULL;
		if (r) {
			EVP_DigestInit_ex(f->whole, EVP_sha256(), NULL);
			r->resp_max = S3_XML_MAX;
			r->done = init_done;
			r->finish_on_stop = true; /* so that its upload can be aborted */
		}
	} else {
		r = s3_req_new("PUT", key, NULL);
		if (r) {
			r->body_fd = f->fd;
			r->body_len = f->f->size;
			r->check_sha = true;
			r->progress = true;
			snprintf(r->payload_sha, sizeof(r->payload_sha), "%s", f->f->sha256);
			r->done = put_done;
		}
	}
	if (!r) {
		s3_fail(u->op, -ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(r->meta_sha, sizeof(r->meta_sha), "%s", f->f->sha256);
	r->arg = f;
	return r;
}
