/* SPDX-License-Identifier: MIT */
/*
 * jobs.h - a snapshot job of rawcap-server, shared by snapshots.c (the
 * API: parse, list, show) and jobs.c (the worker, its start and cancel).
 */
#ifndef RAWCAP_SERVER_JOBS_H
#define RAWCAP_SERVER_JOBS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include <rawcap/snapshot.h>

#include "query.h"
#include "server.h"

enum snap_status { SNAP_IN_PROGRESS, SNAP_FAILED };

struct snap_job {
	struct snap_job *next;
	struct server *s;
	char name[RAWCAP_SNAP_NAME_MAX + 1];
	enum snap_status status;
	char error[320];
	uint64_t from_ns, to_ns, created_ns;
	struct server_query q;	    /* owns the filter and the pod join while running */
	volatile sig_atomic_t stop; /* set by DELETE or at exit: cancel the create */
	bool deleted;		    /* by DELETE: what it made goes too */
	/* A DELETE waiting for the cancelled worker to end (its frame's); s->lock. */
	bool *gone;
	pthread_cond_t *gone_cond;
};

/* The job named name, or NULL; s->lock held. */
struct snap_job *job_find(struct server *s, const char *name);
/* Take j out of the list; s->lock held. */
void job_unlink(struct server *s, struct snap_job *j);
/* Start j's worker and answer 202 (*started: j is the worker's), or answer why not. */
int job_start(struct httpd_req *req, struct server *s, struct snap_job *j, bool *started);
/* DELETE of a job in progress: cancel it, wait, answer; s->lock held, unlocks. */
int job_cancel(struct httpd_req *req, struct server *s, struct snap_job *j);

#endif
