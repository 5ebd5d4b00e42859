// SPDX-License-Identifier: MIT
/*
 * snapshots.c - /v1/snapshots: create (asynchronously), list, show,
 * delete, verify and download snapshots, on librawcap's snapshot code (the
 * same as rawcap-snapshot's).
 *
 * POST answers 202 at once; a worker thread runs rawcap_snapshot_create(),
 * which builds the snapshot under a temporary name and renames it into
 * place, so a snapshot is on disk complete or not at all. Until then the
 * server remembers the job (in_progress), and a job that failed (failed,
 * with why) until it is deleted. Completed snapshots are what is on disk:
 * their manifest says whether they are partial, so nothing is lost when
 * the server restarts. Snapshot jobs count against --max-exports.
 *
 * The jobs themselves (their workers, DELETE's and the exit's cancel) are
 * jobs.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rawcap/meta.h>
#include <rawcap/snapshot.h>
#include <rawcap/window.h>

#include "jobs.h"
#include "query.h"
#include "server.h"

/* One body field into the query parser: a string, or (pod, namespace, label) a list of them. */
static int body_field(struct server_query *q, const cJSON *body, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key), *e;
	int err;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v))
		return server_query_arg(q, key, v->valuestring);
	if (!cJSON_IsArray(v) || !strcmp(key, "from") || !strcmp(key, "to") ||
	    !strcmp(key, "last") || !strcmp(key, "filter")) {
		snprintf(q->detail, sizeof(q->detail), "\"%s\" must be a string", key);
		return -EINVAL;
	}
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e)) {
			snprintf(q->detail, sizeof(q->detail), "\"%s\" must hold strings", key);
			return -EINVAL;
		}
		err = server_query_arg(q, key, e->valuestring);
		if (err)
			return err;
	}
	return 0;
}

/* Parse a POST body into j: name and window. 0, or -EINVAL with j->q.detail. */
static int job_parse(struct snap_job *j, const void *text, size_t len, uint64_t oldest)
{
	static const char *const fields[] = {"from", "to",	  "last",  "filter",
					     "pod",  "namespace", "label", "name"};
	cJSON *body = server_json_parse(text, len);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
	int err = 0;

	if (!cJSON_IsObject(body))
		err = snprintf(j->q.detail, sizeof(j->q.detail), SERVER_JSON_BAD);
	else if (!cJSON_IsString(name) || !rawcap_snapshot_name_ok(name->valuestring))
		err = snprintf(j->q.detail, sizeof(j->q.detail),
			       "\"name\" must be 1..100 of [A-Za-z0-9._-], not starting with "
			       "'.' or '-'");
	else
		err = server_json_keys(body, fields, sizeof(fields) / sizeof(fields[0]),
				       j->q.detail, sizeof(j->q.detail));
	if (err) {
		cJSON_Delete(body);
		return -EINVAL;
	}
	snprintf(j->name, sizeof(j->name), "%s", name->valuestring);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) - 1 && !err; i++) /* not name */
		err = body_field(&j->q, body, fields[i]);
	cJSON_Delete(body);
	if (!err)
		err = server_query_finish(&j->q, oldest);
	j->from_ns = j->q.from_ns;
	j->to_ns = j->q.to_ns;
	return err;
}

bool server_snapshot_taken(struct server *s, const char *name)
{
	struct rawcap_snapshot_info info;

	return job_find(s, name) || server_transfer_busy(s, name) ||
	       rawcap_snapshot_show(s->snapshots, name, &info) != -ENOENT;
}

bool server_snapshot_quota_full(struct server *s, struct httpd_req *req, int *err)
{
	uint64_t used = 0;

	if (!s->snapshot_quota || rawcap_snapshot_usage(s->snapshots, &used) ||
	    used < s->snapshot_quota)
		return false;
	*err = server_reply_error(req, 507, "quota_exceeded",
				  "snapshots use %llu of the %llu bytes --snapshot-quota allows; "
				  "delete some first",
				  (unsigned long long)used, (unsigned long long)s->snapshot_quota);
	return true;
}

bool server_export_slot(struct server *s, struct httpd_req *req, int *err)
{
	if ((unsigned)__atomic_add_fetch(&s->exports, 1, __ATOMIC_RELAXED) <= s->max_exports)
		return true;
	__atomic_fetch_sub(&s->exports, 1, __ATOMIC_RELAXED);
	httpd_req_set_header(req, "Retry-After", SERVER_RETRY_AFTER_S);
	*err = server_reply_error(req, 429, "too_many_exports",
				  "%u exports and snapshots are running", s->max_exports);
	return false;
}

/* What stops a parsed job before it starts: answered 507 or 429, else a slot is taken. */
static bool post_refused(struct server *s, struct httpd_req *req, int *err)
{
	return server_snapshot_quota_full(s, req, err) || !server_export_slot(s, req, err);
}

