// SPDX-License-Identifier: MIT
/*
 * jobs.c - rawcap-server's snapshot jobs (POST /v1/snapshots): a detached
 * worker per job runs rawcap_snapshot_create(), which builds the snapshot
 * under a temporary name and renames it into place; the job stays listed
 * (in_progress, then failed with why) until it is on disk or deleted.
 *
 * DELETE of a job in progress cancels it: it sets the create's stop flag
 * (seen per record and block, and every flush interval while the window
 * waits for live data), waits for the worker to remove its staging
 * directory and give back its slot, and answers 204. SIGTERM and SIGINT
 * cancel every job the same way (server_snapshot_jobs_stop), but keep what
 * completed: the server says how many it cancelled and exits at once,
 * leaving no staging directory behind.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rawcap/meta.h>
#include <rawcap/snapshot.h>

#include "jobs.h"
#include "server.h"

/* The job named name, or NULL; s->lock held. */
struct snap_job *job_find(struct server *s, const char *name)
{
	for (struct snap_job *j = s->jobs; j; j = j->next)
		if (!strcmp(j->name, name))
			return j;
	return NULL;
}

void job_unlink(struct server *s, struct snap_job *j)
{
	for (struct snap_job **p = &s->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			return;
		}
}

/*
 * A job whose DELETE came while it ran: cancelled (or failed), nothing is
 * left of it; had it finished first, the snapshot it made goes as DELETE
 * asked. 0, or a failure to keep showing. s->lock held.
 */
static int job_cancelled(struct server *s, struct snap_job *j, int err)
{
	if (err < 0) /* cancelled, or failed: the create left nothing */
		return 0;
	err = rawcap_snapshot_delete(s->snapshots, j->name);
	return err == -ENOENT ? 0 : err;
}

static void *job_main(void *arg)
{
	struct snap_job *j = arg;
	struct server *s = j->s;
	struct rawcap_snapshot_opts o = {
		.sz = sizeof(o),
		.ring = s->ring,
		.storage_dir = s->storage,
		.dest = s->snapshots,
		.name = j->name,
		.node = s->node,
		.from_ns = j->from_ns,
		.to_ns = j->to_ns,
		.filter = j->q.filter && *j->q.filter ? j->q.filter : NULL,
		.quota = s->snapshot_quota,
		.pods = rawcap_meta_sel_empty(rawcap_meta_join_sel(j->q.pods)) ? NULL : j->q.pods,
		.stop = &j->stop,
	};
	struct rawcap_snapshot_info info;
	char why[320] = "";
	int err = rawcap_snapshot_create(&o, &info, why, sizeof(why));

	server_query_free(&j->q);
	pthread_mutex_lock(&s->lock);
	if (j->deleted) /* cancelled (or done just before): forgotten, as DELETE asked */
		err = job_cancelled(s, j, err);
	if (err < 0 && s->stopping && j->stop) {
		job_unlink(s, j); /* cancelled at exit: server_snapshot_jobs_stop says so */
		free(j);
		j = NULL;
	} else if (err < 0) {
		j->status = SNAP_FAILED;
		snprintf(j->error, sizeof(j->error), "%s", why[0] ? why : rawcap_strerror(err));
	} else {
		job_unlink(s, j); /* on disk now (or cancelled): the manifest speaks for it */
	}
	__atomic_fetch_sub(&s->exports, 1, __ATOMIC_RELAXED); /* before DELETE answers */
	if (j && j->gone) {
		*j->gone = true;
		pthread_cond_broadcast(j->gone_cond);
	}
	pthread_cond_broadcast(&s->job_ended);
	pthread_mutex_unlock(&s->lock);
	if (!j)
		return NULL;
	if (err < 0)
		fprintf(stderr, SERVER_PROG ": snapshot %s failed: %s\n", j->name, j->error);
	else
		free(j);
	return NULL;
}

