// SPDX-License-Identifier: MIT
/*
 * s3_engine.c - run an operation's S3 requests over one curl multi handle:
 * up to `parallel` at once, each signed by libcurl (CURLOPT_AWS_SIGV4),
 * bodies streamed from files or memory and responses streamed to files or
 * bounded memory, failed attempts retried with capped exponential backoff
 * and jitter, and a cancellation flag checked at least ten times a second.
 *
 * An operation feeds requests as slots free up (s3_op.feed), so no more than
 * `parallel` requests exist at a time however large the snapshot. A request
 * ends in its done handler with r->result (0 or a negative errno) and, on
 * failure, r->err, a one-line reason already cleared of secrets; the engine
 * never decides that a failed request is fatal, its handler does (s3_fail).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/random.h>

#include "clock.h"
#include "s3_int.h"

#define BACKOFF_BASE_NS (250ull * 1000000)
#define BACKOFF_MAX_NS	(10ull * 1000000000)
#define POLL_MS		100
/*
 * After a stop, requests that must be heard out (parts in flight, a
 * CreateMultipartUpload) get STOP_GRACE_NS; a cleanup run (the aborts, and
 * the listing that checks them) CLEANUP_NS. Together with rawcap-server's
 * 10 s for its snapshot jobs they fit Kubernetes' default 30 s grace.
 */
#define STOP_GRACE_NS	(5ull * 1000000000)
#define CLEANUP_NS	(10ull * 1000000000)

void s3_submit(struct s3_op *op, struct s3_req *r)
{
	r->next = NULL;
	if (op->queue_tail)
		op->queue_tail->next = r;
	else
		op->queue = r;
	op->queue_tail = r;
}

void s3_fail(struct s3_op *op, int err, const char *fmt, ...)
{
	va_list ap;

	op->stop = true;
	if (op->error)
		return;
	op->error = err;
	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
	s3_creds_redact(&op->creds, op->msg);
}

void s3_fail_req(struct s3_op *op, const struct s3_req *r, const char *what)
{
	if (r->result == -ENXIO)
		s3_fail(op, r->result, "bucket %s does not exist", op->t.bucket);
	else
		s3_fail(op, r->result, "%s: %s", what, r->err);
}

