// SPDX-License-Identifier: MIT
/*
 * dissection.c - the dissection switch shared by rawcap-server (which
 * writes it) and rawcap-forward (which follows it): one small text file,
 * DIR/dissection, on a volume the two share.
 *
 *   enabled=true|false
 *   resume=live|backlog
 *
 * Written whole under a temporary name and renamed over the old one, so a
 * reader sees the old state or the new one, never half of either. The
 * reader trusts nothing about the file: a link, a non-regular file, more
 * than RAWCAP_DISSECTION_MAX bytes, or any other line is -EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rawcap/forward.h>

#include "safe_open.h"

#define RAWCAP_DISSECTION_MAX 128

static int dissection_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int dissection_parse(char *text, struct rawcap_dissection *st)
{
	bool have_enabled = false, have_resume = false;
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "enabled=true") || !strcmp(line, "enabled=false")) {
			st->enabled = line[8] == 't';
			have_enabled = true;
		} else if (!strcmp(line, "resume=live") || !strcmp(line, "resume=backlog")) {
			st->resume =
				line[7] == 'l' ? RAWCAP_FWD_RESUME_LIVE : RAWCAP_FWD_RESUME_BACKLOG;
			have_resume = true;
		} else {
			return -EINVAL;
		}
	}
	if (!have_enabled)
		return -EINVAL;
	if (!have_resume)
		st->resume = RAWCAP_FWD_RESUME_LIVE;
	return 0;
}

int rawcap_dissection_load(const char *dir, struct rawcap_dissection *st)
{
	struct safe_want want = safe_want_file(geteuid(), RAWCAP_DISSECTION_MAX);
	char path[PATH_MAX], text[RAWCAP_DISSECTION_MAX + 1];
	ssize_t n;
	int err;

	if ((err = dissection_path(dir, RAWCAP_DISSECTION_FILE, path, sizeof(path))))
		return err;
	n = safe_read_text(AT_FDCWD, path, &want, text, sizeof(text), NULL, 0);
	/* A link, a FIFO, a directory or an oversized file: not a switch. */
	if (n == -ELOOP || n == -EBADFD || n == -EISDIR || n == -EFBIG)
		return -EINVAL;
	return n < 0 ? (int)n : dissection_parse(text, st);
}

int rawcap_dissection_store(const char *dir, const struct rawcap_dissection *st)
{
	char text[64];
	int len = snprintf(text, sizeof(text), "enabled=%s\nresume=%s\n",
			   st->enabled ? "true" : "false",
			   st->resume == RAWCAP_FWD_RESUME_BACKLOG ? "backlog" : "live");

	/* The state must survive a node's crash: fsync'd before it replaces the old one. */
	return safe_replace_text(dir, RAWCAP_DISSECTION_FILE, text, (size_t)len, true);
}
