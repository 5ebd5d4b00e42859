// SPDX-License-Identifier: MIT
/*
 * output_tmp.c - an export that replaces an existing file is written into
 * a temporary file beside it, .NAME-XXXXXX (lib/files.c says when), and
 * renamed over it at the end. Here: that file's life.
 *
 *  - Made with O_EXCL|O_NOFOLLOW, mode 0600, and locked (flock LOCK_EX) for
 *    as long as its export lives: the kernel drops the lock when the writer
 *    dies, however it dies (SIGKILL, OOM), so a lock that can be taken
 *    means nobody writes the file any more. Then it takes the old file's
 *    group, access ACL and mode less "other" (never wider than the old
 *    file: a default ACL of the directory it got at creation is replaced
 *    or removed); where one of these cannot be given, the old file is
 *    emptied in place instead.
 *  - An export that starts reaps NAME's temporaries left by dead exports
 *    (out_reap): only regular files of this uid with one link and no access
 *    for "other" or special bits, named exactly .NAME-xxxxxx, whose lock it
 *    can take, and only if the name still names the file it locked. A live
 *    export holds its lock from the moment its file has a name (it checks,
 *    once locked, that no reaper removed it in between, else makes another),
 *    so two exports to one name never reap each other; a PID in the name
 *    could be reused, a lock cannot outlive its holder.
 *  - At the end (rawcap_output_finish, _commit, _failed) the temporary is
 *    fdatasync'd, then renamed over the old name only if that still names
 *    the old file (or nothing): one replaced meanwhile by a link, a
 *    directory or another file is left alone and the export kept beside it
 *    under a visible name (NAME-xxxxxx, no dot: a later export does not reap
 *    it; another suffix if taken, link and unlink without rename flags). A
 *    write that failed (a full disk: rawcap_output_broken) or a sync that
 *    fails removes the temporary and leaves the old file as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "output_tmp.h"
#include "safe_open.h"

#define TMP_LEAF_MAX (NAME_MAX - 8) /* ".", the leaf cut to this, "-xxxxxx" */
#define ACL_ACCESS   "system.posix_acl_access"

/* Exports going into a temporary file beside their output. */
struct out_pending {
	int fd, dirfd;		     /* the temporary file; the directory of both */
	int err;		     /* a write into fd failed (rawcap_output_broken) */
	dev_t dev;		     /* the old file, */
	ino_t ino;		     /* replaced only if the name still names it */
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

void rawcap_output_broken(int fd, int err)
{
	pthread_mutex_lock(&out_lock);
	for (size_t i = 0; i < OUT_PENDING_MAX; i++)
		if (out_pending[i].path && out_pending[i].fd == fd && !out_pending[i].err)
			out_pending[i].err = err < 0 ? err : -EIO;
	pthread_mutex_unlock(&out_lock);
}

static void out_drop(struct out_pending *e, bool unlink_tmp)
{
	if (unlink_tmp)
		unlinkat(e->dirfd, e->tmp, 0);
	close(e->dirfd);
	free(e->path);
}

/* Whether name is one of leaf's temporary files (.LEAF-xxxxxx, as out_tmp_open names them). */
static bool is_tmp_of(const char *name, const char *leaf)
{
	size_t n = strnlen(leaf, TMP_LEAF_MAX);

	if (name[0] != '.' || strncmp(name + 1, leaf, n) || name[n + 1] != '-')
		return false;
	name += n + 2;
	for (int i = 0; i < 6; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name[6] == '\0';
}

/* What a temporary file of ours looks like: this uid's, one link, nothing for "other". */
static bool tmp_ours(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid() && st->st_nlink == 1 &&
	       !(st->st_mode & (S_IRWXO | S_ISUID | S_ISGID | S_ISVTX));
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* dirfd/name, a temporary of leaf's, is removed if it is ours and its writer is gone. */
static void reap_one(int dirfd, const char *name)
{
	struct stat a, b;
	int fd;

	if (fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) || !tmp_ours(&a))
		return;
	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* Locked: its writer is gone. Still named so: only a writer of the directory
	   could have put another file there, one it could remove itself. */
	if (!fstat(fd, &b) && same_file(&a, &b) && tmp_ours(&b) && !flock(fd, LOCK_EX | LOCK_NB) &&
	    !fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) && same_file(&a, &b))
		unlinkat(dirfd, name, 0);
	close(fd);
}

void out_reap(int dirfd, const char *leaf)
{
	int rfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = rfd >= 0 ? fdopendir(rfd) : NULL;
	struct dirent *de;

	if (!d) { /* a directory we may not list: nothing of ours is found there */
		if (rfd >= 0)
			close(rfd);
		return;
	}
	while ((de = readdir(d)))
		if ((de->d_type == DT_REG || de->d_type == DT_UNKNOWN) &&
		    is_tmp_of(de->d_name, leaf))
			reap_one(rfd, de->d_name);
	closedir(d);
}

/* A temporary file's name, .LEAF-xxxxxx with a random suffix (try: the attempt). */
static void tmp_name(char *buf, size_t len, const char *leaf, int try)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)getpid() * 2654435761u + (uint32_t)try;
	snprintf(buf, len, ".%.*s-%06x", TMP_LEAF_MAX, leaf, r & 0xffffff);
}

