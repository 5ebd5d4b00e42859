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
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <sys/random.h>

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

/* Exports going into a temporary file beside their output (see above). */
struct out_pending {
	int fd, dirfd;		     /* the temporary file; the directory of both */
	char *path;		     /* the output as named, for messages */
	char leaf[NAME_MAX + 1];     /* the output's name in dirfd */
	char tmp[NAME_MAX + 1 + 16]; /* the temporary file's */
};
#define OUT_PENDING_MAX 16
static struct out_pending out_pending[OUT_PENDING_MAX];
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Remember e (fd, dirfd, names); false if there is no room (written in place then). */
static bool out_remember(const struct out_pending *e, const char *path)
{
	bool ok = false;

	pthread_mutex_lock(&out_lock);
	for (size_t i = 0; i < OUT_PENDING_MAX && !ok; i++) {
		struct out_pending *p = &out_pending[i];

		if (p->path)
			continue;
		*p = *e;
		p->path = strdup(path);
		ok = p->path != NULL;
	}
	pthread_mutex_unlock(&out_lock);
	return ok;
}

/* Take fd's entry out of the table into *e; false if fd writes its output directly. */
static bool out_forget(int fd, struct out_pending *e)
{
	bool found = false;

	pthread_mutex_lock(&out_lock);
	for (size_t i = 0; i < OUT_PENDING_MAX && !found; i++)
		if (out_pending[i].path && out_pending[i].fd == fd) {
			*e = out_pending[i];
			out_pending[i] = (struct out_pending){0};
			found = true;
		}
	pthread_mutex_unlock(&out_lock);
	return found;
}

static void out_drop(struct out_pending *e, bool unlink_tmp)
{
	if (unlink_tmp)
		unlinkat(e->dirfd, e->tmp, 0);
	close(e->dirfd);
	free(e->path);
}

/* A new file dirfd/.LEAF-XXXXXX (O_EXCL: never a planted name), its name in e->tmp. */
static int out_tmp_open(int dirfd, struct out_pending *e)
{
	for (int i = 0; i < 100; i++) {
		uint32_t r;
		int fd;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)getpid() * 2654435761u + (uint32_t)i;
		snprintf(e->tmp, sizeof(e->tmp), ".%.*s-%06x", NAME_MAX - 8, e->leaf, r & 0xffffff);
		fd = openat(dirfd, e->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Whether fd is the root of a mount (a file bind-mounted over the name). */
static bool is_mount_root(int fd)
{
	struct statx sx;

	return !statx(fd, "", AT_EMPTY_PATH, 0, &sx) &&
	       (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/*
 * The existing file dirfd/leaf (open as fd, *st) is written beside: a new
 * temporary file's fd, fd closed; or -1 where it is to be emptied in place.
 */
static int out_beside(const char *path, int dirfd, const char *leaf, int fd, const struct stat *st)
{
	struct out_pending e = {.fd = -1};

	if (st->st_uid != geteuid() || st->st_nlink != 1 || is_mount_root(fd))
		return -1; /* a rename would change its owner, part it from its other names,
			      or fail (EBUSY: a file bind-mounted, as a container's volume) */
	snprintf(e.leaf, sizeof(e.leaf), "%s", leaf);
	e.dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (e.dirfd < 0)
		return -1;
	e.fd = out_tmp_open(e.dirfd, &e);
	/* The old file's group too: its group bits on the user's default group
	   could let a wider group read the packets. Not ours to give: in place. */
	if (e.fd < 0 || fchown(e.fd, (uid_t)-1, st->st_gid) || fchmod(e.fd, st->st_mode & 0770) ||
	    !out_remember(&e, path)) {
		if (e.fd >= 0) {
			unlinkat(e.dirfd, e.tmp, 0);
			close(e.fd);
		}
		close(e.dirfd);
		return -1;
	}
	close(fd);
	return e.fd;
}

int rawcap_output_commit(int fd)
{
	struct out_pending e;
	int err = 0;

	if (!out_forget(fd, &e))
		return 0;
	if (renameat(e.dirfd, e.tmp, e.dirfd, e.leaf))
		err = -errno;
	out_drop(&e, false); /* a rename that failed leaves the whole export beside it */
	return err;
}

/*
 * The output just opened (fd, or -errno): "other" access taken away, then
 * kept as made (in_place), written beside, or emptied. fd or -errno.
 */
static int output_settle(const char *path, int dirfd, const char *leaf, int fd, bool in_place,
			 struct stat *st, char *why, size_t whylen)
{
	if (fd == -EBADFD && why && strlen(why) + 1 < whylen)
		snprintf(why + strlen(why), whylen - strlen(why),
			 " (to feed a pipe, write to standard output: -o -; of devices only "
			 "/dev/null is taken)");
	if (fd < 0)
		return fd;
	if ((st->st_mode & S_IRWXO) && fchmod(fd, st->st_mode & 07770)) {
		if (why && whylen)
			snprintf(why, whylen,
				 "readable by other users (mode %04o) and not ours to change: "
				 "chmod o-rwx it or write elsewhere",
				 (unsigned)(st->st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	if (!in_place) { /* rawcap_output_open()'s callers commit nothing: in place */
		int tfd = out_beside(path, dirfd, leaf, fd, st);

		if (tfd >= 0)
			return tfd;
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

/* rawcap_output_create(); live: an existing file is emptied in place, not written beside. */
static int output_create(const char *path, bool *created, bool live, char *why, size_t whylen)
{
	struct safe_want want = {.type = S_IFREG, .owner = {SAFE_ANY_OWNER}};
	char leaf[NAME_MAX + 1];
	bool made = false;
	int fd, dirfd;
	struct stat st;

	if (created)
		*created = false;
	if (!strcmp(path, "-"))
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
	fd = output_settle(path, dirfd, leaf, fd, made || !created || live, &st, why, whylen);
	close(dirfd);
	return fd;
}

int rawcap_output_create(const char *path, bool *created, char *why, size_t whylen)
{
	return output_create(path, created, false, why, whylen);
}

int rawcap_output_create_live(const char *path, bool *created, char *why, size_t whylen)
{
	return output_create(path, created, true, why, whylen);
}

void rawcap_output_failed(FILE *err, const char *prog, const char *path, int fd, bool created,
			  uint64_t packets)
{
	struct out_pending e;
	struct stat a, b;

	if (out_forget(fd, &e)) { /* the old file is untouched: replaced only by packets */
		bool gone = !packets || !renameat(e.dirfd, e.tmp, e.dirfd, e.leaf);

		if (!packets)
			fprintf(err, "%s: %s left as it was: no packet was exported\n", prog, path);
		else if (gone)
			fprintf(err, "%s: %s replaced by a partial export (%llu packets)\n", prog,
				path, (unsigned long long)packets);
		else
			fprintf(err,
				"%s: %s not replaced (%s): the partial export (%llu packets) "
				"is in %s beside it\n",
				prog, path, strerror(errno), (unsigned long long)packets, e.tmp);
		out_drop(&e, !packets);
		return;
	}
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
