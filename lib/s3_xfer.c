// SPDX-License-Identifier: MIT
/*
 * s3_xfer.c - uploads and downloads as transfers (rawcap/s3.h): each runs
 * its operation on a thread of its own, publishes a status under a mutex,
 * calls the progress callback at most four times a second, and stops when
 * asked (an atomic flag the engine checks at least ten times a second).
 * The node API can start one per request and answer status polls from it;
 * the CLI waits on it and prints progress.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "clock.h"
#include "s3_int.h"

#define TICK_NS (250ull * 1000000)

struct rawcap_s3_xfer {
	struct s3_progress prog;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, finished, upload;
	struct rawcap_s3_opts o;
	char *dir, *name;
};

void s3_progress_bytes(struct s3_progress *p, int64_t delta)
{
	pthread_mutex_lock(&p->lock);
	p->st.bytes_done += (uint64_t)delta;
	pthread_mutex_unlock(&p->lock);
}

void s3_progress_files(struct s3_progress *p, uint32_t done, uint32_t skipped)
{
	pthread_mutex_lock(&p->lock);
	p->st.files_done += done;
	p->st.files_skipped += skipped;
	pthread_mutex_unlock(&p->lock);
}

void s3_progress_total(struct s3_progress *p, uint64_t bytes, uint32_t files)
{
	pthread_mutex_lock(&p->lock);
	p->st.bytes_total = bytes;
	p->st.files_total = files;
	pthread_mutex_unlock(&p->lock);
}

void s3_progress_retry(struct s3_progress *p)
{
	pthread_mutex_lock(&p->lock);
	p->st.retries++;
	pthread_mutex_unlock(&p->lock);
}

void s3_progress_tick(struct s3_progress *p, bool force)
{
	struct rawcap_s3_status st;
	uint64_t now = clock_mono_ns();

	if (!p->cb || (!force && now - p->last_cb_ns < TICK_NS))
		return;
	p->last_cb_ns = now;
	pthread_mutex_lock(&p->lock);
	st = p->st;
	pthread_mutex_unlock(&p->lock);
	p->cb(p->cb_arg, &st);
}

static void finish(struct rawcap_s3_xfer *x, int err, const char *msg)
{
	pthread_mutex_lock(&x->prog.lock);
	x->prog.st.error = err;
	x->prog.st.state = !err		       ? RAWCAP_S3_DONE
			   : err == -ECANCELED ? RAWCAP_S3_CANCELLED
					       : RAWCAP_S3_FAILED;
	snprintf(x->prog.st.message, sizeof(x->prog.st.message), "%s", msg);
	x->finished = true;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->prog.lock);
	s3_progress_tick(&x->prog, true);
}

static void *xfer_main(void *arg)
{
	struct rawcap_s3_xfer *x = arg;
	char err[768] = "", msg[sizeof(x->prog.st.message)];
	struct s3_op op;
	int rc = s3_op_init(&op, &x->o, &x->prog, err, sizeof(err));

	if (!rc)
		rc = x->upload ? s3_upload_run(&op, x->dir, x->name)
			       : s3_download_run(&op, x->name, x->dir, x->o.quota);
	if (rc && !err[0])
		snprintf(err, sizeof(err), "%s", op.msg[0] ? op.msg : strerror(-rc));
	if (!rc && x->prog.st.retries) /* this thread is the only writer: no lock to read */
		snprintf(op.msg + strlen(op.msg), sizeof(op.msg) - strlen(op.msg),
			 "; %u requests retried", x->prog.st.retries);
	if (op.t.display[0])
		snprintf(msg, sizeof(msg), "%s %s %s %.300s: %.600s",
			 x->upload ? "upload" : "download", x->name, x->upload ? "to" : "from",
			 op.t.display, rc ? err : op.msg);
	else
		snprintf(msg, sizeof(msg), "%s", err);
	s3_creds_redact(&op.creds, msg);
	s3_op_fini(&op);
	finish(x, rc, msg);
	return NULL;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void xfer_free_opts(struct rawcap_s3_xfer *x)
{
	free((char *)x->o.url);
	free((char *)x->o.endpoint);
	free((char *)x->o.region);
	free((char *)x->o.profile);
	free((char *)x->o.ca_file);
	wipe_free((char *)x->o.access_key);
	wipe_free((char *)x->o.secret_key);
	wipe_free((char *)x->o.session_token);
	free(x->dir);
	free(x->name);
}