/*
 * A new file e->dirfd/.LEAF-xxxxxx (O_EXCL: never a planted name), locked
 * while it still has its name; its name in e->tmp. -1 where none can be
 * made or locked (a filesystem without locks: a reaper could not tell it
 * from a dead export's).
 */
static int out_tmp_open(struct out_pending *e)
{
	for (int i = 0; i < 100; i++) {
		struct stat st;
		int fd;

		tmp_name(e->tmp, sizeof(e->tmp), e->leaf, i);
		fd = openat(e->dirfd, e->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			bool held = errno == EWOULDBLOCK; /* by a reaper, which removes it */

			if (!held) /* no lock to be had here */
				unlinkat(e->dirfd, e->tmp, 0);
			close(fd);
			if (!held)
				return -1;
			continue;
		}
		if (!fstat(fd, &st) && st.st_nlink == 1)
			return fd;
		close(fd); /* a reaper removed it between the open and the lock */
	}
	return -1;
}

/*
 * to (new, empty, 0600) gets from's access ACL, or loses the one the
 * directory's default ACL gave it where from has none. 0 or -1.
 */
static int acl_copy(int from, int to)
{
	char small[256], *buf = small;
	ssize_t n = fgetxattr(from, ACL_ACCESS, small, sizeof(small));
	int ret;

	if (n < 0 && errno == ERANGE) {
		n = fgetxattr(from, ACL_ACCESS, NULL, 0);
		buf = n > 0 ? malloc((size_t)n) : NULL;
		n = buf ? fgetxattr(from, ACL_ACCESS, buf, (size_t)n) : -1;
	}
	if (n < 0 && (errno == ENODATA || errno == EOPNOTSUPP))
		ret = fremovexattr(to, ACL_ACCESS) && errno != ENODATA && errno != EOPNOTSUPP ? -1
											      : 0;
	else
		ret = n < 0 || fsetxattr(to, ACL_ACCESS, buf, (size_t)n, 0) ? -1 : 0;
	if (buf != small)
		free(buf);
	return ret;
}