static int start(struct s3_op *op, struct s3_req *r)
{
	char err[512] = "";
	CURL *h;
	int rc = s3_creds_refresh(&op->creds, err, sizeof(err));

	if (rc) {
		s3_fail(op, rc, "renew credentials: %s", err);
		return rc;
	}
	h = op->nidle ? op->idle[--op->nidle] : curl_easy_init();
	if (!h || s3_req_setup(op, r, h)) {
		if (h)
			curl_easy_cleanup(h);
		r->easy = NULL;
		s3_fail(op, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, op->t.sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, op->creds.access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, op->creds.secret_key);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "rawcap/" RAWCAP_VERSION_STRING);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled peer: 60 s without a byte */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	s3_ca_set(h, &op->ca);
	if (op->rate_per_req) {
		curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)op->rate_per_req);
		curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)op->rate_per_req);
	}
	if (curl_multi_add_handle(op->multi, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		r->easy = NULL;
		s3_fail(op, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	r->next = op->active;
	op->active = r;
	op->running++;
	return 0;
}

static bool transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static int http_errno(long status, const char *code)
{
	if (status == 404)
		return !strcmp(code, "NoSuchBucket") ? -ENXIO : -ENOENT;
	if (status == 403 || !strcmp(code, "InvalidAccessKeyId") ||
	    !strcmp(code, "SignatureDoesNotMatch") || !strcmp(code, "InvalidToken") ||
	    !strcmp(code, "ExpiredToken") || !strcmp(code, "AuthorizationHeaderMalformed"))
		return -EACCES;
	if (!strcmp(code, "XAmzContentSHA256Mismatch") || !strcmp(code, "BadDigest"))
		return -EBADMSG;
	if (status == 501)
		return -ENOTSUP;
	return -EIO;
}

/* Set r->result and r->err from the attempt; true if trying again may help. */
static bool classify(struct s3_op *op, struct s3_req *r, CURLcode rc)
{
	const char *code = r->xerr.code;

	if (rc != CURLE_OK) {
		if (r->result) /* our callback stopped it: a local fault, not the network's */
			return false;
		r->result = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		snprintf(r->err, sizeof(r->err), "%s",
			 r->cerr[0] ? r->cerr : curl_easy_strerror(rc));
		return transient_curl(rc);
	}
	if (r->result) /* e.g. a short file, caught after curl finished */
		return false;
	if (r->status >= 200 && r->status < 300)
		return false;
	r->xerr.code[0] = r->xerr.message[0] = '\0';
	if (r->resp_len)
		s3_xml_error(r->resp, r->resp_len, &r->xerr);
	r->result = http_errno(r->status, code);
	if (r->status >= 300 && r->status < 400)
		snprintf(r->err, sizeof(r->err),
			 "HTTP %ld%s%s: redirected; the bucket may be in another region than %s "
			 "(--region)",
			 r->status, code[0] ? " " : "", code, op->t.region);
	else
		snprintf(r->err, sizeof(r->err), "HTTP %ld%s%s%s%s", r->status, code[0] ? " " : "",
			 code, r->xerr.message[0] ? ": " : "", r->xerr.message);
	if (!strcmp(code, "ExpiredToken") && op->creds.role_arn) {
		op->creds.expires = 1; /* renew before the next attempt */
		return true;
	}
	return r->status >= 500 || r->status == 429 || r->status == 408 ||
	       !strcmp(code, "RequestTimeout") || !strcmp(code, "SlowDown");
}

static uint64_t backoff_ns(unsigned attempt)
{
	uint64_t d = BACKOFF_BASE_NS << (attempt < 16 ? attempt : 16);
	uint32_t rnd = 0;

	if (d > BACKOFF_MAX_NS)
		d = BACKOFF_MAX_NS;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)clock_mono_ns();
	return d / 2 + (d / 2) * (rnd % 1024) / 1024; /* jitter: half to all of it */
}

static void release_easy(struct s3_op *op, struct s3_req *r)
{
	for (struct s3_req **pp = &op->active; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	r->next = NULL;
	curl_multi_remove_handle(op->multi, r->easy);
	if (op->nidle < RAWCAP_S3_PARALLEL_MAX)
		op->idle[op->nidle++] = r->easy;
	else
		curl_easy_cleanup(r->easy);
	r->easy = NULL;
	op->running--;
	curl_slist_free_all(r->headers);
	r->headers = NULL;
}

static void finish(struct s3_op *op, struct s3_req *r, CURLcode rc)
{
	bool again;

	release_easy(op, r);
	again = classify(op, r, rc);
	if (r->progress) {
		/* Count exactly what succeeded; nothing of what did not. */
		uint64_t total = !r->result ? (r->sink_fd >= 0 ? r->sink_pos : r->body_len) : 0;

		s3_progress_bytes(op->prog, (int64_t)total - (int64_t)r->counted);
		r->counted = total;
	}
	if (again && !r->no_retry && r->attempt < op->retries && !op->stop) {
		r->counted = 0;
		r->due_ns = clock_mono_ns() + backoff_ns(r->attempt++);
		r->next = op->delayed;
		op->delayed = r;
		s3_progress_retry(op->prog);
		return;
	}
	/* Ours or the server's sum refused it: say which file was not as sealed. */
	if ((!r->result || r->result == -EBADMSG) && r->check_sha && r->sink_fd < 0 &&
	    r->body_pos == r->body_len && s3_req_check_sum(r)) {
		r->result = -EBADMSG;
		snprintf(
			r->err, sizeof(r->err),
			"content does not match the manifest's SHA-256 (changed since the snapshot "
			"was sealed)");
	}
	if (!r->result && r->check_sha && r->sink_fd >= 0 && r->sink_pos == r->sink_limit &&
	    s3_req_check_sum(r)) {
		r->result = -EBADMSG;
		snprintf(r->err, sizeof(r->err),
			 "SHA-256 mismatch: the object is not what the manifest lists");
	}
	s3_creds_redact(&op->creds, r->err);
	if (r->done)
		r->done(op, r);
	if (!r->keep)
		s3_req_free(r);
}

/* Move retries that are due to the front of the queue; the time to the next one. */
static int promote_due(struct s3_op *op)
{
	uint64_t now = clock_mono_ns(), next = UINT64_MAX;
	struct s3_req **pp = &op->delayed;

	while (*pp) {
		struct s3_req *r = *pp;

		if (r->due_ns <= now) {
			*pp = r->next;
			r->next = op->queue;
			op->queue = r;
			if (!op->queue_tail)
				op->queue_tail = r;
		} else {
			next = r->due_ns < next ? r->due_ns : next;
			pp = &r->next;
		}
	}
	return next == UINT64_MAX ? POLL_MS : (int)((next - now) / 1000000 + 1);
}

static struct s3_req *next_req(struct s3_op *op)
{
	struct s3_req *r = op->queue;

	if (r) {
		op->queue = r->next;
		if (!op->queue)
			op->queue_tail = NULL;
		r->next = NULL;
		return r;
	}
	return op->feed ? op->feed(op) : NULL;
}

static void drop_all(struct s3_op *op)
{
	struct CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(op->multi, &left)))
		;
	for (struct s3_req **list = &op->queue; list;
	     list = list == &op->queue ? &op->delayed : NULL)
		while (*list) {
			struct s3_req *r = *list;

			*list = r->next;
			if (!r->keep)
				s3_req_free(r);
		}
	op->queue_tail = NULL;
}

/*
 * Requests still in the multi handle after a stop; all of them, or only those
 * whose answer does not matter (a CreateMultipartUpload must be heard out,
 * or the upload it creates could never be aborted).
 */
static void drop_running(struct s3_op *op, bool all)
{
	struct s3_req **pp = &op->active;

	while (*pp) {
		struct s3_req *r = *pp;

		if (!all && r->finish_on_stop) {
			pp = &r->next;
			continue;
		}
		release_easy(op, r);
		if (r->progress && r->counted)
			s3_progress_bytes(op->prog, -(int64_t)r->counted);
		if (!r->keep)
			s3_req_free(r);
	}
}

