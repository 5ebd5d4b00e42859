/* SPDX-License-Identifier: MIT */
/*
 * rawcap/s3.h - move snapshots (rawcap/snapshot.h) to and from S3-compatible
 * object storage: AWS S3, MinIO, Ceph RGW, GCS through its S3 interoperability
 * API. Object storage is where preserved traffic outlives the node and the
 * cluster; nothing else is replicated.
 *
 * Remote layout mirrors the local one: s3://BUCKET/PREFIX/NAME/manifest.json
 * and s3://BUCKET/PREFIX/NAME/data/<segment>. The manifest is uploaded last,
 * so a listing without it is an interrupted upload, never a snapshot: list
 * shows it as incomplete, download refuses it, upload resumes it.
 *
 * Protocol: the S3 REST API (PutObject, multipart upload, GetObject,
 * ListObjectsV2, DeleteObject; https://docs.aws.amazon.com/AmazonS3/latest/API/)
 * over libcurl, signed with libcurl's AWS Signature Version 4
 * (CURLOPT_AWS_SIGV4). Without an endpoint, AWS's virtual-hosted URL
 * https://BUCKET.s3.REGION.amazonaws.com is used; with one, path-style
 * ENDPOINT/BUCKET/KEY, which is what MinIO, Ceph and GCS expect.
 *
 * Credentials, first found wins (as the AWS SDKs look for them):
 *   1. rawcap_s3_opts.access_key/secret_key/session_token;
 *   2. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   3. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (EKS IRSA sets both): STS
 *      AssumeRoleWithWebIdentity at AWS_ENDPOINT_URL_STS or
 *      https://sts.REGION.amazonaws.com, renewed before it expires;
 *   4. profile (opts, else AWS_PROFILE, else "default") of
 *      AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials).
 * No secret (secret key, session token, web identity token) ever appears in a
 * message this API produces, even if a server echoes one back.
 *
 * Upload: each data file is a PutObject (or, from two part sizes up, a
 * multipart upload with parts in parallel), run up to `parallel` requests at
 * once over the curl multi interface; every payload is signed with its
 * SHA-256 (x-amz-content-sha256), and the bytes sent are checked against the
 * manifest's sums as they are read, so a damaged local snapshot is refused
 * naming the file. Failed requests (connection errors, 5xx, 429, S3's
 * RequestTimeout/SlowDown) are retried with capped exponential backoff and
 * jitter. Objects already there (same size and recorded SHA-256) are skipped,
 * so running an interrupted upload again resumes it; multipart uploads left
 * by a killed run are aborted first (where the server supports listing them).
 *
 * Download: the manifest is fetched and parsed (the same strict parser as
 * local snapshots) and checked before anything is written; only the files it
 * lists are fetched, into a private staging directory, each verified as it
 * arrives (its SHA-256 and size against the manifest's); the copy is then
 * fsynced, made read-only (files 0440, directories 0550) and renamed into
 * place under its name. A mismatch is an error naming the file; nothing is
 * left behind.
 *
 * Memory is bounded by `parallel`, not by the snapshot: data streams between
 * files and sockets through libcurl's buffers.
 *
 * Threads: a transfer started with rawcap_s3_upload_start() or
 * rawcap_s3_download_start() runs on its own thread; rawcap_s3_status(),
 * rawcap_s3_cancel() and rawcap_s3_wait() may be called from any thread. The
 * progress callback runs on the transfer's thread. All functions return 0 or
 * a negative errno; none prints anything.
 *
 *	struct rawcap_s3_opts o = {.sz = sizeof(o), .url = "s3://bucket/rawcap"};
 *	struct rawcap_s3_xfer *x;
 *	struct rawcap_s3_status st;
 *	int err = rawcap_s3_upload_start(&o, "/var/lib/rawcap/snapshots", "incident-7", &x);
 *	while (!err && (err = rawcap_s3_wait(x, 1000)) == -ETIMEDOUT)
 *		rawcap_s3_status(x, &st), show(&st);
 *	rawcap_s3_status(x, &st);	// st.message says what happened
 *	rawcap_s3_free(x);
 */
#ifndef RAWCAP_S3_H
#define RAWCAP_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/rawcap.h>
#include <rawcap/snapshot.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAWCAP_S3_PART_SIZE    (16u << 20) /* default part size, bytes */
#define RAWCAP_S3_PART_MIN     (5u << 20)  /* S3's smallest part (but the last) */
#define RAWCAP_S3_PART_MAX     (1ull << 30)
#define RAWCAP_S3_PARALLEL     4u /* default requests in flight */
#define RAWCAP_S3_PARALLEL_MAX 64u
#define RAWCAP_S3_RETRIES      5u /* default retries of one request */
#define RAWCAP_S3_RETRIES_MAX  20u

enum rawcap_s3_state {
	RAWCAP_S3_RUNNING,
	RAWCAP_S3_DONE,
	RAWCAP_S3_FAILED,
	RAWCAP_S3_CANCELLED,
};

/* Where a transfer stands; a copy, so it can be read at leisure. */
struct rawcap_s3_status {
	enum rawcap_s3_state state;
	uint64_t bytes_done, bytes_total; /* data and manifest; skipped files count as done */
	uint32_t files_done, files_total; /* data files, manifest not included */
	uint32_t files_skipped;		  /* already at the destination (a resumed upload) */
	uint32_t retries;		  /* requests retried so far */
	/*
	 * 0 while running or when done; else why it failed: -EINVAL (bad URL or
	 * option), -ENOKEY (no credentials), -EACCES (credentials refused),
	 * -ENXIO (no such bucket), -ENOENT (no such snapshot), -EEXIST (a
	 * different snapshot of that name is there), -EBADMSG (content does not
	 * match the manifest), -ENOSPC, -EDQUOT, -ECANCELED, -EIO/-ETIMEDOUT/-EPROTO
	 * (server or network, after retries), -ELIBACC (librawcap.so's S3
	 * client, the module LIBDIR/rawcap/s3.so, could not be loaded).
	 */
	int error;
	char message[1024]; /* one line: the error with its context, or what was done */
};

