/* SPDX-License-Identifier: MIT */
/*
 * s3_int.h - the parts of librawcap's S3 client (rawcap/s3.h) shared by its
 * files: the target (s3_target.c), credentials (s3_creds.c), response parsing
 * (s3_xml.c), the request engine over the curl multi interface
 * (s3_engine.c), and the operations built on it (s3_upload.c with
 * s3_upload_file.c, s3_download.c, s3_admin.c, s3_abort.c), run as transfers by
 * s3_xfer.c.
 */
#ifndef RAWCAP_LIB_S3_INT_H
#define RAWCAP_LIB_S3_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include <rawcap/s3.h>

#define S3_KEY_MAX	  1024 /* S3's limit on a key, bytes of UTF-8 */
#define S3_BUCKET_MAX	  63
#define S3_XML_MAX	  (1u << 20) /* bound on any XML response we parse */
#define S3_ERRBODY_MAX	  (64u << 10)
#define S3_MAX_PARTS	  10000u
#define S3_EMPTY_SHA256	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_META_SHA256	  "x-amz-meta-rawcap-sha256"

/* Where the objects are: s3_target_parse() from the URL and options. */
struct s3_target {
	char base[512]; /* "https://BUCKET.s3.REGION.amazonaws.com" or "ENDPOINT/BUCKET" */
	char bucket[S3_BUCKET_MAX + 1];
	char prefix[S3_KEY_MAX]; /* "" or "a/b": no leading, trailing or doubled '/' */
	char region[64];
	char sigv4[96];		       /* CURLOPT_AWS_SIGV4: "aws:amz:REGION:s3" */
	char display[S3_KEY_MAX + 80]; /* "s3://BUCKET/PREFIX", for messages */
};

/* Parse "s3://BUCKET[/PREFIX]"; endpoint/region may be NULL (then env, then AWS defaults). */
int s3_target_parse(struct s3_target *t, const char *url, const char *endpoint, const char *region,
		    char *errbuf, size_t errlen);
/* The key of `rel` ("manifest.json", "data/x") in snapshot `name`; "" rel: the NAME/ prefix. */
int s3_key(const struct s3_target *t, const char *name, const char *rel, char *key, size_t len);
/* The URL of key (NULL: the bucket) with an already canonical query (NULL: none); malloc'd. */
char *s3_url(const struct s3_target *t, const char *key, const char *query);
/* RFC 3986 percent-encoding of s into out; keeps '/' when slash. -ENAMETOOLONG if it does not fit.
 */
int s3_uri_encode(const char *s, bool slash, char *out, size_t len);

/*
 * The CA file --ca-file names, read whole (safe_read_named: a FIFO or device
 * under the name is refused, where libcurl would block opening it) and
 * handed to libcurl from memory (CURLOPT_CAINFO_BLOB).
 */
struct s3_ca {
	char *pem; /* NULL: none named */
	size_t len;
};
int s3_ca_load(struct s3_ca *ca, const char *path, char *errbuf, size_t errlen);
void s3_ca_set(CURL *h, const struct s3_ca *ca);
void s3_ca_free(struct s3_ca *ca);

/* Credentials in use; secrets are wiped when freed. */
struct s3_creds {
	char *access_key, *secret_key, *session_token;
	time_t expires; /* 0: does not expire */
	/* Web identity, to renew: */
	char *role_arn, *token_file, *sts_endpoint, *session_name;
	struct s3_ca ca;
	char *web_token; /* the last token read, only to keep it out of messages */
};

int s3_creds_resolve(struct s3_creds *c, const struct rawcap_s3_opts *o, const char *region,
		     char *errbuf, size_t errlen);
/* Renew web-identity credentials that expire within a few minutes; 0 if nothing to do. */
int s3_creds_refresh(struct s3_creds *c, char *errbuf, size_t errlen);
void s3_creds_free(struct s3_creds *c);
/* Replace every occurrence of a secret of c in s with "***" (in place). */
void s3_creds_redact(const struct s3_creds *c, char *s);
/*
 * Find profile in a shared credentials file's text (INI: [profile], key = value).
 * Returns 0 and fills what it found, -ENOENT if the profile is not there,
 * -EBADMSG on a malformed file. Exposed for tests and the fuzz target.
 */
int s3_creds_parse_file(const char *text, size_t len, const char *profile, struct s3_creds *c);

