// SPDX-License-Identifier: MIT
/*
 * s3_load.c - librawcap.so's entry points of rawcap/s3.h: each loads the S3
 * module (s3_module.h) on first use and calls through its table.
 *
 * The module is looked up next to the librawcap.so that holds this code
 * and must carry the library's own version (module_load.h). It is loaded
 * once and never unloaded: transfers run on its threads and libcurl keeps
 * global state.
 * When it cannot be loaded the calls fail with -ELIBACC and say why in the
 * status or errbuf they fill.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "module_load.h"
#include "s3_module.h"

static const struct rawcap_s3_module *s3_mod;
/* Sized to fit rawcap_s3_status.message whole. */
static char s3_load_error[sizeof(((struct rawcap_s3_status *)0)->message)];
static pthread_once_t s3_once = PTHREAD_ONCE_INIT;
/*
 * What *_start() hands out when the module cannot be loaded: a transfer that
 * is already over, FAILED with the reason in its status, as the API promises
 * for any transfer that cannot start (and nothing is printed).
 */
static char s3_unloaded_xfer;
#define S3_UNLOADED ((struct rawcap_s3_xfer *)&s3_unloaded_xfer)

static void s3_load_once(void)
{
	char why[sizeof(s3_load_error) - 32];
	const struct rawcap_s3_module *m;

	m = rawcap_module_load(RAWCAP_S3_MODULE_PATH, RAWCAP_S3_MODULE_SYM, sizeof(*m), "S3 module",
			       why, sizeof(why));
	if (!m) {
		snprintf(s3_load_error, sizeof(s3_load_error), "cannot load the S3 client: %s",
			 why);
		return;
	}
	__atomic_store_n(&s3_mod, m, __ATOMIC_RELEASE);
}

/* The module, or NULL with the reason in s3_load_error. */
static const struct rawcap_s3_module *s3_module(void)
{
	pthread_once(&s3_once, s3_load_once);
	return __atomic_load_n(&s3_mod, __ATOMIC_ACQUIRE);
}

/* A transfer exists only if the module made it: no load on these paths (cancel is signal-safe). */
static const struct rawcap_s3_module *s3_loaded(void)
{
	return __atomic_load_n(&s3_mod, __ATOMIC_ACQUIRE);
}

static int s3_fail_status(struct rawcap_s3_status *st)
{
	if (st) {
		memset(st, 0, sizeof(*st));
		st->state = RAWCAP_S3_FAILED;
		st->error = -ELIBACC;
		memcpy(st->message, s3_load_error, sizeof(st->message));
	}
	return -ELIBACC;
}

static int s3_fail_errbuf(char *errbuf, size_t errlen)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", s3_load_error);
	return -ELIBACC;
}

/* A *_start() without the module: -EINVAL as the client would, else the failed transfer. */
static int s3_fail_start(bool args_ok, struct rawcap_s3_xfer **out)
{
	if (!args_ok || !out)
		return -EINVAL;
	*out = S3_UNLOADED;
	return 0;
}

int rawcap_s3_upload_start(const struct rawcap_s3_opts *o, const char *dir, const char *name,
			   struct rawcap_s3_xfer **out)
{
	const struct rawcap_s3_module *m = s3_module();

	return m ? m->upload_start(o, dir, name, out) : s3_fail_start(o && dir && name, out);
}

int rawcap_s3_download_start(const struct rawcap_s3_opts *o, const char *name, const char *dir,
			     struct rawcap_s3_xfer **out)
{
	const struct rawcap_s3_module *m = s3_module();

	return m ? m->download_start(o, name, dir, out) : s3_fail_start(o && dir && name, out);
}

void rawcap_s3_status(struct rawcap_s3_xfer *x, struct rawcap_s3_status *st)
{
	const struct rawcap_s3_module *m = s3_loaded();

	if (x == S3_UNLOADED)
		s3_fail_status(st);
	else if (m)
		m->status(x, st);
}

void rawcap_s3_cancel(struct rawcap_s3_xfer *x)
{
	const struct rawcap_s3_module *m = s3_loaded();

	if (m && x != S3_UNLOADED)
		m->cancel(x);
}

int rawcap_s3_wait(struct rawcap_s3_xfer *x, int timeout_ms)
{
	const struct rawcap_s3_module *m = s3_loaded();

	if (x == S3_UNLOADED)
		return -ELIBACC;
	return m ? m->wait(x, timeout_ms) : -EINVAL;
}

void rawcap_s3_free(struct rawcap_s3_xfer *x)
{
	const struct rawcap_s3_module *m = s3_loaded();

	if (m && x != S3_UNLOADED)
		m->free(x);
}

int rawcap_s3_upload(const struct rawcap_s3_opts *o, const char *dir, const char *name,
		     struct rawcap_s3_status *st)
{
	const struct rawcap_s3_module *m = s3_module();

	return m ? m->upload(o, dir, name, st) : s3_fail_status(st);
}

int rawcap_s3_download(const struct rawcap_s3_opts *o, const char *name, const char *dir,
		       struct rawcap_s3_status *st)
{
	const struct rawcap_s3_module *m = s3_module();

	return m ? m->download(o, name, dir, st) : s3_fail_status(st);
}

int rawcap_s3_list(const struct rawcap_s3_opts *o, bool with_info, struct rawcap_s3_entry **out,
		   size_t *n, char *errbuf, size_t errlen)
{
	const struct rawcap_s3_module *m = s3_module();

	return m ? m->list(o, with_info, out, n, errbuf, errlen) : s3_fail_errbuf(errbuf, errlen);
}

void rawcap_s3_list_free(struct rawcap_s3_entry *entries)
{
	const struct rawcap_s3_module *m = s3_loaded();

	if (m)
		m->list_free(entries);
}

int rawcap_s3_delete(const struct rawcap_s3_opts *o, const char *name, char *errbuf, size_t errlen)
{
	const struct rawcap_s3_module *m = s3_module();

	return m ? m->remove(o, name, errbuf, errlen) : s3_fail_errbuf(errbuf, errlen);
}