int server_snapshot_post(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	struct rawcap_window_opts wo = {
		.sz = sizeof(wo), .ring = s->ring, .storage_dir = s->storage};
	struct snap_job *j = calloc(1, sizeof(*j));
	uint64_t oldest = 0, newest = 0;
	bool started = false;
	size_t len;
	const void *body = httpd_req_body(req, &len);
	int err;

	if (!j || server_query_init(&j->q, rawcap_now_ns())) {
		free(j);
		return -ENOMEM;
	}
	j->s = s;
	j->created_ns = j->q.now_ns;
	rawcap_window_bounds(&wo, &oldest, &newest);
	err = job_parse(j, body ? body : "", len, oldest);
	if (err == -EINVAL) {
		err = server_reply_error(req, 400, "bad_body", "%s", j->q.detail);
	} else if (!err && !post_refused(s, req, &err)) {
		err = job_start(req, s, j, &started);
		if (started)
			return err; /* the worker owns j */
		__atomic_fetch_sub(&s->exports, 1, __ATOMIC_RELAXED);
	}
	server_query_free(&j->q);
	free(j);
	return err;
}

/* A snapshot on disk as the API shows it. */
static cJSON *snap_json(const struct server *s, const struct rawcap_snapshot_info *in)
{
	bool lost = (in->partial && !in->uncaptured) || in->lost_reader || in->lost_upstream;
	cJSON *o = cJSON_CreateObject(), *l, *m = NULL;
	char *text = NULL;

	cJSON_AddStringToObject(o, "name", in->name);
	cJSON_AddStringToObject(o, "status", lost ? "partial" : "completed");
	cJSON_AddStringToObject(o, "node", in->node);
	server_json_time(o, "from", in->from_ns);
	server_json_time(o, "to", in->to_ns);
	server_json_time(o, "first", in->first_ts_ns);
	server_json_time(o, "last", in->last_ts_ns);
	server_json_u64(o, "packets", in->packets);
	server_json_u64(o, "records", in->records);
	server_json_u64(o, "bytes", in->data_bytes);
	l = cJSON_AddObjectToObject(o, "lost");
	server_json_u64(l, "reader", in->lost_reader);
	server_json_u64(l, "upstream", in->lost_upstream);
	if (in->partial) {
		server_json_time(o, "missing_from", in->missing_from_ns);
		server_json_time(o, "missing_to", in->missing_to_ns);
		cJSON_AddStringToObject(o, "missing_reason",
					in->uncaptured ? RAWCAP_MISSING_UNCAPTURED
						       : RAWCAP_MISSING_RECYCLED);
	}
	cJSON_AddStringToObject(o, "filter", in->filter);
	server_json_time(o, "created", in->created_ns);
	/*
	 * As written, once it parses whole: cJSON would turn its 64-bit
	 * integers into doubles and lose their last digits.
	 */
	if (!rawcap_snapshot_manifest_text(s->snapshots, in->name, &text))
		m = cJSON_ParseWithOpts(text, NULL, true);
	if (m)
		cJSON_AddRawToObject(o, "manifest", text);
	else
		cJSON_AddNullToObject(o, "manifest");
	cJSON_Delete(m);
	free(text);
	return o;
}

/* A job (in progress or failed) as the API shows it; s->lock held. */
static cJSON *job_json(const struct snap_job *j)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", j->name);
	cJSON_AddStringToObject(o, "status", j->status == SNAP_FAILED ? "failed" : "in_progress");
	if (j->status == SNAP_FAILED)
		cJSON_AddStringToObject(o, "error", j->error);
	server_json_time(o, "from", j->from_ns);
	server_json_time(o, "to", j->to_ns);
	server_json_time(o, "created", j->created_ns);
	return o;
}

/* The snapshot or job called name as JSON; NULL if there is none. */
static cJSON *snap_lookup(struct server *s, const char *name, int *status)
{
	struct rawcap_snapshot_info info;
	struct snap_job *j;
	cJSON *o = NULL;

	pthread_mutex_lock(&s->lock);
	j = job_find(s, name);
	*status = j ? (int)j->status : -1;
	if (j)
		o = job_json(j);
	pthread_mutex_unlock(&s->lock);
	if (!o && !rawcap_snapshot_show(s->snapshots, name, &info))
		o = snap_json(s, &info);
	return o;
}

static int snap_not_found(struct httpd_req *req, const char *name)
{
	return server_reply_error(req, 404, "not_found", "no snapshot %s", name);
}

int server_snapshot_get(void *arg, struct httpd_req *req)
{
	const char *name = httpd_req_param(req, 0);
	int status;
	/* The transfer first: a download that ended then is on disk below. */
	cJSON *t = rawcap_snapshot_name_ok(name) ? server_transfer_json(arg, name) : NULL;
	cJSON *o = rawcap_snapshot_name_ok(name) ? snap_lookup(arg, name, &status) : NULL;

	o = server_transfer_attach(o, t, name);
	return o ? server_reply_json(req, 200, o) : snap_not_found(req, name);
}

