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
#include <sys/sysmacros.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "safe_open.h"

/* The null device (1:3) under whatever name: the one device an output may be. */
static bool is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

/* -o /dev/null as tcpdump -w /dev/null: opened as it is, checked again once open. */
static int open_dev_null(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !is_dev_null(&st)) {
		close(fd);
		return -EBADFD;
	}
	return fd;
}

int rawcap_output_open(const char *path, char *why, size_t whylen)
{
	return rawcap_output_create(path, NULL, why, whylen);
}

int rawcap_output_create(const char *path, bool *created, char *why, size_t whylen)
{
	struct safe_want want = {.type = S_IFREG, .owner = {SAFE_ANY_OWNER}};
	struct stat st;
	int fd;

	if (created)
		*created = false;
	if (!strcmp(path, "-"))
		return STDOUT_FILENO;
	if (!lstat(path, &st) && is_dev_null(&st))
		return open_dev_null(path);
	fd = safe_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL, 0640, &want, &st, why,
			 whylen);
	if (fd >= 0 && created)
		*created = true;
	if (fd == -EEXIST)
		fd = safe_openat(AT_FDCWD, path, O_WRONLY | O_CREAT, 0640, &want, &st, why, whylen);
	if (fd == -EBADFD && why && strlen(why) + 1 < whylen)
		snprintf(why + strlen(why), whylen - strlen(why),
			 " (to feed a pipe, write to standard output: -o -; of devices only "
			 "/dev/null is taken)");
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

void rawcap_output_failed(FILE *err, const char *prog, const char *path, int fd, bool created,
			  uint64_t packets)
{
	struct stat a, b;

	if (packets)
		fprintf(err, "%s: %s kept: a partial export (%llu packets)\n", prog, path,
			(unsigned long long)packets);
	else if (!created && fstat(fd, &a) == 0 && S_ISREG(a.st_mode))
		fprintf(err, "%s: %s was there before: it holds no packet now\n", prog, path);
	else if (created && !fstat(fd, &a) && !lstat(path, &b) && a.st_dev == b.st_dev &&
		 a.st_ino == b.st_ino)
		unlink(path); /* still ours at that name: taken back */
}

const char *rawcap_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case ELOOP:
		return "a symbolic link (rawcap does not follow links)";
	case EBADFD:
		return "not a regular file (a FIFO, socket or device; of devices only "
		       "/dev/null is taken)";
	case EMEDIUMTYPE:
		return "not a snapshot (no manifest.json in a directory)";
	case ESTALE: /* lib/history.c: a sealed history's segment vanished mid-read */
		return "a file it was reading was removed (deleted while being read); "
		       "what was read is incomplete";
	}
	return strerror(err < 0 ? -err : err);
}
