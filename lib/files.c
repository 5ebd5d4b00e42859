// SPDX-License-Identifier: MIT
/*
 * files.c - the files a reader creates by name (its output), and the
 * wording of the errors rawcap's checks of named objects give
 * (storage/safe_open.h): captured packets never go into a link, a FIFO
 * planted at the output path, or a file other users can read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "safe_open.h"

int rawcap_output_open(const char *path, char *why, size_t whylen)
{
	struct safe_want want = {.type = S_IFREG, .owner = {SAFE_ANY_OWNER}};
	struct stat st;
	int fd;

	if (!strcmp(path, "-"))
		return STDOUT_FILENO;
	fd = safe_openat(AT_FDCWD, path, O_WRONLY | O_CREAT, 0640, &want, &st, why, whylen);
	if (fd == -EBADFD && why && strlen(why) + 1 < whylen)
		snprintf(why + strlen(why), whylen - strlen(why),
			 " (to feed a pipe, write to standard output: -o -)");
	if (fd < 0)
		return fd;
	if ((st.st_mode & S_IRWXO) && fchmod(fd, st.st_mode & 07770)) {
		if (why && whylen)
			snprintf(why, whylen,
				 "readable by other users (mode %04o) and not ours to change: "
				 "chmod o-rwx it or write elsewhere",
				 (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	/* Truncated only now: never a file that turned out not to be a plain one of ours. */
	if (ftruncate(fd, 0)) {
		int err = -errno;

		if (why && whylen)
			snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

const char *rawcap_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case ELOOP:
		return "a symbolic link (rawcap does not follow links)";
	case EBADFD:
		return "not a regular file (a FIFO, socket or device)";
	case EMEDIUMTYPE:
		return "not a snapshot (no manifest.json in a directory)";
	case ESTALE: /* lib/history.c: a sealed history's segment vanished mid-read */
		return "a file it was reading was removed (deleted while being read); "
		       "what was read is incomplete";
	}
	return strerror(err < 0 ? -err : err);
}
