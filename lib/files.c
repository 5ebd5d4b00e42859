// SPDX-License-Identifier: MIT
/*
 * files.c - the files a reader creates by name (its output), and the
 * wording of the errors rawcap's checks of named objects give
 * (storage/safe_open.h): captured packets never go into a link, a FIFO
 * planted at the output path, or a file other users can read.
 *
 * An output file that is already there is not emptied when the export
 * starts: the export goes into a temporary file beside it (.NAME-XXXXXX,
 * the old file's mode less "other"), renamed over it when the export ends
 * with packets (rawcap_output_commit, or rawcap_output_failed for a partial
 * one) and removed when it ends with none, so a run that fails (a ring that
 * is not there, a node that cannot be reached, a bad selection) leaves the
 * user's previous file as it was, as rsync and `sort -o` do. tcpdump -w and
 * curl -o empty it at once; an export's source is known good only once its
 * packets arrive, and the rename also means nobody reads a half-written
 * export under the old name. Where a rename would change what the name is
 * (a file of another user's we may write, one with other hard links) or no
 * file can be made beside it, the file is emptied in place as before.
 * The temporary file's life (its lock, ACL, the replace, the reap of those
 * killed exports left): lib/output_tmp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "output_tmp.h"
#include "safe_open.h"

/* The null device (1:3) under whatever name: the one device an output may be. */
static bool is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

/* "-", or a name of standard output (links rawcap would not follow): written as it is. */
bool rawcap_output_is_stdout(const char *path)
{
	return !strcmp(path, "-") || !strcmp(path, "/dev/stdout") || !strcmp(path, "/dev/fd/1") ||
	       !strcmp(path, "/proc/self/fd/1");
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

/*
 * The output just opened (fd, or -errno): written beside, or "other"
 * access taken away and kept as made (in_place) or emptied. fd or -errno.
 */
static int output_settle(const char *path, int dirfd, const char *leaf, int fd, bool in_place,
			 bool beside_only, struct stat *st, char *why, size_t whylen)
{
	if (fd == -EBADFD && why && strlen(why) + 1 < whylen)
		snprintf(why + strlen(why), whylen - strlen(why),
			 " (to feed a pipe, write to standard output: -o -; of devices only "
			 "/dev/null is taken)");
	if (fd < 0)
		return fd;
	if (!in_place) { /* rawcap_output_open()'s callers commit nothing: in place */
		int tfd = out_beside(path, dirfd, leaf, fd, st);

		if (tfd >= 0) /* made without "other": the old file is left as it was */
			return tfd;
		if (beside_only) {
			if (why && whylen)
				snprintf(why, whylen,
					 "it would be emptied in place (other links, another "
					 "user's file, a directory we cannot add to)");
			close(fd);
			return -EBUSY;
		}
	}
	if ((st->st_mode & S_IRWXO) && fchmod(fd, st->st_mode & 07770)) {
		if (why && whylen)
			snprintf(why, whylen,
				 "readable by other users (mode %04o) and not ours to change: "
				 "chmod o-rwx it or write elsewhere",
				 (unsigned)(st->st_mode & 07777));
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

int rawcap_output_open(const char *path, char *why, size_t whylen)
{
	return rawcap_output_create(path, NULL, why, whylen);
}

enum out_mode {
	OUT_REPLACE,	 /* an existing file written beside, else in place */
	OUT_LIVE,	 /* an existing file emptied in place, read as it grows */
	OUT_BESIDE_ONLY, /* an existing file written beside, else refused */
};

/* rawcap_output_create() and its variants, by mode. */
static int output_create(const char *path, bool *created, enum out_mode mode, char *why,
			 size_t whylen)
{
	struct safe_want want = {.type = S_IFREG, .owner = {SAFE_ANY_OWNER}};
	char leaf[NAME_MAX + 1];
	bool made = false;
	int fd, dirfd;
	struct stat st;

	if (created)
		*created = false;
	if (rawcap_output_is_stdout(path))
		return STDOUT_FILENO;
	if (!lstat(path, &st) && is_dev_null(&st))
		return open_dev_null(path);
	if (*path && path[strlen(path) - 1] == '/') { /* open(2) would say EISDIR, not make "x" */
		if (why && whylen)
			snprintf(why, whylen, "names a directory (ends with /): give a file name");
		return -EISDIR;
	}
	dirfd = safe_path_parent(path, leaf, sizeof(leaf), why, whylen);
	if (dirfd < 0)
		return dirfd;
	fd = safe_openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL, 0640, &want, &st, why, whylen);
	made = fd >= 0;
	if (created)
		*created = made;
	if (fd == -EEXIST)
		fd = safe_openat(dirfd, leaf, O_WRONLY | O_CREAT, 0640, &want, &st, why, whylen);
	fd = output_settle(path, dirfd, leaf, fd, made || !created || mode == OUT_LIVE,
			   mode == OUT_BESIDE_ONLY, &st, why, whylen);
	if (fd >= 0) /* what exports to this name killed outright left */
		out_reap(dirfd, leaf);
	close(dirfd);
	return fd;
}

int rawcap_output_create(const char *path, bool *created, char *why, size_t whylen)
{
	return output_create(path, created, OUT_REPLACE, why, whylen);
}

int rawcap_output_create_live(const char *path, bool *created, char *why, size_t whylen)
{
	return output_create(path, created, OUT_LIVE, why, whylen);
}

int rawcap_output_create_beside(const char *path, bool *created, char *why, size_t whylen)
{
	return output_create(path, created, OUT_BESIDE_ONLY, why, whylen);
}

void rawcap_output_failed(FILE *err, const char *prog, const char *path, int fd, bool created,
			  uint64_t packets)
{
	struct stat a, b;

	if (out_tmp_failed(err, prog, path, fd, packets) || fstat(fd, &a) || !S_ISREG(a.st_mode))
		return; /* /dev/null: nothing to keep or take back */
	if (packets)
		fprintf(err, "%s: %s kept: a partial export (%llu packets)\n", prog, path,
			(unsigned long long)packets);
	else if (!created)
		fprintf(err, "%s: %s was there before: it holds no packet now\n", prog, path);
	else if (!lstat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
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
