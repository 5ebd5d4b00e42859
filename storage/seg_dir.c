// SPDX-License-Identifier: MIT
/*
 * seg_dir.c - the directory a segment writer owns: checked and tightened
 * when opened, and what to do with objects in it that are named like
 * segments but are not.
 *
 * The directory must be a directory (never a symbolic link) owned by root
 * or by the writer's user; it is then given to that user and the readers'
 * group, mode 0750. Everything is opened through safe_open.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "safe_open.h"
#include "seg_writer_int.h"

/* The writer's user: capd's unprivileged user, or whoever runs a snapshot. */
static uid_t segw_uid(const struct seg_writer *w)
{
	return w->o.chown_uid ? (uid_t)w->o.uid : geteuid();
}

int segw_dir_open(struct seg_writer *w)
{
	uid_t uid = segw_uid(w);
	struct safe_want want = safe_want_dir(uid);
	struct stat st = {0};
	char why[200];

	w->dirfd = safe_mkdir_open(AT_FDCWD, w->o.dir, 0750, &want, &st, why, sizeof(why));
	if (w->dirfd == -EPERM && st.st_uid != 0 && st.st_uid != uid) {
		/* Not ours (an older rawcap's FIFO under another user?): refuse, say the fix. */
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
	/* Readers need the group's r-x on the directory and r on segments, nothing more. */
	if (fchmod(w->dirfd, 0750) ||
	    fchown(w->dirfd, w->o.chown_uid ? uid : (uid_t)-1, (gid_t)w->o.gid))
		return -errno;
	return 0;
}

void segw_dir_close(struct seg_writer *w)
{
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->dirfd = -1;
}

bool segw_remove_odd(struct seg_writer *w, const char *name, int err, const char *why)
{
	/* A link, FIFO, socket or device at one of our names is never data: remove it. */
	if (!w->o.fifo || (err != -ELOOP && err != -EBADFD) || unlinkat(w->dirfd, name, 0))
		return false;
	segw_log(w, "removed %s/%s: %s", w->dir, name, why);
	return true;
}
