// SPDX-License-Identifier: MIT
/*
 * forward_status.c - what rawcap-forward is doing, told to whoever reads
 * its control directory (rawcap-server's GET /v1/dissection): the file
 * RAWCAP_FORWARD_STATUS_FILE (format in rawcap/forward.h).
 *
 * Writer: fwd_status_poll() runs once per turn of the event loop and
 * rewrites the file when the state or the number of receivers changed, or
 * a second has passed; a temporary file renamed over the old one, so a
 * reader never sees half of it. Not fsynced: it describes the running
 * process and is rewritten every second; a crash leaves an old one whose
 * updated_ns says how old it is.
 *
 * Reader: rawcap_forward_status_load() opens it as every file found by name
 * (storage/safe_open.h) and accepts exactly the format, nothing more.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "forward_int.h"
#include "safe_open.h"

#define FWD_STATUS_PERIOD_MS 1000

int fwd_status_format(const struct rawcap_forward_status *st, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "pid=%" PRId64 "\nstate=%s\nresume=%s\nsince_ns=%" PRIu64
			 "\nupdated_ns=%" PRIu64 "\nreceivers=%" PRIu32 "\npackets=%" PRIu64
			 "\nbytes=%" PRIu64 "\n",
			 st->pid, st->paused ? "paused" : "forwarding",
			 st->resume == RAWCAP_FWD_RESUME_BACKLOG ? "backlog" : "live", st->since_ns,
			 st->updated_ns, st->receivers, st->packets, st->bytes);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static int fwd_status_write(const char *dir, const struct rawcap_forward_status *st)
{
	char text[RAWCAP_FORWARD_STATUS_MAX];
	int len = fwd_status_format(st, text, sizeof(text));

	/* Rewritten every second: no fsync, a crash loses nothing the next write does not say. */
	return len < 0 ? len
		       : safe_replace_text(dir, RAWCAP_FORWARD_STATUS_FILE, text, (size_t)len, false);
}

void fwd_status_poll(struct rawcap_forward *f)
{
	struct fwd_status *s = &f->status;
	struct rawcap_forward_status st;
	uint64_t now;
	int err;

	if (!f->o.control_dir)
		return;
	now = clock_mono_ms();
	if (!s->since_ns || s->paused != f->paused) {
		s->paused = f->paused;
		s->since_ns = clock_real_ns();
		s->next_ms = 0;
	}
	if (s->receivers != f->nclients) {
		s->receivers = f->nclients;
		s->next_ms = 0;
	}
	if (now < s->next_ms)
		return;
	s->next_ms = now + FWD_STATUS_PERIOD_MS;
	st = (struct rawcap_forward_status){.pid = getpid(),
					    .paused = f->paused,
					    .resume = f->o.resume,
					    .since_ns = s->since_ns,
					    .updated_ns = clock_real_ns(),
					    .receivers = f->nclients,
					    .packets = f->st.packets,
					    .bytes = f->st.bytes};
	err = fwd_status_write(f->o.control_dir, &st);
	if (err && !s->warned)
		fprintf(stderr, "rawcap-forward: writing %s/%s: %s (status not published)\n",
			f->o.control_dir, RAWCAP_FORWARD_STATUS_FILE, strerror(-err));
	s->warned = err != 0;
}

/* "N" with nothing else, at most max; -EINVAL otherwise. */
static int fwd_status_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > max ? -EINVAL : 0;
}

enum { ST_PID, ST_STATE, ST_RESUME, ST_SINCE, ST_UPDATED, ST_RECEIVERS, ST_PACKETS, ST_BYTES };

static int fwd_status_line(const char *key, const char *val, struct rawcap_forward_status *st)
{
	static const char *const keys[] = {"pid",	 "state",     "resume",	 "since_ns",
					   "updated_ns", "receivers", "packets", "bytes"};
	uint64_t v = 0;
	unsigned k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[k]); k++)
		;
	switch (k) {
	case ST_STATE:
		if (strcmp(val, "paused") && strcmp(val, "forwarding"))
			return -EINVAL;
		st->paused = !strcmp(val, "paused");
		return k;
	case ST_RESUME:
		if (strcmp(val, "live") && strcmp(val, "backlog"))
			return -EINVAL;
		st->resume =
			!strcmp(val, "live") ? RAWCAP_FWD_RESUME_LIVE : RAWCAP_FWD_RESUME_BACKLOG;
		return k;
	case ST_PID:
		if (fwd_status_num(val, INT32_MAX, &v) || !v)
			return -EINVAL;
		st->pid = (int64_t)v;
		return k;
	case ST_RECEIVERS:
		if (fwd_status_num(val, UINT32_MAX, &v))
			return -EINVAL;
		st->receivers = (uint32_t)v;
		return k;
	case ST_SINCE:
	case ST_UPDATED:
	case ST_PACKETS:
	case ST_BYTES:
		if (fwd_status_num(val, UINT64_MAX, &v))
			return -EINVAL;
		*(k == ST_SINCE	    ? &st->since_ns
		  : k == ST_UPDATED ? &st->updated_ns
		  : k == ST_PACKETS ? &st->packets
				    : &st->bytes) = v;
		return k;
	default:
		return -EINVAL;
	}
}

int fwd_status_parse(char *text, struct rawcap_forward_status *st)
{
	unsigned seen = 0;
	char *save = NULL;

	*st = (struct rawcap_forward_status){0};
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		int k;

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		k = fwd_status_line(line, eq + 1, st);
		if (k < 0 || (seen & (1u << k)))
			return -EINVAL;
		seen |= 1u << k;
	}
	return seen == (1u << (ST_BYTES + 1)) - 1 ? 0 : -EINVAL;
}

int rawcap_forward_status_load(const char *dir, struct rawcap_forward_status *st)
{
	struct safe_want want = safe_want_file(geteuid(), RAWCAP_FORWARD_STATUS_MAX);
	char path[PATH_MAX], text[RAWCAP_FORWARD_STATUS_MAX + 1];
	ssize_t n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, RAWCAP_FORWARD_STATUS_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	n = safe_read_text(AT_FDCWD, path, &want, text, sizeof(text), NULL, 0);
	return n < 0 ? (int)n : fwd_status_parse(text, st);
}
