// SPDX-License-Identifier: MIT
/*
 * safe_open.c - open objects found on disk by name, and check what was
 * opened (safe_open.h). The decision is always taken on the open file's own
 * fstat; a failed open is only described (fstatat) for the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safe_open.h"

#define SAFE_MAX_LINKS 40 /* as the kernel's MAXSYMLINKS */

const char *safe_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFLNK:
		return "a symbolic link";
	}
	return "an unknown kind of file";
}

static void safe_why(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void safe_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* -errno for an object of type `mode` where want->type is expected, 0 if it fits. */
static int safe_type_err(mode_t mode, const struct safe_want *want, char *why, size_t len)
{
	const char *wanted = want->type == S_IFDIR ? "a directory" : "a regular file";

	if ((mode & S_IFMT) == want->type)
		return 0;
	if (S_ISLNK(mode))
		safe_why(why, len, "a symbolic link (rawcap does not follow links)");
	else
		safe_why(why, len, "%s, not %s", safe_type_name(mode), wanted);
	if (S_ISLNK(mode))
		return -ELOOP;
	if (want->type == S_IFDIR)
		return -ENOTDIR;
	return S_ISDIR(mode) ? -EISDIR : -EBADFD;
}

static int safe_check(const struct stat *st, const struct safe_want *want, char *why, size_t len)
{
	int err = safe_type_err(st->st_mode, want, why, len);

	if (err)
		return err;
	if (want->owner[0] != SAFE_ANY_OWNER && st->st_uid != want->owner[0] &&
	    st->st_uid != want->owner[1]) {
		if (want->owner[0] == want->owner[1])
			safe_why(why, len, "owned by uid %u, not %u", (unsigned)st->st_uid,
				 (unsigned)want->owner[0]);
		else
			safe_why(why, len, "owned by uid %u, not %u or %u", (unsigned)st->st_uid,
				 (unsigned)want->owner[0], (unsigned)want->owner[1]);
		return -EPERM;
	}
	if (S_ISREG(st->st_mode) && want->max_size && (uint64_t)st->st_size > want->max_size) {
		safe_why(why, len, "%llu bytes, more than the %llu allowed",
			 (unsigned long long)st->st_size, (unsigned long long)want->max_size);
		return -EFBIG;
	}
	return 0;
}

/* The open itself failed: say what is there, without opening it. */
static int safe_open_failed(int dirfd, const char *name, const struct safe_want *want, int err,
			    char *why, size_t len)
{
	struct stat st;

	if ((err == -ELOOP || err == -ENOTDIR || err == -ENXIO || err == -EISDIR) &&
	    !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		int terr = safe_type_err(st.st_mode, want, why, len);

		if (terr)
			return terr;
	}
	safe_why(why, len, "%s", strerror(-err));
	return err;
}

int safe_openat(int dirfd, const char *name, int flags, mode_t mode, const struct safe_want *want,
		struct stat *st, char *why, size_t whylen)
{
	/* A directory open refuses a FIFO before opening it; read-write never blocks on one. */
	bool nonblock = want->type == S_IFREG && (flags & O_ACCMODE) != O_RDWR;
	struct stat sb;
	int fd, err;

	if (!st)
		st = &sb;
	if (want->type == S_IFDIR)
		flags |= O_DIRECTORY;
	fd = openat(dirfd, name,
		    flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (nonblock ? O_NONBLOCK : 0), mode);
	if (fd < 0)
		return safe_open_failed(dirfd, name, want, -errno, why, whylen);
	err = fstat(fd, st) ? -errno : safe_check(st, want, why, whylen);
	/* F_SETFL takes only the status flags (O_APPEND, O_DIRECT, ...) of flags. */
	if (!err && nonblock && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Root and this user: the only ones whose links and planted directories a path may cross. */
static bool safe_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static int safe_walk(int fd, const char *path, size_t len, unsigned *links, char *why,
		     size_t whylen);

/*
 * Could another user have planted st, an entry of the directory dst? A
 * link or directory not root's, this user's or the directory owner's (the
 * owner could change the directory anyway: systemd's chase(CHASE_SAFE));
 * for a directory, only where users other than the owner may write dst
 * (group or other w, sticky or not: anyone may make a name not there yet),
 * except a team's directory: in a setgid directory only its group (not
 * other) may write, an entry of that group is a colleague's, as the setgid
 * bit makes it (install -d -g netops -m 2775 /srv/team; mkdir incidents).
 * also: one more trusted owner (SAFE_ANY_OWNER: none).
 */
static bool safe_planted(const struct stat *dst, const struct stat *st, uid_t also)
{
	bool team = !(dst->st_mode & S_IWOTH) && (dst->st_mode & S_ISGID) &&
		    st->st_gid == dst->st_gid;

	if (safe_trusted(st->st_uid) || st->st_uid == dst->st_uid ||
	    (also != SAFE_ANY_OWNER && st->st_uid == also))
		return false;
	return S_ISLNK(st->st_mode) ||
	       (S_ISDIR(st->st_mode) && (dst->st_mode & (S_IWGRP | S_IWOTH)) && !team);
}

/* The trusted link nfd (in fd's directory) followed: the directory it leads to, fd consumed. */
static int safe_follow(int fd, int nfd, const char *name, unsigned *links, char *why, size_t whylen)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(nfd, "", target, sizeof(target));
	int err = n < 0 ? -errno : 0;

	close(nfd);
	if (!err && (++*links > SAFE_MAX_LINKS || (size_t)n >= sizeof(target)))
		err = -ELOOP;
	if (err) {
		safe_why(why, whylen, "%s: %s", name, strerror(-err));
		close(fd);
		return err;
	}
	return safe_walk(fd, target, (size_t)n, links, why, whylen);
}

/*
 * One step of a walk: fd's entry name (a directory, or a link to follow),
 * checked as safe_open.h says. The directory's fd, fd consumed; or -errno.
 */
static int safe_step(int fd, const char *name, unsigned *links, char *why, size_t whylen)
{
	int nfd = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), err = 0;
	bool planted = false;
	struct stat dst, st;

	if (nfd < 0 || fstat(fd, &dst) || fstat(nfd, &st))
		err = -errno;
	else if (strcmp(name, "..") && safe_planted(&dst, &st, SAFE_ANY_OWNER))
		planted = true;
	else if (S_ISLNK(st.st_mode))
		return safe_follow(fd, nfd, name, links, why, whylen);
	else if (!S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	if (planted) {
		err = -EPERM;
		safe_why(why, whylen,
			 "%s: %s of uid %u%s: rawcap does not follow it on the way to a "
			 "directory it uses (someone else may have planted it)",
			 name, S_ISLNK(st.st_mode) ? "a symbolic link" : "a directory",
			 (unsigned)st.st_uid,
			 S_ISLNK(st.st_mode) ? "" : " in a directory others may write");
	} else if (err) {
		safe_why(why, whylen, "%s: %s", name, strerror(-err));
	}
	close(fd);
	if (err && nfd >= 0)
		close(nfd);
	return err ? err : nfd;
}

/* Every component of path[0..len) from fd (consumed): the directory reached (O_PATH) or -errno. */
static int safe_walk(int fd, const char *path, size_t len, unsigned *links, char *why,
		     size_t whylen)
{
	const char *p = path, *end = path + len;

	if (len && path[0] == '/') {
		close(fd);
		fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	while (p < end && fd >= 0) {
		const char *q = memchr(p, '/', (size_t)(end - p));
		size_t n = (size_t)((q ? q : end) - p);
		char name[NAME_MAX + 1];

		if (n > NAME_MAX) {
			close(fd);
			safe_why(why, whylen, "a name longer than %d bytes", NAME_MAX);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n + 1;
		if (n && strcmp(name, "."))
			fd = safe_step(fd, name, links, why, whylen);
	}
	return fd;
}

int safe_path_parent(const char *path, char *leaf, size_t leaflen, char *why, size_t whylen)
{
	size_t len = strlen(path), dir;
	unsigned links = 0;
	int fd;

	while (len > 1 && path[len - 1] == '/')
		len--; /* "DIR/" names DIR */
	for (dir = len; dir && path[dir - 1] != '/'; dir--)
		;
	if (len - dir >= leaflen || len - dir > NAME_MAX) {
		safe_why(why, whylen, "a name longer than %d bytes", NAME_MAX);
		return -ENAMETOOLONG;
	}
	if (len == 1 && path[0] == '/')
		snprintf(leaf, leaflen, "."); /* "/" itself */
	else
		snprintf(leaf, leaflen, "%.*s", (int)(len - dir), path + dir);
	fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return safe_walk(fd, path, dir > 1 ? dir - 1 : dir, &links, why, whylen);
}

/*
 * The directory fd, entry name of dirfd, held to the walk's rule for a
 * directory on the way: in a directory others may write, another user's
 * directory could have been made there before us (in /tmp, say) to take
 * what we write, or to keep us from writing; want's owner counts as ours.
 */
static int safe_last_dir(int dirfd, int fd, const char *name, const struct safe_want *want,
			 char *why, size_t whylen)
{
	struct stat dst, st;

	if (fstatat(dirfd, ".", &dst, 0) || fstat(fd, &st))
		return -errno;
	if (!strcmp(name, "..") || !safe_planted(&dst, &st, want->owner[1]))
		return 0;
	safe_why(why, whylen,
		 "%s: a directory of uid %u in a directory others may write: someone else may "
		 "have made it (only root's, uid %u's or the parent owner's are used)",
		 name, (unsigned)st.st_uid, (unsigned)geteuid());
	return -EPERM;
}

int safe_dir_open(const char *path, struct stat *st, char *why, size_t whylen)
{
	struct safe_want any = safe_want_dir(SAFE_ANY_OWNER);
	char leaf[NAME_MAX + 1];
	int pfd, fd, err;

	pfd = safe_path_parent(path, leaf, sizeof(leaf), why, whylen);
	if (pfd < 0)
		return pfd;
	fd = safe_openat(pfd, leaf, O_RDONLY, 0, &any, st, why, whylen);
	if (fd >= 0 && (err = safe_last_dir(pfd, fd, leaf, &any, why, whylen))) {
		close(fd);
		fd = err;
	}
	close(pfd);
	return fd;
}

int safe_mkdir_open(int dirfd, const char *name, mode_t mode, const struct safe_want *want,
		    struct stat *st, char *why, size_t whylen)
{
	struct safe_want w = *want;
	char leaf[NAME_MAX + 1];
	int pfd = -1, fd, err;
	struct stat sb;

	if (!st)
		st = &sb;
	w.type = S_IFDIR;
	if (dirfd == AT_FDCWD && strchr(name, '/')) {
		pfd = safe_path_parent(name, leaf, sizeof(leaf), why, whylen);
		if (pfd < 0)
			return pfd;
		dirfd = pfd;
		name = leaf;
	}
	if (mkdirat(dirfd, name, mode) && errno != EEXIST) {
		err = -errno;

		safe_why(why, whylen, "cannot create it: %s", strerror(errno));
		if (pfd >= 0)
			close(pfd);
		return err;
	}
	fd = safe_openat(dirfd, name, O_RDONLY, 0, &w, st, why, whylen);
	if (fd >= 0 && (err = safe_last_dir(dirfd, fd, name, &w, why, whylen))) {
		close(fd);
		fd = err;
	}
	if (pfd >= 0)
		close(pfd);
	if (fd < 0 || !(st->st_mode & S_IRWXO))
		return fd;
	/* Captured packets are never for "other": take its access away, or refuse. */
	if (fchmod(fd, st->st_mode & 07770)) {
		safe_why(why, whylen,
			 "open to other users (mode %04o) and uid %u may not change that: "
			 "chmod o-rwx it",
			 (unsigned)(st->st_mode & 07777), (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	st->st_mode &= ~(mode_t)S_IRWXO;
	return fd;
}

ssize_t safe_read_text(int dirfd, const char *name, const struct safe_want *want, char *buf,
		       size_t cap, char *why, size_t whylen)
{
	ssize_t n;
	int fd, err;

	if (!cap || !want->max_size || want->max_size >= cap)
		return -EINVAL;
	fd = safe_openat(dirfd, name, O_RDONLY, 0, want, NULL, why, whylen);
	if (fd < 0)
		return fd;
	n = read(fd, buf, cap - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (memchr(buf, '\0', (size_t)n)) {
		safe_why(why, whylen, "holds a NUL byte: not text");
		return -EINVAL;
	}
	buf[n] = '\0';
	return n;
}

/* Read fd to its end into buf (cap bytes): its length, -EFBIG past cap, or -errno. */
static ssize_t safe_read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return (ssize_t)got;
		got += (size_t)r;
	}
	return -EFBIG;
}

int safe_read_named(const char *path, size_t max, char **out, size_t *len, char *why,
		    size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	ssize_t n = -ENOMEM;
	char *buf = NULL;

	if (fd < 0) {
		n = -errno;
		safe_why(why, whylen, "%s", strerror(errno));
		return (int)n;
	}
	if (fstat(fd, &st)) {
		n = -errno;
		safe_why(why, whylen, "%s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		n = -EBADFD;
		safe_why(why, whylen, "%s, not a regular file", safe_type_name(st.st_mode));
	} else if ((uint64_t)st.st_size > max) {
		n = -EFBIG;
		safe_why(why, whylen, "larger than %zu bytes", max);
	} else if ((buf = malloc(max + 1))) {
		n = safe_read_all(fd, buf, max + 1);
		if (n < 0)
			safe_why(why, whylen, "%s",
				 n == -EFBIG ? "grew past its size limit" : strerror((int)-n));
	}
	close(fd);
	if (n < 0) {
		if (buf)
			explicit_bzero(buf, max + 1);
		free(buf);
		return (int)n;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = (size_t)n;
	return 0;
}

int safe_replace_text(const char *dir, const char *name, const char *text, size_t len,
		      bool durable)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, n, err = 0;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (fchmod(fd, 0640) || write(fd, text, len) != (ssize_t)len || (durable && fsync(fd)))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
