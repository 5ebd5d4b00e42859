// SPDX-License-Identifier: MIT
/*
 * seg_dir.c - the directory a segment writer owns: checked and tightened
 * when opened, locked against a second writer of the same FIFO, and what
 * to do with objects in it that are named like segments but are not.
 *
 * The directory must be a directory (never a symbolic link) owned by root
 * or by the writer's user; it is then given to that user and the readers'
 * group, mode 0750. A FIFO takes an exclusive flock on DIR/capd.lock (mode
 * 0600: a reader in the group cannot hold it) for the writer's life; the
 * file says who holds it, so a second writer is refused with a message
 * naming the first. Everything is opened through safe_open.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "safe_open.h"
#include "seg_writer_int.h"

#define SEG_LOCK_NAME  "capd.lock"
#define SEG_HOLDER_MAX 160

/* The writer's user: capd's unprivileged user, or whoever runs a snapshot. */
static uid_t segw_uid(const struct seg_writer *w)
{
	return w->o.chown_uid ? (uid_t)w->o.uid : geteuid();
}

/* Who holds the lock, from its file: printable characters only, one line. */
static void segw_lock_holder(int fd, char *out, size_t len)
{
	char buf[SEG_HOLDER_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	size_t j = 0;

	for (ssize_t i = 0; i < n && j + 1 < len && buf[i] != '\n'; i++)
		out[j++] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '?';
	out[j] = '\0';
	if (!j)
		snprintf(out, len, "unknown pid");
}

static int segw_lock_busy(struct seg_writer *w, int fd)
{
	char holder[SEG_HOLDER_MAX];

	segw_lock_holder(fd, holder, sizeof(holder));
	segw_log(w, "%s is in use by another capd (%s): one capd per storage directory", w->dir,
		 holder);
	return -EBUSY;
}

/* The directory is not ours: say whether a running writer holds it, if one does. */
static bool segw_held_by_other(struct seg_writer *w)
{
	struct safe_want any = {.type = S_IFREG, .owner = {SAFE_ANY_OWNER}};
	int fd = safe_openat(w->dirfd, SEG_LOCK_NAME, O_RDONLY, 0, &any, NULL, NULL, 0);
	bool held = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;

	if (held)
		segw_lock_busy(w, fd);
	if (fd >= 0)
		close(fd);
	return held;
}

static int segw_lock(struct seg_writer *w)
{
	struct safe_want want = safe_want_file(segw_uid(w), SEG_HOLDER_MAX);
	char why[160], text[SEG_HOLDER_MAX];
	int fd, n;

	for (int tries = 0;; tries++) {
		fd = safe_openat(w->dirfd, SEG_LOCK_NAME, O_RDWR | O_CREAT, 0600, &want, NULL, why,
				 sizeof(why));
		if (fd >= 0 || tries || !segw_remove_odd(w, SEG_LOCK_NAME, fd, why))
			break; /* an odd object at the lock's name is removed once */
	}
	if (fd < 0) {
		segw_log(w, "cannot lock %s/%s: %s", w->dir, SEG_LOCK_NAME, why);
		return fd;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno == EWOULDBLOCK ? segw_lock_busy(w, fd) : -errno;

		close(fd);
		return err;
	}
	n = snprintf(text, sizeof(text), "pid %d%s%s\n", (int)getpid(), w->o.holder ? ", " : "",
		     w->o.holder ? w->o.holder : "");
	errno = EIO; /* a short pwrite sets none */
	if (ftruncate(fd, 0) || pwrite(fd, text, (size_t)n, 0) != n || fchmod(fd, 0600) ||
	    fchown(fd, segw_uid(w), (gid_t)-1)) {
		int err = -errno;

		close(fd);
		return err;
	}
	w->lockfd = fd;
	return 0;
}

int segw_dir_open(struct seg_writer *w)
{
	uid_t uid = segw_uid(w);
	struct safe_want want = safe_want_dir(uid);
	struct stat st = {0};
	char why[200];
	int err;

	w->dirfd = safe_mkdir_open(AT_FDCWD, w->o.dir, 0750, &want, &st, why, sizeof(why));
	if (w->dirfd == -EPERM && st.st_uid != 0 && st.st_uid != uid) {
		/* Not ours (an older rawcap's FIFO under another user?): refuse, say the fix. */
		struct safe_want any = safe_want_dir(SAFE_ANY_OWNER);

		w->dirfd = safe_openat(AT_FDCWD, w->o.dir, O_RDONLY, 0, &any, NULL, NULL, 0);
		if (w->dirfd < 0 || !w->o.fifo || !segw_held_by_other(w))
			segw_log(w,
				 "%s is owned by uid %u, not root or the writer's user %u: "
				 "chown -R %u:%d %s if it is rawcap's, or use another directory",
				 w->dir, (unsigned)st.st_uid, (unsigned)uid, (unsigned)uid,
				 w->o.gid >= 0 ? w->o.gid : (int)st.st_gid, w->dir);
		return -EPERM;
	}
	if (w->dirfd < 0) {
		segw_log(w, "storage directory %s: %s", w->dir, why);
		return w->dirfd;
	}
	w->dir_uid = uid;
	err = w->o.fifo ? segw_lock(w) : 0;
	if (err)
		return err;
	/* Readers need the group's r-x on the directory and r on segments, nothing more. */
	if (fchmod(w->dirfd, 0750) ||
	    fchown(w->dirfd, w->o.chown_uid ? uid : (uid_t)-1, (gid_t)w->o.gid))
		return -errno;
	return 0;
}

void segw_dir_close(struct seg_writer *w)
{
	if (w->lockfd >= 0)
		close(w->lockfd); /* releases the lock */
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->lockfd = w->dirfd = -1;
}

bool segw_remove_odd(struct seg_writer *w, const char *name, int err, const char *why)
{
	/* A link, FIFO, socket or device at one of our names is never data: remove it. */
	if (!w->o.fifo || (err != -ELOOP && err != -EBADFD) || unlinkat(w->dirfd, name, 0))
		return false;
	segw_log(w, "removed %s/%s: %s", w->dir, name, why);
	return true;
}