static int dup_opt(const char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

static int copy_opts(struct rawcap_s3_xfer *x, const struct rawcap_s3_opts *o, const char *dir,
		     const char *name)
{
	int err = 0;

	x->o = *o;
	x->o.sz = sizeof(x->o);
	x->o.url = x->o.endpoint = x->o.region = x->o.profile = x->o.ca_file = NULL;
	x->o.access_key = x->o.secret_key = x->o.session_token = NULL;
	err |= dup_opt(&x->o.url, o->url);
	err |= dup_opt(&x->o.endpoint, o->endpoint);
	err |= dup_opt(&x->o.region, o->region);
	err |= dup_opt(&x->o.profile, o->profile);
	err |= dup_opt(&x->o.ca_file, o->ca_file);
	err |= dup_opt(&x->o.access_key, o->access_key);
	err |= dup_opt(&x->o.secret_key, o->secret_key);
	err |= dup_opt(&x->o.session_token, o->session_token);
	x->dir = strdup(dir);
	x->name = strdup(name);
	return err || !x->dir || !x->name ? -ENOMEM : 0;
}

/* What can be known without the network; a one-line reason in msg. */
static int check_start(const struct rawcap_s3_opts *o, const char *dir, const char *name,
		       bool upload, char *msg, size_t len)
{
	struct s3_target t;
	char path[4096];
	struct stat st;
	int err;

	if (!rawcap_snapshot_name_ok(name)) {
		snprintf(msg, len, "%s: invalid snapshot name", name);
		return -EINVAL;
	}
	err = s3_target_parse(&t, o->url, o->endpoint, o->region, msg, len);
	if (err)
		return err;
	if ((o->part_size &&
	     (o->part_size < RAWCAP_S3_PART_MIN || o->part_size > RAWCAP_S3_PART_MAX)) ||
	    o->parallel > RAWCAP_S3_PARALLEL_MAX || o->retries > RAWCAP_S3_RETRIES_MAX) {
		snprintf(msg, len,
			 "part size must be 5 MiB to 1 GiB, parallel 1 to %u, retries up to %u",
			 RAWCAP_S3_PARALLEL_MAX, RAWCAP_S3_RETRIES_MAX);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (upload && stat(path, &st)) {
		snprintf(msg, len, "%.400s: %s", path, strerror(errno));
		return -errno;
	}
	if (!upload && !lstat(path, &st)) {
		snprintf(msg, len, "%.400s exists; delete it or download into another --dest",
			 path);
		return -EEXIST;
	}
	return 0;
}

static int xfer_start(const struct rawcap_s3_opts *o, const char *dir, const char *name,
		      bool upload, struct rawcap_s3_xfer **out)
{
	struct rawcap_s3_xfer *x;
	pthread_condattr_t ca;
	char msg[512] = "";
	int err;

	*out = NULL;
	if (!o || o->sz < sizeof(*o) || !dir || !name)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	pthread_mutex_init(&x->prog.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cond, &ca);
	pthread_condattr_destroy(&ca);
	x->upload = upload;
	x->prog.cb = o->progress;
	x->prog.cb_arg = o->progress_arg;
	err = copy_opts(x, o, dir, name);
	if (err) {
		rawcap_s3_free(x);
		return err;
	}
	*out = x;
	err = check_start(o, dir, name, upload, msg, sizeof(msg));
	if (!err)
		err = -pthread_create(&x->thread, NULL, xfer_main, x);
	if (!err) {
		x->started = true;
		return 0;
	}
	finish(x, err, msg[0] ? msg : strerror(-err));
	return 0;
}

int rawcap_s3_upload_start(const struct rawcap_s3_opts *o, const char *dir, const char *name,
			   struct rawcap_s3_xfer **out)
{
	return xfer_start(o, dir, name, true, out);
}

int rawcap_s3_download_start(const struct rawcap_s3_opts *o, const char *name, const char *dir,
			     struct rawcap_s3_xfer **out)
{
	return xfer_start(o, dir, name, false, out);
}

void rawcap_s3_status(struct rawcap_s3_xfer *x, struct rawcap_s3_status *st)
{
	pthread_mutex_lock(&x->prog.lock);
	*st = x->prog.st;
	pthread_mutex_unlock(&x->prog.lock);
}

void rawcap_s3_cancel(struct rawcap_s3_xfer *x)
{
	atomic_store(&x->prog.cancel, 1);
}

int rawcap_s3_wait(struct rawcap_s3_xfer *x, int timeout_ms)
{
	struct timespec ts;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (timeout_ms > 0) {
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
	}
	pthread_mutex_lock(&x->prog.lock);
	while (!x->finished && !err) {
		if (timeout_ms < 0)
			pthread_cond_wait(&x->cond, &x->prog.lock);
		else if (!timeout_ms ||
			 pthread_cond_timedwait(&x->cond, &x->prog.lock, &ts) == ETIMEDOUT)
			err = -ETIMEDOUT;
	}
	if (x->finished)
		err = x->prog.st.error;
	pthread_mutex_unlock(&x->prog.lock);
	return err;
}

void rawcap_s3_free(struct rawcap_s3_xfer *x)
{
	if (!x)
		return;
	if (x->started) {
		rawcap_s3_cancel(x);
		pthread_join(x->thread, NULL);
	}
	xfer_free_opts(x);
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->prog.lock);
	free(x);
}

static int run_blocking(const struct rawcap_s3_opts *o, const char *dir, const char *name,
			bool upload, struct rawcap_s3_status *st)
{
	struct rawcap_s3_xfer *x;
	int err = xfer_start(o, dir, name, upload, &x);

	if (err)
		return err;
	err = rawcap_s3_wait(x, -1);
	if (st)
		rawcap_s3_status(x, st);
	rawcap_s3_free(x);
	return err;
}

int rawcap_s3_upload(const struct rawcap_s3_opts *o, const char *dir, const char *name,
		     struct rawcap_s3_status *st)
{
	return run_blocking(o, dir, name, true, st);
}

int rawcap_s3_download(const struct rawcap_s3_opts *o, const char *name, const char *dir,
		       struct rawcap_s3_status *st)
{
	return run_blocking(o, dir, name, false, st);
}
