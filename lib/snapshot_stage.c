// SPDX-License-Identifier: MIT
/*
 * snapshot_stage.c - staging directories (DEST/.tmp-NAME-PID) of creates
 * that died: found and removed, so a SIGTERM or a crash during a create no
 * longer leaves blocks that count against the quota for ever.
 *
 * A create holds a shared flock on its staging directory from the moment
 * it makes it (under the snapshot directory's exclusive flock, the lock
 * this reaping takes too) until it renames or removes it. A staging
 * directory is removed only when it is a directory (never a link) that
 * this user owns, nobody holds its flock, and the PID in its name is not a
 * running process, or is this process (a server restarted under the same
 * PID, as in a container; this process holds the lock of every create it
 * runs). A PID that runs is some other process's (reused, or a create of an
 * older version that took no lock): kept, never guessed at.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "snapshot_int.h"

#define SNAP_STAGE_PREFIX ".tmp-"

/* The PID at the end of ".tmp-NAME-PID", or 0. */
static pid_t stage_pid(const char *name)
{
	const char *dash = strrchr(name, '-'), *p;
	long v;

	if (strncmp(name, SNAP_STAGE_PREFIX, strlen(SNAP_STAGE_PREFIX)) ||
	    dash < name + strlen(SNAP_STAGE_PREFIX) || !dash[1])
		return 0;
	for (p = dash + 1; *p; p++)
		if (*p < '0' || *p > '9' || p - dash > 10)
			return 0;
	v = strtol(dash + 1, NULL, 10);
	return v > 0 && v <= 0x7fffffff ? (pid_t)v : 0;
}

/* No process runs as pid (or it is this one): its creates would hold the lock. */
static bool stage_owner_gone(pid_t pid)
{
	return pid == getpid() || (kill(pid, 0) && errno == ESRCH);
}

/* Whether destfd/name is a dead create's staging directory (see above). */
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
