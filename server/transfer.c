// SPDX-License-Identifier: MIT
/*
 * transfer.c - snapshots to and from S3-compatible object storage over the
 * node API: POST /v1/snapshots/NAME/upload and POST /v1/snapshots/download,
 * on librawcap's transfers (rawcap/s3.h, the code rawcap-snapshot upload and
 * download run).
 *
 * A POST starts a transfer and answers 202; the transfer runs on its own
 * thread and GET /v1/snapshots/NAME shows where it stands under "transfer".
 * The last transfer of each name is remembered (at most TRANSFER_KEEP ended
 * ones) until the snapshot is deleted. A download is staged privately by the
 * library and renamed into place once verified, so a name is on disk
 * complete or not at all. Credentials are the server's (its environment or
 * files, rawcap/s3.h), never the request's. Transfers count against
 * --max-exports; a download counts against --snapshot-quota while it runs
 * (the library reserves its size first and fails with -EDQUOT when it does
 * not fit). A name being transferred answers 409 to another transfer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/s3.h>
#include <rawcap/snapshot.h>

#include "server.h"

#define TRANSFER_KEEP 64 /* ended transfers remembered */

struct transfer {
	struct transfer *next;
	struct server *s;
	char name[RAWCAP_SNAP_NAME_MAX + 1];
	bool upload;
	int ended; /* atomic: the transfer is over and its slot given back */
	uint64_t started_ns;
	struct rawcap_s3_xfer *x;
};

/* The transfer of name, or NULL; s->lock held. */
static struct transfer *transfer_find(struct server *s, const char *name)
{
	for (struct transfer *t = s->transfers; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static bool transfer_running(struct transfer *t)
{
	return t && !__atomic_load_n(&t->ended, __ATOMIC_ACQUIRE);
}

bool server_transfer_busy(struct server *s, const char *name)
{
	return transfer_running(transfer_find(s, name));
}

static void transfer_unlink(struct server *s, struct transfer *t)
{
	for (struct transfer **p = &s->transfers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			return;
		}
}

/* Ended transfers only: rawcap_s3_free() of a running one would wait for it. */
static void transfer_free(struct transfer *t)
{
	if (t) {
		rawcap_s3_free(t->x);
		free(t);
	}
}

/* Forget the oldest ended transfers beyond TRANSFER_KEEP; s->lock held. */
static void transfer_trim(struct server *s)
{
	struct transfer *oldest;
	unsigned ended;

	for (;;) {
		ended = 0;
		oldest = NULL;
		for (struct transfer *t = s->transfers; t; t = t->next)
			if (!transfer_running(t)) {
				ended++;
				oldest = t; /* the list is newest first */
			}
		if (ended <= TRANSFER_KEEP)
			return;
		transfer_unlink(s, oldest);
		transfer_free(oldest);
	}
}

/* On the transfer's thread (or the starter's, if it never started): give the slot back once. */
static void transfer_progress(void *arg, const struct rawcap_s3_status *st)
{
	struct transfer *t = arg;

	if (st->state == RAWCAP_S3_RUNNING || __atomic_exchange_n(&t->ended, 1, __ATOMIC_ACQ_REL))
		return;
	__atomic_fetch_sub(&t->s->exports, 1, __ATOMIC_RELAXED);
}

static const char *state_name(const struct transfer *t, enum rawcap_s3_state st)
{
	switch (st) {
	case RAWCAP_S3_RUNNING:
		return t->upload ? "uploading" : "downloading";
	case RAWCAP_S3_DONE:
		return "completed";
	case RAWCAP_S3_CANCELLED:
		return "cancelled";
	default:
		return "failed";
	}
}

/* "transfer": {op, status, bytes, bytes_total, files, files_total, error|message, started}. */
static cJSON *transfer_json(struct transfer *t)
{
	struct rawcap_s3_status st;
	cJSON *o = cJSON_CreateObject();

	rawcap_s3_status(t->x, &st);
	cJSON_AddStringToObject(o, "op", t->upload ? "upload" : "download");
	cJSON_AddStringToObject(o, "status", state_name(t, st.state));
	server_json_u64(o, "bytes", st.bytes_done);
	server_json_u64(o, "bytes_total", st.bytes_total);
	server_json_u64(o, "files", st.files_done);
	server_json_u64(o, "files_total", st.files_total);
	if (st.state == RAWCAP_S3_FAILED || st.state == RAWCAP_S3_CANCELLED)
		cJSON_AddStringToObject(o, "error", st.message);
	else if (st.state == RAWCAP_S3_DONE)
		cJSON_AddStringToObject(o, "message", st.message);
	server_json_time(o, "started", t->started_ns);
	return o;
}

cJSON *server_transfer_json(struct server *s, const char *name)
{
	struct transfer *t;
	cJSON *o = NULL;

	pthread_mutex_lock(&s->lock);
	t = transfer_find(s, name);
	if (t)
		o = transfer_json(t);
	pthread_mutex_unlock(&s->lock);
	return o;
}

cJSON *server_transfer_attach(cJSON *snap, cJSON *transfer, const char *name)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(transfer, "op");
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(transfer, "status"));