int server_snapshot_list(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "snapshots"), *e;
	char **names = NULL, why[320] = "";
	size_t n = 0;
	int status, err;

	pthread_mutex_lock(&s->lock);
	for (struct snap_job *j = s->jobs; j; j = j->next)
		cJSON_AddItemToArray(a, job_json(j));
	pthread_mutex_unlock(&s->lock);
	server_transfer_pending(s, a);
	if ((err = rawcap_snapshot_list_why(s->snapshots, &names, &n, why, sizeof(why)))) {
		cJSON_Delete(o);
		return server_reply_error(req, 500, "snapshot_dir_unusable",
					  "--snapshot-dir %s: %s", s->snapshots,
					  why[0] ? why : rawcap_strerror(err));
	}
	for (size_t i = 0; i < n; i++) {
		e = snap_lookup(s, names[i], &status);
		if (e && status < 0 && !server_json_listed(a, names[i])) /* jobs: above */
			cJSON_AddItemToArray(
				a, server_transfer_attach(e, server_transfer_json(s, names[i]),
							  names[i]));
		else
			cJSON_Delete(e);
	}
	rawcap_snapshot_list_free(names, n);
	return server_reply_json(req, 200, o);
}

int server_snapshot_delete(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	const char *name = httpd_req_param(req, 0);
	struct snap_job *j;
	bool download = false;
	char why[320] = "";
	int err;

	if (!rawcap_snapshot_name_ok(name))
		return snap_not_found(req, name);
	if (server_transfer_forget(s, name, &download) == -EBUSY)
		return server_reply_error(req, 409, "in_progress",
					  "snapshot %s is being transferred", name);
	pthread_mutex_lock(&s->lock);
	j = job_find(s, name);
	if (j && j->status == SNAP_IN_PROGRESS)
		return job_cancel(req, s, j);	/* unlocks */
	if (server_snapshot_read_by(s, name)) { /* its files must stay until it has been read */
		pthread_mutex_unlock(&s->lock);
		return server_reply_error(req, 409, "in_progress",
					  "snapshot %s is being downloaded; delete it after", name);
	}
	if (j) /* failed */
		job_unlink(s, j);
	err = rawcap_snapshot_delete_why(s->snapshots, name, why, sizeof(why)); /* under the lock */
	pthread_mutex_unlock(&s->lock);
	if (j) { /* a failed job: forgotten; whatever it left on disk went too */
		free(j);
		err = 0;
	}
	if (err == -ENOENT && download) /* a download that failed: forgotten */
		err = 0;
	if (err == -ENOENT || err == -EMEDIUMTYPE) /* nothing, or not a snapshot */
		return snap_not_found(req, name);
	if (err)
		return server_reply_error(req, 500, "delete_failed", "delete %s: %s", name,
					  why[0] ? why : rawcap_strerror(err));
	return httpd_reply(req, 204, NULL, "", 0);
}

bool server_snapshot_ready(struct httpd_req *req, struct server *s, const char *name, int *err)
{
	int status;
	cJSON *o = rawcap_snapshot_name_ok(name) ? snap_lookup(s, name, &status) : NULL;

	cJSON_Delete(o);
	if (!o)
		*err = snap_not_found(req, name);
	else if (status >= 0)
		*err = server_reply_error(req, 409,
					  status == SNAP_FAILED ? "failed" : "in_progress",
					  "snapshot %s is %s", name,
					  status == SNAP_FAILED ? "a failed job" : "being made");
	return o && status < 0;
}

int server_snapshot_verify(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	const char *name = httpd_req_param(req, 0);
	char why[320] = "";
	cJSON *o;
	int err;

	if (!server_snapshot_ready(req, s, name, &err))
		return err;
	err = rawcap_snapshot_verify(s->snapshots, name, why, sizeof(why));
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddBoolToObject(o, "ok", !err);
	if (err)
		cJSON_AddStringToObject(o, "detail", why[0] ? why : rawcap_strerror(err));
	return server_reply_json(req, 200, o);
}

int server_snapshot_pcap(void *arg, struct httpd_req *req)
{
	struct server *s = arg;
	const char *name = httpd_req_param(req, 0);
	struct rawcap_snapshot_info info;
	struct server_snapshot_src src;
	char dir[4200];
	int err;

	if (!server_snapshot_ready(req, s, name, &err))
		return err;
	err = rawcap_snapshot_show(s->snapshots, name, &info);
	if (err)
		return err == -ENOENT ? snap_not_found(req, name) : err;
	snprintf(dir, sizeof(dir), "%s/%s", s->snapshots, name);
	src = (struct server_snapshot_src){.dir = dir,
					   .name = name,
					   .from_ns = info.from_ns,
					   .to_ns = info.to_ns,
					   .held_from_ns =
						   info.partial ? info.missing_to_ns : info.from_ns,
					   .uncaptured = info.uncaptured};
	return server_pcap_download(s, req, &src);
}
