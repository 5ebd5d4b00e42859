// SPDX-License-Identifier: MIT
/*
 * snapshot_quota.c - how much the snapshot directory uses (snap_du) and the
 * claims every writer of it (a create, a download; the CLI or
 * rawcap-server) takes before writing, so that --quota holds across
 * processes and threads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "snapshot_int.h"

/*
 * Quota claims: how every process that writes the snapshot directory (a
 * create, a download; the CLI or rawcap-server) counts what the others are
 * about to write. Before it writes, a writer takes an exclusive flock of
 * DIR, sums the usage (snap_quota_used) and, if its need fits, leaves
 * DIR/.claim-STAGE: an empty file of the claimed length (sparse: no disk
 * used) that it keeps open and flock(LOCK_SH)ed until it has finished.
 * STAGE, its staging directory, then counts as the larger of the claim and
 * its blocks, so the claim holds the room from the first byte to the rename.
 * A claim whose lock is free was left by a process that died and counts for
 * nothing (its staging directory's blocks still count). The file lives in
 * DIR, not in one process's memory, so every process and every thread sees
 * it; the lock makes check-and-claim one step.
 */
#define SNAP_CLAIM_PREFIX ".claim-"

/*
 * A directory stream of fd's directory from its start, fd left open; NULL if
 * none. The stream has its own open file description (openat "."), not a dup:
 * dups share one offset, so a stream opened before another of the same
 * directory is read to its end (snap_quota_used runs snap_du in between)
 * would find nothing.
 */
DIR *snap_dir_stream(int fd)
{
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = own >= 0 ? fdopendir(own) : NULL;

	if (!d && own >= 0)
		close(own);
	return d;
}

uint64_t snap_du(int fd)
{
	DIR *d = snap_dir_stream(fd);
	struct dirent *de;
	uint64_t sum = 0;
	struct stat st;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISREG(st.st_mode)) {
			sum += (uint64_t)st.st_blocks * 512;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				sum += snap_du(sub);
				close(sub);
			}
		}
	}
	closedir(d);
	return sum;
}

/* Bytes a claim of size bytes adds beyond the blocks of its staging directory. */
static uint64_t stage_extra(int destfd, const char *stage, uint64_t size)
{
	int sfd = openat(destfd, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t held = 0;

	if (sfd >= 0) {
		held = snap_du(sfd);
		close(sfd);
	}
	return size > held ? size - held : 0;
}

/* Bytes a claim adds beyond its staging directory's blocks; 0 for a dead one. */
static uint64_t claim_extra(int destfd, const char *claim, uint64_t *claimed)
{
	int fd = openat(destfd, claim, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd); /* not a claim, or its owner is gone */
		return 0;
	}
	close(fd);
	*claimed += (uint64_t)st.st_size;
	return stage_extra(destfd, claim + strlen(SNAP_CLAIM_PREFIX), (uint64_t)st.st_size);
}

uint64_t snap_quota_used(int destfd, uint64_t *claimed)
{
	DIR *d = snap_dir_stream(destfd);
	uint64_t used = snap_du(destfd), ignored = 0;
	struct dirent *de;

	if (!claimed)
		claimed = &ignored;
	*claimed = 0;
	if (!d)
		return used;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, SNAP_CLAIM_PREFIX, strlen(SNAP_CLAIM_PREFIX)))
			used += claim_extra(destfd, de->d_name, claimed);
	closedir(d);
	return used;
}

/* Remove the claims of processes that are gone (called with DIR locked). */
static void claims_reap(int destfd)
{
	DIR *d = snap_dir_stream(destfd);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd;

		if (strncmp(de->d_name, SNAP_CLAIM_PREFIX, strlen(SNAP_CLAIM_PREFIX)))
			continue;
		fd = openat(destfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB))
			unlinkat(destfd, de->d_name, 0);
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
}

int snap_quota_claim(int destfd, const char *stage, uint64_t quota, uint64_t need, bool at_most,
		     struct snap_claim *c)
{
	char name[sizeof(c->name)];
	int fd, err = 0;

	c->fd = -1;
	c->used = c->claimed = c->got = 0;
	c->held[0] = '\0';
	if (snprintf(name, sizeof(name), SNAP_CLAIM_PREFIX "%s", stage) >= (int)sizeof(name))
		return -ENAMETOOLONG;
	if (flock(destfd, LOCK_EX))
		return -errno;
	claims_reap(destfd);
	c->used = snap_quota_used(destfd, &c->claimed);
	c->got = c->used < quota ? quota - c->used : 0;
	if (need && need < c->got)
		c->got = need;
	if (c->used >= quota || (need && !at_most && c->used + need > quota)) {
		if (c->claimed)
			snprintf(c->held, sizeof(c->held),
				 " (%llu bytes held by snapshots being created or downloaded: "
				 "retry when they finish)",
				 (unsigned long long)c->claimed);
		err = -EDQUOT;
		goto out;
	}
	fd = openat(destfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (flock(fd, LOCK_SH) || ftruncate(fd, (off_t)c->got)) {
		err = -errno;
		unlinkat(destfd, name, 0);
		close(fd);
		goto out;
	}
	c->fd = fd;
	memcpy(c->name, name, sizeof(name));
out:
	flock(destfd, LOCK_UN);
	return err;
}

int snap_quota_grow(int destfd, uint64_t quota, uint64_t total, struct snap_claim *c)
{
	const char *stage = c->name + strlen(SNAP_CLAIM_PREFIX);
	uint64_t used;
	int err = 0;

	if (c->fd < 0)
		return -EBADF;
	if (total <= c->got)
		return 0;
	if (flock(destfd, LOCK_EX))
		return -errno;
	claims_reap(destfd);
	/* The usage with this claim at total instead of its present length. */
	used = snap_quota_used(destfd, &c->claimed);
	used = used - stage_extra(destfd, stage, c->got) + stage_extra(destfd, stage, total);
	c->used = used;
	c->held[0] = '\0';
	if (used > quota) {
		if (c->claimed > c->got)
			snprintf(c->held, sizeof(c->held),
				 " (%llu bytes held by other snapshots being created or "
				 "downloaded: retry when they finish)",
				 (unsigned long long)(c->claimed - c->got));
		err = -EDQUOT;
	} else if (ftruncate(c->fd, (off_t)total)) {
		err = -errno;
	} else {
		c->got = total;
	}
	flock(destfd, LOCK_UN);
	return err;
}

void snap_quota_release(int destfd, struct snap_claim *c)
{
	if (c->fd < 0)
		return;
	unlinkat(destfd, c->name, 0);
	close(c->fd);
	c->fd = -1;
}