/* Response parsing (libxml2). Each returns -EPROTO for anything that is not what S3 sends. */
struct s3_xml_error {
	char code[64], message[256];
};
int s3_xml_error(const char *buf, size_t len, struct s3_xml_error *e);
/* ListObjectsV2: cb per object; next_token gets NextContinuationToken when truncated, else "". */
int s3_xml_list(const char *buf, size_t len, int (*cb)(void *arg, const char *key, uint64_t size),
		void *arg, char *next_token, size_t tokenlen);
/* ListMultipartUploads: cb per upload; *truncated and the next markers. */
int s3_xml_uploads(const char *buf, size_t len,
		   int (*cb)(void *arg, const char *key, const char *upload_id), void *arg,
		   bool *truncated, char *next_key, char *next_id, size_t markerlen);
int s3_xml_upload_id(const char *buf, size_t len, char *id, size_t idlen);
/* CompleteMultipartUpload answers 200 with either a result or an error inside. */
int s3_xml_complete(const char *buf, size_t len, struct s3_xml_error *e);
/* STS AssumeRoleWithWebIdentity result: strdup'd keys and the expiry. */
int s3_xml_sts(const char *buf, size_t len, struct s3_creds *c);

/* Status of a running operation, shared with the threads that poll it. */
struct s3_progress {
	pthread_mutex_t lock;
	struct rawcap_s3_status st;
	rawcap_s3_progress_fn cb;
	void *cb_arg;
	uint64_t last_cb_ns;
	atomic_int cancel;
};

void s3_progress_bytes(struct s3_progress *p, int64_t delta);
void s3_progress_files(struct s3_progress *p, uint32_t done, uint32_t skipped);
void s3_progress_total(struct s3_progress *p, uint64_t bytes, uint32_t files);
void s3_progress_retry(struct s3_progress *p);
/* Call the callback if a quarter second passed (or force). */
void s3_progress_tick(struct s3_progress *p, bool force);

struct s3_op;
struct s3_req;
typedef void (*s3_done_fn)(struct s3_op *op, struct s3_req *r);

/* One HTTP request to the store, retried by the engine as needed. */
struct s3_req {
	struct s3_req *next;
	const char *method;   /* GET HEAD PUT POST DELETE */
	char key[S3_KEY_MAX]; /* "" for the bucket itself */
	char *query;	      /* canonical query string (sorted, encoded), or NULL */
	char payload_sha[65]; /* hex SHA-256 of the body; "" for an empty body */
	char meta_sha[65];    /* value of x-amz-meta-rawcap-sha256 to send, or "" */
	const char *content_type;
	/* Body: a file range (streamed) or memory (owned). */
	int body_fd;
	uint64_t body_off, body_len, body_pos;
	char *body_mem;
	size_t body_mem_len;
	/*
	 * Hash the bytes as they go: a file body against payload_sha as it is
	 * read, or a response written to sink_fd against want_sha.
	 */
	bool check_sha;
	char want_sha[65];
	EVP_MD_CTX *hash;
	bool hash_lost; /* curl rewound mid-body: check afterwards instead */
	/* Response body: a file (GETs of data) or memory up to resp_max (owned). */
	int sink_fd;
	bool own_sink; /* closed with the request */
	uint64_t sink_limit, sink_pos;
	char *resp;
	size_t resp_len, resp_max;
	bool progress; /* count body bytes in the status */
	uint64_t counted;
	/* The outcome. */
	long status;
	char etag[130];
	char hdr_sha[65]; /* x-amz-meta-rawcap-sha256 of a HEAD */
	uint64_t content_length;
	bool have_length;
	int result;    /* 0, or a negative errno (see rawcap_s3_status.error) */
	char err[384]; /* why, when result != 0 */
	struct s3_xml_error xerr;
	/* Engine state. */
	char cerr[CURL_ERROR_SIZE];
	struct s3_progress *prog;
	unsigned attempt;
	bool no_retry;
	bool keep;	     /* the caller frees it (s3_run_one) */
	bool finish_on_stop; /* heard out even after a failure or cancel (bounded) */
	uint64_t due_ns;
	struct curl_slist *headers;
	CURL *easy;
	s3_done_fn done;
	void *arg;
	uint64_t u64; /* for the done handler (e.g. a part number) */
};

