// SPDX-License-Identifier: MIT
/*
 * s3_req.c - one S3 request on a curl easy handle: its headers (the
 * payload's SHA-256 that SigV4 signs, the session token, our metadata), its
 * body streamed from a file range with pread (hashed as it goes when asked)
 * or from memory, its response streamed to a file with pwrite (never past
 * the size expected) or kept in bounded memory, and the few response
 * headers we use (status, ETag, Content-Length, x-amz-meta-rawcap-sha256).
 * The engine (s3_engine.c) decides when requests run and what failures mean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "s3_int.h"

#define UPLOAD_BUF (512 * 1024)
#define RECV_BUF   (256 * 1024)

static void to_hex(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

void s3_sha256_hex(const void *buf, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	to_hex(md, hex);
}

void s3_hash_hex(EVP_MD_CTX *ctx, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_DigestFinal_ex(ctx, md, &mdlen);
	to_hex(md, hex);
}

struct s3_req *s3_req_new(const char *method, const char *key, const char *query)
{
	struct s3_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->method = method;
	r->body_fd = r->sink_fd = -1;
	if ((key && strlen(key) >= sizeof(r->key)) || (query && !(r->query = strdup(query)))) {
		free(r);
		return NULL;
	}
	snprintf(r->key, sizeof(r->key), "%s", key ? key : "");
	return r;
}

void s3_req_free(struct s3_req *r)
{
	if (!r)
		return;
	if (r->own_sink && r->sink_fd >= 0)
		close(r->sink_fd);
	free(r->query);
	free(r->body_mem);
	free(r->resp);
	curl_slist_free_all(r->headers);
	EVP_MD_CTX_free(r->hash);
	free(r);
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct s3_req *r = arg;
	uint64_t left = r->body_len - r->body_pos;
	size_t n = size * nitems < left ? size * nitems : (size_t)left;
	ssize_t got;

	if (!n)
		return 0;
	if (r->body_mem) {
		memcpy(buf, r->body_mem + r->body_pos, n);
		got = (ssize_t)n;
	} else {
		got = pread(r->body_fd, buf, n, (off_t)(r->body_off + r->body_pos));
		if (got <= 0) {
			r->result = got < 0 ? -errno : -EBADMSG;
			snprintf(r->err, sizeof(r->err), "%s",
				 got < 0 ? strerror(errno)
					 : "the file is shorter than its manifest says");
			return CURL_READFUNC_ABORT;
		}
	}
	if (r->hash && !r->hash_lost)
		EVP_DigestUpdate(r->hash, buf, (size_t)got);
	r->body_pos += (uint64_t)got;
	return (size_t)got;
}

/* libcurl rewinds a body it has to send again (e.g. after a 100-continue refusal). */
static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct s3_req *r = arg;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->body_pos = (uint64_t)off;
	if (r->hash && off == 0)
		EVP_DigestInit_ex(r->hash, EVP_sha256(), NULL);
	else if (r->hash)
		r->hash_lost = true;
	return CURL_SEEKFUNC_OK;
}

/* Bytes moved so far, from libcurl's own count (exact over rewinds) or what was written. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct s3_req *r = arg;
	uint64_t now = r->sink_fd >= 0 ? r->sink_pos : (uint64_t)ulnow;

	(void)dltotal, (void)dlnow, (void)ultotal;
	if (r->progress && now != r->counted) {
		s3_progress_bytes(r->prog, (int64_t)now - (int64_t)r->counted);
		r->counted = now;
	}
	return 0;
}

static void header_value(const char *v, size_t n, char *out, size_t len)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= len)
		n = 0; /* too long to be what we expect: treat as absent */
	memcpy(out, v, n);
	out[n] = '\0';
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct s3_req *r = arg;
	size_t n = size * nitems, name;
	const char *colon = memchr(buf, ':', n);
	char num[24];

	if (n > 5 && !strncmp(buf, "HTTP/", 5)) {
		/* A new response (the final one follows any 100 Continue). */
		const char *sp = memchr(buf, ' ', n);

		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->etag[0] = r->hdr_sha[0] = '\0';
		r->have_length = false;
		return n;
	}
	if (!colon)
		return n;
	name = (size_t)(colon - buf);
	if (name == 4 && !strncasecmp(buf, "etag", 4)) {
		header_value(colon + 1, n - name - 1, r->etag, sizeof(r->etag));
	} else if (name == strlen(S3_META_SHA256) && !strncasecmp(buf, S3_META_SHA256, name)) {
		header_value(colon + 1, n - name - 1, r->hdr_sha, sizeof(r->hdr_sha));
	} else if (name == 14 && !strncasecmp(buf, "content-length", 14)) {
		header_value(colon + 1, n - name - 1, num, sizeof(num));
		r->have_length = num[0] >= '0' && num[0] <= '9';
		r->content_length = r->have_length ? strtoull(num, NULL, 10) : 0;
	}
	return n;
}

static size_t keep_mem(struct s3_req *r, const char *data, size_t n, size_t max)
{
	char *p;

	if (r->resp_len + n > max)
		return 0;
	p = realloc(r->resp, r->resp_len + n + 1);
	if (!p)
		return 0;
	memcpy(p + r->resp_len, data, n);
	r->resp = p;
	r->resp_len += n;
	p[r->resp_len] = '\0';
	return n;
}