	if (!transfer)
		return snap;
	if (snap) {
		cJSON_AddItemToObject(snap, "transfer", transfer);
		return snap;
	}
	/* Not on disk: only a download running or that did not complete stands for the name. */
	if (!cJSON_IsString(op) || strcmp(op->valuestring, "download") || !st ||
	    !strcmp(st, "completed")) {
		cJSON_Delete(transfer);
		return NULL;
	}
	snap = cJSON_CreateObject();
	cJSON_AddStringToObject(snap, "name", name);
	cJSON_AddStringToObject(snap, "status",
				!strcmp(st, "downloading") ? "in_progress" : "failed");
	if (strcmp(st, "downloading"))
		cJSON_AddStringToObject(
			snap, "error",
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(transfer, "error")));
	cJSON_AddItemToObject(snap, "transfer", transfer);
	return snap;
}

void server_transfer_pending(struct server *s, cJSON *list)
{
	pthread_mutex_lock(&s->lock);
	for (struct transfer *t = s->transfers; t; t = t->next) {
		cJSON *e =
			t->upload ? NULL : server_transfer_attach(NULL, transfer_json(t), t->name);

		if (e)
			cJSON_AddItemToArray(list, e);
	}
	pthread_mutex_unlock(&s->lock);
}

int server_transfer_forget(struct server *s, const char *name, bool *download)
{
	struct transfer *t;

	pthread_mutex_lock(&s->lock);
	t = transfer_find(s, name);
	if (transfer_running(t)) {
		pthread_mutex_unlock(&s->lock);
		return -EBUSY;
	}
	if (t)
		transfer_unlink(s, t);
	pthread_mutex_unlock(&s->lock);
	*download = t && !t->upload;
	transfer_free(t);
	return t ? 0 : -ENOENT;
}

/* The body's string fields; 0, or -EINVAL with detail. */
static int body_strings(const void *text, size_t len, const char *const *keys, const char **vals,
			size_t n, cJSON **body, char *detail, size_t dlen)
{
	const cJSON *v;

	*body = server_json_parse(text, len);
	if (!cJSON_IsObject(*body))
		return snprintf(detail, dlen, SERVER_JSON_BAD), -EINVAL;
	if (server_json_keys(*body, keys, n, detail, dlen))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		v = cJSON_GetObjectItemCaseSensitive(*body, keys[i]);
		vals[i] = NULL;
		if (!v || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v))
			return snprintf(detail, dlen, "\"%s\" must be a string", keys[i]), -EINVAL;
		vals[i] = v->valuestring;
	}
	return 0;
}

/*
 * Start the transfer t (its name and direction set) with opts o: 0 (202),
 * or for what the library refuses before it starts, 400 (URL, endpoint,
 * region) or 409 (a name a download would overwrite) in *status with why.
 * s->lock held; a slot taken, given back by transfer_progress() however it
 * ends. t is the list's, or freed.
 */
static int transfer_start(struct server *s, struct transfer *t, struct rawcap_s3_opts *o,
			  unsigned *status, char *why, size_t len)
{
	struct rawcap_s3_status st;
	struct transfer *old;
	int err;

	o->progress = transfer_progress;
	o->progress_arg = t;
	err = t->upload ? rawcap_s3_upload_start(o, s->snapshots, t->name, &t->x)
			: rawcap_s3_download_start(o, t->name, s->snapshots, &t->x);
	if (err) {
		transfer_progress(t, &(struct rawcap_s3_status){.state = RAWCAP_S3_FAILED});
		free(t);
		return err;
	}
	rawcap_s3_status(t->x, &st);
	if (st.state != RAWCAP_S3_RUNNING &&
	    (st.error == -EINVAL || st.error == -ENAMETOOLONG || st.error == -EEXIST)) {
		*status = st.error == -EEXIST ? 409 : 400;
		snprintf(why, len, "%s", st.message);
		transfer_free(t);
		return 0;
	}
	old = transfer_find(s, t->name); /* ended: the callers checked */
	if (old) {
		transfer_unlink(s, old);
		transfer_free(old);
	}
	t->next = s->transfers;
	s->transfers = t;
	transfer_trim(s);
	*status = 202;
	return 0;
}