struct s3_op {
	struct s3_target t;
	struct s3_creds creds;
	struct s3_progress *prog;
	CURLM *multi;
	CURL *idle[RAWCAP_S3_PARALLEL_MAX];
	unsigned nidle;
	unsigned parallel, retries;
	uint64_t part_size;
	uint64_t rate_per_req;
	struct s3_ca ca;
	struct s3_req *queue, *queue_tail, *delayed;
	struct s3_req *active; /* in the multi handle */
	unsigned running;
	/*
	 * Asked for the next request whenever a slot is free and the queue is
	 * empty (NULL: nothing now), so that an operation's requests exist only
	 * while they run: memory follows `parallel`, not the snapshot.
	 */
	struct s3_req *(*feed)(struct s3_op *op);
	void *feed_arg;
	bool stop; /* a fatal error: finish nothing more */
	int error; /* the first fatal error */
	char msg[768];
};

/* Set up target, credentials and curl for one operation; errbuf on failure. */
int s3_op_init(struct s3_op *op, const struct rawcap_s3_opts *o, struct s3_progress *prog,
	       char *errbuf, size_t errlen);
void s3_op_fini(struct s3_op *op);
struct s3_req *s3_req_new(const char *method, const char *key, const char *query);
void s3_req_free(struct s3_req *r);
/* Prepare an attempt of r on easy handle h (s3_req.c). */
int s3_req_setup(struct s3_op *op, struct s3_req *r, CURL *h);
/* After a request with check_sha: 0 if the bytes sent or received had their sum. */
int s3_req_check_sum(struct s3_req *r);
void s3_submit(struct s3_op *op, struct s3_req *r);
/* Run until nothing is queued or running, or a fatal error; returns op->error. */
int s3_run(struct s3_op *op);
/* Record a fatal error (the first one wins) and stop the run. */
void s3_fail(struct s3_op *op, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* After a failure: run what was queued since (e.g. aborts) once each, bounded in time. */
int s3_run_cleanup(struct s3_op *op);
/* Run one request to its end on its own (submit + run); returns r->result. r stays the caller's. */
int s3_run_one(struct s3_op *op, struct s3_req *r);
/* "what: reason" for a failed request, into op's error, and stop. */
void s3_fail_req(struct s3_op *op, const struct s3_req *r, const char *what);

/* ListObjectsV2 of every key under prefix (paginated); cb's non-zero return stops it. */
int s3_list_keys(struct s3_op *op, const char *prefix,
		 int (*cb)(void *arg, const char *key, uint64_t size), void *arg);
/*
 * A manifest's file path is data/<plain name>: checked before any key is
 * built or any file opened or written from it (the local verify checks the
 * same rule again).
 */
static inline bool s3_rel_path_ok(const char *p)
{
	return !strncmp(p, "data/", 5) && p[5] && p[5] != '.' && !strchr(p + 5, '/');
}

/* Append a copy of str to a growable string array. */
int s3_strv_add(char ***v, size_t *n, size_t *cap, const char *str);
/*
 * GET NAME/manifest.json (bounded) into *text, malloc'd. 0, or -ENOENT when
 * there is none; any other failure is the operation's (s3_fail).
 */
int s3_get_manifest(struct s3_op *op, const char *name, char **text, size_t *len);

/* Operations. */
int s3_upload_run(struct s3_op *op, const char *dir, const char *name);
int s3_download_run(struct s3_op *op, const char *name, const char *dir, uint64_t quota);
/* Abort the unfinished multipart uploads under NAME/ (best effort where unsupported). */
int s3_abort_stale(struct s3_op *op, const char *name);
/*
 * After a failed or cancelled run aborted its multipart uploads ids (n):
 * abort again those the server still lists under NAME/. A part request the
 * server had begun before the abort can bring its upload back (s3rver
 * re-creates it; AWS: "you might need to abort a given multipart upload
 * multiple times", then check with a listing). Up to three listings 250 ms
 * apart, until one lists none of ids; uploads not in ids (another run's)
 * are left alone. Ignores the cancellation and keeps op's error, as
 * s3_run_cleanup does; where the server cannot list, nothing more is done.
 */
void s3_abort_confirm(struct s3_op *op, const char *name, const char *const *ids, size_t n);

/* Hex SHA-256 of a buffer; hex of a finished digest context. */
void s3_sha256_hex(const void *buf, size_t len, char hex[65]);
void s3_hash_hex(EVP_MD_CTX *ctx, char hex[65]);

#endif
