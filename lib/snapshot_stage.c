// SPDX-License-Identifier: MIT
/*
 * snapshot_stage.c - the directories a snapshot passes through on its way
 * in (DEST/.tmp-NAME-PID, a create's staging; .dl-NAME-PID, an object
 * storage download's) and out (DEST/.del-NAME-PID, a delete's), and the reaping of those a dead
 * process left: a SIGTERM or a crash during a create, or a delete killed between its rename and the
 * end of its removal, no longer leaves blocks that count against the quota (snap_du counts every
 * directory in DEST) for ever.
 *
 * The process working on one holds a shared flock on it the whole time: a
 * create or download from the moment it makes it (under the snapshot directory's
 * exclusive flock, the lock this reaping takes too) until it renames or
 * removes it; a delete from before its rename until the tree is gone. One
 * is removed only when it is a directory (never a link) that this user
 * owns, nobody holds its flock, and the PID in its name is not a running
 * process, or is this process (a server restarted under the same PID, as
 * in a container; this process holds the lock of every create and delete it
 * runs). A PID that runs is some other process's (reused, or an older
 * version that took no lock): kept, never guessed at.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "snapshot_int.h"

/* The prefixes of the directories a snapshot passes through: in, then out. */
static const char *const stage_prefixes[] = {SNAP_STAGE_PREFIX, SNAP_DL_PREFIX, SNAP_DEL_PREFIX};

/* The length of name's prefix if it is one of stage_prefixes, else 0. */
static size_t stage_prefix_len(const char *name)
{
	for (size_t i = 0; i < sizeof(stage_prefixes) / sizeof(stage_prefixes[0]); i++)
		if (!strncmp(name, stage_prefixes[i], strlen(stage_prefixes[i])))
			return strlen(stage_prefixes[i]);
	return 0;
}

/* The PID at the end of PREFIX-NAME-PID, or 0. */
static pid_t stage_pid(const char *name)
{
	const char *dash = strrchr(name, '-'), *p;
	size_t plen = stage_prefix_len(name);
	long v;

	if (!plen || dash < name + plen || !dash[1])
		return 0;
	for (p = dash + 1; *p; p++)
		if (*p < '0' || *p > '9' || p - dash > 10)
			return 0;
	v = strtol(dash + 1, NULL, 10);
	return v > 0 && v <= 0x7fffffff ? (pid_t)v : 0;
}

/* No process runs as pid (or it is this one): its creates and deletes would hold the lock. */
static bool stage_owner_gone(pid_t pid)
{
	return pid == getpid() || (kill(pid, 0) && errno == ESRCH);
}

/* Whether destfd/name is what a dead create or delete left (see above). */
static bool stage_stale(int destfd, const char *name)
{
	pid_t pid = stage_pid(name);
	struct stat st;
	bool stale;
	int fd;

	if (!pid || !stage_owner_gone(pid))
		return false;
	fd = openat(destfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false; /* a link, a file, gone */
	stale = !fstat(fd, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
		!flock(fd, LOCK_EX | LOCK_NB);
	close(fd);
	return stale;
}

void snap_stage_reap(int destfd)
{
	DIR *d = snap_dir_stream(destfd);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (stage_stale(destfd, de->d_name))
			snap_remove_tree(destfd, de->d_name);
	closedir(d);
}

int snap_stage_make(int destfd, const char *stage)
{
	int fd, err = 0;

	if (flock(destfd, LOCK_EX))
		return -errno;
	snap_stage_reap(destfd);
	if (mkdirat(destfd, stage, 0700))
		err = -errno;
	fd = err ? -1 : openat(destfd, stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (!err && fd < 0)
		err = -errno;
	if (!err && flock(fd, LOCK_SH)) {
		err = -errno;
		close(fd);
	}
	flock(destfd, LOCK_UN);
	return err ? err : fd;
}

int snap_stage_discard(int destfd, const char *name)
{
	char out[RAWCAP_SNAP_NAME_MAX + 64];
	int fd, err;

	fd = openat(destfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Held from before the rename: no reaper takes .del-NAME-PID while it goes. */
	if (flock(fd, LOCK_SH)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!flock(destfd, LOCK_EX)) {
		snap_stage_reap(destfd);
		flock(destfd, LOCK_UN);
	}
	snprintf(out, sizeof(out), SNAP_DEL_PREFIX "%s-%d", name, (int)getpid());
	/* Rename away first: the name disappears atomically, the rest is cleanup. */
	err = renameat(destfd, name, destfd, out) ? -errno : snap_remove_tree(destfd, out);
	close(fd);
	return err;
}