static size_t to_file(struct s3_req *r, const char *data, size_t n)
{
	size_t done = 0;

	if (r->sink_pos + n > r->sink_limit) {
		r->result = -EBADMSG;
		snprintf(r->err, sizeof(r->err),
			 "the object is larger than the %llu bytes its manifest lists",
			 (unsigned long long)r->sink_limit);
		return 0;
	}
	if (r->hash)
		EVP_DigestUpdate(r->hash, data, n);
	while (done < n) {
		ssize_t w = pwrite(r->sink_fd, data + done, n - done, (off_t)(r->sink_pos + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->result = w < 0 ? -errno : -EIO;
			snprintf(r->err, sizeof(r->err), "write: %s",
				 strerror(w < 0 ? errno : EIO));
			return 0;
		}
		done += (size_t)w;
	}
	r->sink_pos += n;
	return n;
}

static size_t on_write(char *data, size_t size, size_t nitems, void *arg)
{
	struct s3_req *r = arg;
	size_t n = size * nitems;

	if (r->status < 200 || r->status >= 300) {
		keep_mem(r, data, n, S3_ERRBODY_MAX); /* an error's body: what fits is enough */
		return n;
	}
	if (r->sink_fd >= 0)
		return to_file(r, data, n);
	if (!r->resp_max || keep_mem(r, data, n, r->resp_max) == n)
		return n;
	r->result = -EPROTO;
	snprintf(r->err, sizeof(r->err), "response larger than %zu bytes", r->resp_max);
	return 0;
}

static int add_header(struct s3_req *r, const char *name, const char *value)
{
	struct curl_slist *l = NULL;
	char *line;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	l = curl_slist_append(r->headers, line);
	explicit_bzero(line, strlen(line));
	free(line);
	if (!l)
		return -ENOMEM;
	r->headers = l;
	return 0;
}

/*
 * Every request states its payload's SHA-256, which SigV4 signs
 * (x-amz-content-sha256); libcurl would otherwise hash only POST fields.
 * The session token travels as a header and so is signed too.
 */
static int build_headers(struct s3_op *op, struct s3_req *r)
{
	int err = add_header(r, "x-amz-content-sha256",
			     r->payload_sha[0] ? r->payload_sha : S3_EMPTY_SHA256);

	if (!err && op->creds.session_token)
		err = add_header(r, "x-amz-security-token", op->creds.session_token);
	if (!err && r->meta_sha[0])
		err = add_header(r, S3_META_SHA256, r->meta_sha);
	if (!err && r->content_type)
		err = add_header(r, "Content-Type", r->content_type);
	return err;
}

static void set_method(struct s3_req *r, CURL *h)
{
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLOAD_BUF);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body_mem ? r->body_mem : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_mem_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
}

/* Reset the per-attempt state and set everything about this request on h. */
int s3_req_setup(struct s3_op *op, struct s3_req *r, CURL *h)
{
	char *url = s3_url(&op->t, r->key, r->query);
	struct stat st;

	curl_easy_reset(h);
	r->easy = h;
	r->prog = op->prog;
	r->status = 0;
	r->resp_len = 0;
	r->sink_pos = r->body_pos = r->counted = 0;
	r->result = 0;
	r->err[0] = r->etag[0] = r->hdr_sha[0] = r->cerr[0] = '\0';
	r->hash_lost = false;
	if (!url || build_headers(op, r) ||
	    (r->check_sha && !r->hash && !(r->hash = EVP_MD_CTX_new()))) {
		free(url);
		return -ENOMEM;
	}
	/* A retry starts the file again; a first attempt keeps blocks allocated ahead. */
	if (r->sink_fd >= 0 && (fstat(r->sink_fd, &st) || (st.st_size && ftruncate(r->sink_fd, 0))))
		r->result = -errno; /* reported when the attempt ends */
	if (r->check_sha)
		EVP_DigestInit_ex(r->hash, EVP_sha256(), NULL);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->cerr);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)RECV_BUF);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
	set_method(r, h);
	return 0;
}

/*
 * The sum of what a check_sha request moved: a response's bytes as they were
 * written, or a body's as they were read (hashed again from the file if
 * libcurl rewound it midway).
 */
int s3_req_check_sum(struct s3_req *r)
{
	unsigned char buf[65536];
	uint64_t off = 0;
	char hex[65];

	if (r->sink_fd >= 0) {
		s3_hash_hex(r->hash, hex);
		return strcmp(hex, r->want_sha) ? -EBADMSG : 0;
	}
	if (r->hash_lost) {
		EVP_DigestInit_ex(r->hash, EVP_sha256(), NULL);
		while (off < r->body_len) {
			size_t want = r->body_len - off < sizeof(buf) ? (size_t)(r->body_len - off)
								      : sizeof(buf);
			ssize_t n = pread(r->body_fd, buf, want, (off_t)(r->body_off + off));

			if (n <= 0)
				return n < 0 ? -errno : -EBADMSG;
			EVP_DigestUpdate(r->hash, buf, (size_t)n);
			off += (uint64_t)n;
		}
	}
	s3_hash_hex(r->hash, hex);
	return strcmp(hex, r->payload_sha) ? -EBADMSG : 0;
}