typedef void (*rawcap_s3_progress_fn)(void *arg, const struct rawcap_s3_status *st);

struct rawcap_s3_opts {
	size_t sz;	      /* sizeof(struct rawcap_s3_opts): lets the struct grow */
	const char *url;      /* "s3://BUCKET" or "s3://BUCKET/PREFIX" */
	const char *endpoint; /* "http[s]://HOST[:PORT][/PATH]", path-style; NULL:
			       * $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS */
	const char *region;   /* NULL: $AWS_REGION, $AWS_DEFAULT_REGION, else "us-east-1" */
	const char *profile;  /* shared credentials file profile; NULL: $AWS_PROFILE, "default" */
	/* Explicit credentials (all NULL: look them up as above). */
	const char *access_key, *secret_key, *session_token;
	uint64_t part_size;  /* bytes, RAWCAP_S3_PART_MIN..RAWCAP_S3_PART_MAX; 0: default */
	unsigned parallel;   /* requests in flight, 1..RAWCAP_S3_PARALLEL_MAX; 0: default */
	unsigned retries;    /* retries per request, up to RAWCAP_S3_RETRIES_MAX; 0: default */
	bool no_retry;	     /* fail on the first error (retries ignored) */
	uint64_t max_rate;   /* bytes per second over all requests; 0: unlimited */
	const char *ca_file; /* CA bundle for https; NULL: the system's */
	/* Called on the transfer's thread about four times a second and at the end. */
	rawcap_s3_progress_fn progress;
	void *progress_arg;
	/*
	 * Download: bytes all snapshots in dir may use (as rawcap_snapshot_opts.quota,
	 * staged downloads counted); 0: unlimited. The snapshot's size is reserved
	 * before a byte is fetched; what does not fit fails with -EDQUOT.
	 */
	uint64_t quota;
};

struct rawcap_s3_xfer;

/*
 * Upload snapshot dir/name to opts->url. If the remote manifest already
 * exists with the same bytes the upload is done at once (idempotent); with
 * other bytes it fails with -EEXIST. Returns -EINVAL (NULL arguments) or
 * -ENOMEM, else 0 with *out set: a transfer that cannot start (bad URL, no
 * such local snapshot...) is already over, FAILED with the reason in its
 * status, so rawcap_s3_wait(x, 0) tells at once (a node API can answer 400).
 */
RAWCAP_API int rawcap_s3_upload_start(const struct rawcap_s3_opts *o, const char *dir,
				      const char *name, struct rawcap_s3_xfer **out);
/* Download snapshot `name` from opts->url into dir/name (-EEXIST if present). */
RAWCAP_API int rawcap_s3_download_start(const struct rawcap_s3_opts *o, const char *name,
					const char *dir, struct rawcap_s3_xfer **out);
/* Copy the transfer's status (any thread). */
RAWCAP_API void rawcap_s3_status(struct rawcap_s3_xfer *x, struct rawcap_s3_status *st);
/* Ask the transfer to stop (any thread, async-signal-safe); it cleans up and ends CANCELLED. */
RAWCAP_API void rawcap_s3_cancel(struct rawcap_s3_xfer *x);
/*
 * Wait up to timeout_ms (<0: forever) for the transfer to end. 0 when it
 * succeeded, -ETIMEDOUT while it runs, else its status.error.
 */
RAWCAP_API int rawcap_s3_wait(struct rawcap_s3_xfer *x, int timeout_ms);
/* Cancel if still running, wait, free. */
RAWCAP_API void rawcap_s3_free(struct rawcap_s3_xfer *x);

/* Blocking forms of the above: run to the end on the calling thread; *st (may be NULL) gets the
 * outcome. */
RAWCAP_API int rawcap_s3_upload(const struct rawcap_s3_opts *o, const char *dir, const char *name,
				struct rawcap_s3_status *st);
RAWCAP_API int rawcap_s3_download(const struct rawcap_s3_opts *o, const char *name, const char *dir,
				  struct rawcap_s3_status *st);

/* A name under the remote prefix. */
struct rawcap_s3_entry {
	char name[RAWCAP_SNAP_NAME_MAX + 1];
	bool complete;	  /* has its manifest: a snapshot; else an interrupted upload */
	uint64_t objects; /* objects under PREFIX/NAME/ */
	uint64_t bytes;	  /* their total size */
	bool have_info;	  /* info was read from the manifest (with_info, complete) */
	struct rawcap_snapshot_info info;
};

/*
 * List the names under opts->url, sorted; with_info also reads each complete
 * snapshot's manifest. Free with rawcap_s3_list_free(). errbuf gets a one-line
 * reason on failure.
 */
RAWCAP_API int rawcap_s3_list(const struct rawcap_s3_opts *o, bool with_info,
			      struct rawcap_s3_entry **out, size_t *n, char *errbuf, size_t errlen);
RAWCAP_API void rawcap_s3_list_free(struct rawcap_s3_entry *entries);
/*
 * Delete snapshot `name` (complete or not) from opts->url: the manifest first,
 * so it stops being a snapshot at once, then its data and any unfinished
 * multipart uploads. -ENOENT if nothing is there.
 */
RAWCAP_API int rawcap_s3_delete(const struct rawcap_s3_opts *o, const char *name, char *errbuf,
				size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_S3_H */