/* A slot, the transfer's record and the options from the body's endpoint and region. */
static int transfer_post(struct httpd_req *req, struct server *s, const char *name, bool upload,
			 const char *url, const char *endpoint, const char *region)
{
	struct rawcap_s3_opts o = {.sz = sizeof(o),
				   .url = url,
				   .endpoint = endpoint,
				   .region = region,
				   .quota = upload ? 0 : s->snapshot_quota};
	struct transfer *t;
	unsigned status = 409;
	char why[1024];
	cJSON *body;
	int err = 0;

	if (!server_export_slot(s, req, &err))
		return err;
	t = calloc(1, sizeof(*t));
	if (!t) {
		__atomic_fetch_sub(&s->exports, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	t->s = s;
	t->upload = upload;
	t->started_ns = rawcap_now_ns();
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(why, sizeof(why), "snapshot %s %s", name,
		 upload ? "is being transferred" : "exists");
	/* Answers take s->lock (the request counts): given after it is released. */
	pthread_mutex_lock(&s->lock);
	if (upload ? server_transfer_busy(s, name) : server_snapshot_taken(s, name)) {
		__atomic_fetch_sub(&s->exports, 1, __ATOMIC_RELAXED);
		free(t);
	} else {
		err = transfer_start(s, t, &o, &status, why, sizeof(why));
	}
	pthread_mutex_unlock(&s->lock);
	if (err)
		return err;
	if (status != 202)
		return server_reply_error(req, status,
					  status == 400			     ? "bad_body"
					  : upload && !strstr(why, "exists") ? "in_progress"
									     : "exists",
					  "%s", why);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name);
	cJSON_AddStringToObject(body, "status", upload ? "uploading" : "downloading");
	return server_reply_json(req, 202, body);
}

/*
 * The server signs with its own credentials: it sends them only to the
 * endpoint its environment names (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL)
 * or, with none, to AWS. A request may repeat that endpoint, never pick
 * another: a client must not steer signed requests (and a session token) to
 * a host of its choosing. 0, or the length of the reason written to detail.
 */
static int endpoint_refused(const char *endpoint, char *detail, size_t len)
{
	const char *own = getenv("AWS_ENDPOINT_URL_S3");

	if (!own || !*own)
		own = getenv("AWS_ENDPOINT_URL");
	if (!endpoint || (own && !strcmp(endpoint, own)))
		return 0;
	return snprintf(detail, len,
			"\"endpoint\" may only repeat the server's own (AWS_ENDPOINT_URL_S3 in "
			"its environment); leave it out");
}

int server_transfer_upload(void *arg, struct httpd_req *req)
{
	static const char *const keys[] = {"to", "endpoint", "region"};
	struct server *s = arg;
	const char *name = httpd_req_param(req, 0), *v[3];
	char detail[160];
	size_t len;
	const void *text = httpd_req_body(req, &len);
	cJSON *body = NULL;
	bool busy;
	int err;

	pthread_mutex_lock(&s->lock);
	busy = server_transfer_busy(s, name);
	pthread_mutex_unlock(&s->lock);
	if (busy) /* a download not yet on disk, or an upload */
		return server_reply_error(req, 409, "in_progress",
					  "snapshot %s is being transferred", name);
	if (!server_snapshot_ready(req, s, name, &err))
		return err;
	err = body_strings(text, len, keys, v, 3, &body, detail, sizeof(detail));
	if (!err && !v[0])
		err = snprintf(detail, sizeof(detail), "\"to\" (s3://BUCKET[/PREFIX]) is required");
	if (!err)
		err = endpoint_refused(v[1], detail, sizeof(detail));
	err = err ? server_reply_error(req, 400, "bad_body", "%s", detail)
		  : transfer_post(req, s, name, true, v[0], v[1], v[2]);
	cJSON_Delete(body);
	return err;
}

int server_transfer_download(void *arg, struct httpd_req *req)
{
	static const char *const keys[] = {"name", "from", "endpoint", "region"};
	struct server *s = arg;
	const char *v[4];
	char detail[160];
	size_t len;
	const void *text = httpd_req_body(req, &len);
	cJSON *body = NULL;
	int err = body_strings(text, len, keys, v, 4, &body, detail, sizeof(detail));

	if (!err && (!v[0] || !rawcap_snapshot_name_ok(v[0])))
		err = snprintf(detail, sizeof(detail),
			       "\"name\" must be 1..100 of [A-Za-z0-9._-], not starting with "
			       "'.' or '-'");
	else if (!err && !v[1])
		err = snprintf(detail, sizeof(detail),
			       "\"from\" (s3://BUCKET[/PREFIX]) is required");
	if (!err)
		err = endpoint_refused(v[2], detail, sizeof(detail));
	if (err)
		err = server_reply_error(req, 400, "bad_body", "%s", detail);
	else if (!server_snapshot_quota_full(s, req, &err))
		err = transfer_post(req, s, v[0], false, v[1], v[2], v[3]);
	cJSON_Delete(body);
	return err;
}

void server_transfers_stop(struct server *s)
{
	struct transfer *t;

	pthread_mutex_lock(&s->lock);
	t = s->transfers;
	s->transfers = NULL;
	pthread_mutex_unlock(&s->lock);
	for (struct transfer *n; t; t = n) {
		n = t->next;
		rawcap_s3_free(t->x); /* cancels a running one; the library cleans up after it */
		free(t);
	}
}

bool server_json_listed(const cJSON *list, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list)
	{
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));

		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}