static int run(struct s3_op *op, bool cleanup)
{
	uint64_t deadline = cleanup ? clock_mono_ns() + CLEANUP_NS : UINT64_MAX;

	for (;;) {
		int wait_ms = promote_due(op), still = 0;
		struct CURLMsg *m;
		struct s3_req *r;

		while (!op->stop && op->running < op->parallel && (r = next_req(op)))
			if (start(op, r)) {
				if (!r->keep)
					s3_req_free(r);
				break;
			}
		if (!cleanup && !op->stop && atomic_load(&op->prog->cancel))
			s3_fail(op, -ECANCELED, "cancelled");
		if (op->stop) {
			/* Stop at once, but for the answers that must be heard out. */
			drop_running(op, false);
			if (!op->running)
				break;
			if (deadline == UINT64_MAX)
				deadline = clock_mono_ns() + STOP_GRACE_NS;
		} else if (!op->running && !op->queue && !op->delayed) {
			break;
		}
		if (clock_mono_ns() > deadline)
			break;
		curl_multi_perform(op->multi, &still);
		while ((m = curl_multi_info_read(op->multi, &still)))
			if (m->msg == CURLMSG_DONE) {
				CURL *h = m->easy_handle;
				CURLcode rc = m->data.result;

				r = NULL;
				curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&r);
				finish(op, r, rc);
			}
		if (op->running)
			curl_multi_poll(op->multi, NULL, 0, wait_ms < POLL_MS ? wait_ms : POLL_MS,
					NULL);
		else if (op->delayed)
			usleep((useconds_t)(wait_ms < POLL_MS ? wait_ms : POLL_MS) * 1000);
		s3_progress_tick(op->prog, false);
	}
	drop_running(op, true);
	drop_all(op);
	return op->error;
}

int s3_run(struct s3_op *op)
{
	return run(op, false);
}

/*
 * After a failure or cancellation: run what the caller queued (aborts of
 * unfinished multipart uploads) for a bounded time, once each, ignoring the
 * cancellation, and keep the first error as the operation's.
 */
int s3_run_cleanup(struct s3_op *op)
{
	int err = op->error;
	char msg[sizeof(op->msg)];

	memcpy(msg, op->msg, sizeof(msg));
	op->stop = false;
	op->feed = NULL;
	for (struct s3_req *r = op->queue; r; r = r->next)
		r->no_retry = true;
	run(op, true);
	op->error = err;
	memcpy(op->msg, msg, sizeof(msg));
	op->stop = err != 0;
	return err;
}

int s3_run_one(struct s3_op *op, struct s3_req *r)
{
	struct s3_req *(*feed)(struct s3_op *) = op->feed;

	r->keep = true;
	op->feed = NULL;
	s3_submit(op, r);
	run(op, false);
	op->feed = feed;
	if (op->error && !r->result && !r->status) {
		r->result = op->error;
		snprintf(r->err, sizeof(r->err), "%.380s", op->msg);
	}
	return r->result;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int s3_op_init(struct s3_op *op, const struct rawcap_s3_opts *o, struct s3_progress *prog,
	       char *errbuf, size_t errlen)
{
	int err;

	memset(op, 0, sizeof(*op));
	op->prog = prog;
	err = s3_target_parse(&op->t, o->url, o->endpoint, o->region, errbuf, errlen);
	if (err)
		return err;
	pthread_once(&curl_once, curl_init_once);
	op->parallel = o->parallel ? o->parallel : RAWCAP_S3_PARALLEL;
	op->retries = o->no_retry ? 0 : o->retries ? o->retries : RAWCAP_S3_RETRIES;
	op->part_size = o->part_size ? o->part_size : RAWCAP_S3_PART_SIZE;
	op->rate_per_req = o->max_rate ? (o->max_rate + op->parallel - 1) / op->parallel : 0;
	err = s3_ca_load(&op->ca, o->ca_file, errbuf, errlen);
	if (err)
		return err;
	op->multi = curl_multi_init();
	if (!op->multi) {
		snprintf(errbuf, errlen, "out of memory");
		s3_ca_free(&op->ca);
		return -ENOMEM;
	}
	curl_multi_setopt(op->multi, CURLMOPT_MAXCONNECTS, (long)op->parallel + 2);
	err = s3_creds_resolve(&op->creds, o, op->t.region, errbuf, errlen);
	if (err) {
		curl_multi_cleanup(op->multi);
		op->multi = NULL;
		s3_ca_free(&op->ca);
	}
	return err;
}

void s3_op_fini(struct s3_op *op)
{
	if (op->multi) {
		drop_running(op, true);
		drop_all(op);
		curl_multi_cleanup(op->multi);
	}
	for (unsigned i = 0; i < op->nidle; i++)
		curl_easy_cleanup(op->idle[i]);
	s3_creds_free(&op->creds);
	s3_ca_free(&op->ca);
	memset(op, 0, sizeof(*op));
}