/* Take name for j unless a snapshot, a job or a download has it; s->lock held. */
static bool job_claim(struct server *s, struct snap_job *j)
{
	if (server_snapshot_taken(s, j->name))
		return false;
	j->next = s->jobs;
	s->jobs = j;
	return true;
}

/* Start j's worker and answer 202 (*started), or answer why not. */
int job_start(struct httpd_req *req, struct server *s, struct snap_job *j, bool *started)
{
	char loc[160], name[sizeof(j->name)];
	pthread_attr_t at;
	pthread_t t;
	cJSON *o;
	int err;

	*started = false;
	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		return server_reply_error(req, 503, "stopping", "rawcap-server is stopping");
	}
	if (!job_claim(s, j)) {
		pthread_mutex_unlock(&s->lock);
		return server_reply_error(req, 409, "exists", "snapshot %s exists", j->name);
	}
	/* Once the worker runs, j is its own: it may finish and free j at once. */
	memcpy(name, j->name, sizeof(name));
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	err = -pthread_create(&t, &at, job_main, j);
	pthread_attr_destroy(&at);
	if (err)
		job_unlink(s, j);
	pthread_mutex_unlock(&s->lock);
	if (err)
		return err;
	*started = true;
	snprintf(loc, sizeof(loc), "/v1/snapshots/%s", name);
	httpd_req_set_header(req, "Location", loc);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "status", "in_progress");
	return server_reply_json(req, 202, o);
}

#define JOB_CANCEL_WAIT_S 30

/*
 * DELETE of a job in progress: stop its create and wait (at most
 * JOB_CANCEL_WAIT_S) until its worker has removed the staging directory
 * and given back its slot: 204. s->lock held; unlocks.
 */
int job_cancel(struct httpd_req *req, struct server *s, struct snap_job *j)
{
	char name[sizeof(j->name)];
	pthread_condattr_t ca;
	pthread_cond_t cond;
	struct timespec until;
	bool gone = false;
	int rc = 0;

	if (j->gone) { /* another DELETE waits for it */
		pthread_mutex_unlock(&s->lock);
		return server_reply_error(req, 409, "in_progress", "snapshot %s is being cancelled",
					  j->name);
	}
	memcpy(name, j->name, sizeof(name));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += JOB_CANCEL_WAIT_S;
	j->gone = &gone;
	j->gone_cond = &cond;
	j->deleted = true;
	j->stop = 1;
	while (!gone && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cond, &s->lock, &until);
	if (!gone) /* j still runs: it must not signal this frame */
		j->gone = NULL;
	pthread_mutex_unlock(&s->lock);
	pthread_cond_destroy(&cond);
	if (!gone)
		return server_reply_error(req, 503, "cancel_pending",
					  "snapshot %s is being cancelled; it has not ended yet",
					  name);
	return httpd_reply(req, 204, NULL, "", 0);
}

void server_snapshot_jobs_init(struct server *s)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->job_ended, &ca);
	pthread_condattr_destroy(&ca);
}

/* Jobs still being made; s->lock held. */
static unsigned jobs_running(const struct server *s)
{
	unsigned n = 0;

	for (const struct snap_job *j = s->jobs; j; j = j->next)
		n += j->status == SNAP_IN_PROGRESS;
	return n;
}

void server_snapshot_jobs_stop(struct server *s, unsigned wait_s)
{
	struct timespec until;
	unsigned n, left;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_s;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	n = jobs_running(s);
	for (struct snap_job *j = s->jobs; j; j = j->next)
		j->stop = 1;
	while ((left = jobs_running(s)) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->job_ended, &s->lock, &until);
	pthread_mutex_unlock(&s->lock);
	if (left)
		fprintf(stderr,
			SERVER_PROG
			": stopped: %u of %u snapshot jobs did not end within %u s; "
			"their staging directories stay until a later create reaps them\n",
			left, n, wait_s);
	else if (n)
		fprintf(stderr,
			SERVER_PROG
			": stopped: %u snapshot jobs cancelled, their staging removed\n",
			n);
}