/* Whether fd is the root of a mount (a file bind-mounted over the name). */
static bool is_mount_root(int fd)
{
	struct statx sx;

	return !statx(fd, "", AT_EMPTY_PATH, 0, &sx) &&
	       (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int out_beside(const char *path, int dirfd, const char *leaf, int fd, const struct stat *st)
{
	struct out_pending e = {.fd = -1, .dev = st->st_dev, .ino = st->st_ino};

	if (st->st_uid != geteuid() || st->st_nlink != 1 || is_mount_root(fd))
		return -1; /* a rename would change its owner, part it from its other names,
			      or fail (EBUSY: a file bind-mounted, as a container's volume) */
	snprintf(e.leaf, sizeof(e.leaf), "%s", leaf);
	e.dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (e.dirfd < 0)
		return -1;
	e.fd = out_tmp_open(&e);
	/* Who may read it, as the old file: its group (its group bits on the user's
	   default group could let a wider group read the packets), its ACL (a
	   colleague granted, a group denied), its mode. What is not ours to give
	   (a group we are not in): in place. Still 0600 until then. */
	if (e.fd < 0 || fchown(e.fd, (uid_t)-1, st->st_gid) || acl_copy(fd, e.fd) ||
	    fchmod(e.fd, st->st_mode & 0770) || !out_remember(&e, path)) {
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

/* NULL if the name still names the old file, or nothing; else what it names now. */
static const char *name_changed(const struct out_pending *e)
{
	struct stat st;

	if (fstatat(e->dirfd, e->leaf, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? NULL : "something that cannot be looked at";
	if (st.st_dev == e->dev && st.st_ino == e->ino)
		return NULL;
	return S_ISREG(st.st_mode) ? "another file" : safe_type_name(st.st_mode);
}

/* from renamed to to in dirfd, never over a file there: -1 with errno EEXIST then. */
static int rename_noreplace(int dirfd, const char *from, const char *to)
{
	if (!renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS) /* a file system without rename flags */
		return -1;
	if (linkat(dirfd, from, dirfd, to, 0))
		return -1;
	unlinkat(dirfd, from, 0);
	return 0;
}

/*
 * The export is kept beside the old file: under its name without the dot
 * (NAME-xxxxxx, which no export reaps), another suffix where that is taken.
 * Its name now; e->tmp itself where it could not be renamed.
 */
static const char *keep_beside(struct out_pending *e)
{
	char name[sizeof(e->tmp)];

	memcpy(name, e->tmp, sizeof(name));
	for (int i = 0; i < 100; i++) {
		if (i)
			tmp_name(name, sizeof(name), e->leaf, i);
		if (!rename_noreplace(e->dirfd, e->tmp, name + 1)) {
			memcpy(e->tmp, name, sizeof(name));
			return e->tmp + 1;
		}
		if (errno != EEXIST)
			break;
	}
	return e->tmp;
}

/* The export in e (packets of it, partial or not) replaces the old file, or says why not. */
static int out_replace(FILE *err, const char *prog, struct out_pending *e, bool partial,
		       uint64_t packets)
{
	const char *changed = NULL, *slash = strrchr(e->path, '/'), *kept;
	int dir = slash ? (int)(slash - e->path + 1) : 0, ret = e->err;

	while (!ret && fdatasync(e->fd))
		if (errno != EINTR)
			ret = -errno;
	if (ret) { /* what it holds is not what was exported: the old file stays */
		if (err)
			fprintf(err, "%s: %s left as it was: writing the export failed (%s)\n",
				prog, e->path, strerror(-ret));
		out_drop(e, true);
		return ret;
	}
	changed = name_changed(e);
	if (!changed && !renameat(e->dirfd, e->tmp, e->dirfd, e->leaf)) {
		if (err && partial)
			fprintf(err, "%s: %s replaced by a partial export (%llu packets)\n", prog,
				e->path, (unsigned long long)packets);
		out_drop(e, false);
		return 0;
	}
	ret = changed ? -EEXIST : -errno;
	kept = keep_beside(e);
	if (err && changed)
		fprintf(err,
			"%s: %s not replaced: it is now %s (changed during the export); "
			"the export is in %.*s%s\n",
			prog, e->path, changed, dir, e->path, kept);
	else if (err)
		fprintf(err, "%s: %s not replaced (%s): the export is in %.*s%s\n", prog, e->path,
			strerror(-ret), dir, e->path, kept);
	if (err && kept == e->tmp) /* unlocked once we exit: a later export would reap it */
		fprintf(err, "%s: move %.*s%s away before the next export to %s\n", prog, dir,
			e->path, kept, e->path);
	out_drop(e, false);
	return ret;
}

int rawcap_output_finish(FILE *err, const char *prog, const char *path, int fd)
{
	struct out_pending e;

	(void)path; /* named as it was created */
	return out_forget(fd, &e) ? out_replace(err, prog, &e, false, 0) : 0;
}

int rawcap_output_commit(int fd)
{
	return rawcap_output_finish(NULL, NULL, NULL, fd);
}

bool out_tmp_failed(FILE *err, const char *prog, const char *path, int fd, uint64_t packets)
{
	struct out_pending e;

	(void)path;
	if (!out_forget(fd, &e))
		return false;
	if (packets) /* the old file is untouched: replaced only by packets */
		out_replace(err, prog, &e, true, packets);
	else {
		fprintf(err, "%s: %s left as it was: no packet was exported\n", prog, e.path);
		out_drop(&e, true);
	}
	return true;
}
