// SPDX-License-Identifier: MIT
/*
 * s3_download.c - bring a snapshot back from object storage (rawcap/s3.h).
 *
 * The manifest comes first and is parsed by the same strict parser as local
 * ones; nothing is written unless it is sound (its name, data/<plain name>
 * paths, sizes that add up, room on the disk). Only the files it lists are
 * then fetched, into DIR/.dl-NAME-PID/NAME/ (private, 0700), never more
 * bytes than listed. Each file is verified as it arrives: its bytes are
 * hashed as they are written and the SHA-256 and size must be the
 * manifest's, or the download stops naming the file. (Hashing in stream
 * instead of verifying the staged copy with rawcap_snapshot_verify() saves
 * re-reading the whole snapshot: 1.5-2 s of a 1 GiB download here; the
 * staged directory holds exactly the manifest's files by construction, and
 * the tests check every download with `rawcap-snapshot verify` too.) Then
 * the copy is sealed (fsync, files 0440, directories 0550) and only then
 * renamed to DIR/NAME: an interrupted or refused download leaves nothing
 * under a real name.
 *
 * With a quota, the snapshot's bytes are claimed in DIR before any is
 * fetched (snap_quota_claim: DIR/.claim-STAGE, which every process that
 * writes DIR counts, whether it creates or downloads); check and claim are
 * one step under a lock of DIR, so two writers racing for the last room
 * cannot both pass. The one that does not fit fails with -EDQUOT and leaves
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "s3_int.h"
#include "safe_open.h"
#include "snapshot_int.h"

struct download {
	struct s3_op *op;
	const char *name, *dir;
	int destfd, stagefd, snapfd;
	char stage[RAWCAP_SNAP_NAME_MAX + 32];
	char *text; /* the manifest's bytes, kept as fetched */
	size_t text_len;
	struct snap_manifest m;
	size_t next, done; /* files started, files verified */
	uint64_t quota;	   /* bytes DIR may hold; 0: unlimited */
	struct snap_claim claim;
};

static int count_key(void *arg, const char *key, uint64_t size)
{
	(void)key, (void)size;
	++*(size_t *)arg;
	return 0;
}

/* No manifest: say whether this is an interrupted upload or nothing at all. */
static void no_manifest(struct download *d)
{
	char pfx[S3_KEY_MAX];
	size_t n = 0;

	if (!s3_key(&d->op->t, d->name, "", pfx, sizeof(pfx)))
		s3_list_keys(d->op, pfx, count_key, &n);
	if (d->op->error)
		return;
	if (n)
		s3_fail(d->op, -ENOENT,
			"%s is not a snapshot there: %zu objects but no manifest (an interrupted "
			"upload; upload it again, or delete --remote)",
			d->name, n);
	else
		s3_fail(d->op, -ENOENT, "no snapshot named %s there", d->name);
}

static int fetch_manifest(struct download *d)
{
	int err = s3_get_manifest(d->op, d->name, &d->text, &d->text_len);

	if (err == -ENOENT)
		no_manifest(d);
	else if (!err)
		s3_progress_bytes(d->op->prog, (int64_t)d->text_len);
	return d->op->error ? d->op->error : err;
}

/* Everything about the manifest that must hold before a byte is written. */
static int check_manifest(struct download *d)
{
	struct s3_op *op = d->op;
	uint64_t sum = 0;
	struct statvfs vfs;

	if (!d->text || snap_manifest_parse(d->text, d->text_len, &d->m)) {
		s3_fail(op, -EBADMSG, SNAP_MANIFEST ": malformed");
		return op->error;
	}
	if (strcmp(d->m.info.name, d->name)) {
		s3_fail(op, -EBADMSG, SNAP_MANIFEST " names the snapshot %s, not %s",
			d->m.info.name, d->name);
		return op->error;
	}
	for (size_t i = 0; i < d->m.nfiles; i++) {
		if (!s3_rel_path_ok(d->m.files[i].path)) {
			s3_fail(op, -EBADMSG, "%s: bad path in the manifest", d->m.files[i].path);
			return op->error;
		}
		/* Sizes that wrap past 2^64 could add up to data_bytes and pass every
		   check below, then one file's download is bounded by nothing. */
		if (d->m.files[i].size > UINT64_MAX - sum) {
			s3_fail(op, -EBADMSG, SNAP_MANIFEST ": file sizes add up beyond 2^64 bytes");
			return op->error;
		}
		sum += d->m.files[i].size;
	}
	if (sum != d->m.info.data_bytes) {
		s3_fail(op, -EBADMSG, SNAP_MANIFEST ": files add up to %llu bytes, it says %llu",
			(unsigned long long)sum, (unsigned long long)d->m.info.data_bytes);
		return op->error;
	}
	if (!fstatvfs(d->destfd, &vfs) &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < sum + d->text_len + (1u << 20)) {
		s3_fail(op, -ENOSPC, "%s has %llu bytes free, the snapshot needs %llu", d->dir,
			(unsigned long long)vfs.f_bavail * vfs.f_frsize, (unsigned long long)sum);
		return op->error;
	}
	s3_progress_total(op->prog, sum + d->text_len, (uint32_t)d->m.nfiles);
	return 0;
}

static int stage(struct download *d)
{
	snprintf(d->stage, sizeof(d->stage), SNAP_DL_PREFIX "%s-%d", d->name, (int)getpid());
	/* flock'd while it stays open: what a killed download leaves is reaped (snapshot_stage.c)
	 */
	d->stagefd = snap_stage_make(d->destfd, d->stage);
	if (d->stagefd < 0)
		errno = -d->stagefd;
	if (d->stagefd < 0 || mkdirat(d->stagefd, d->name, 0700) ||
	    (d->snapfd = openat(d->stagefd, d->name,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    mkdirat(d->snapfd, "data", 0700)) {
		s3_fail(d->op, -errno, "stage in %s: %s", d->dir, strerror(errno));
		return d->op->error;
	}
	return 0;
}

/* Claim the snapshot's bytes in DIR under the quota, before a byte is written. */
static int claim_room(struct download *d)
{
	uint64_t need = d->m.info.data_bytes + d->text_len;
	struct snap_claim *c = &d->claim;
	int err;

	if (!d->quota)
		return 0;
	err = snap_quota_claim(d->destfd, d->stage, d->quota, need, false, c);
	if (err == -EDQUOT)
		s3_fail(d->op, err,
			"%s needs %llu bytes: with it %s would hold %llu of the %llu bytes the "
			"quota allows%s; delete snapshots first",
			d->name, (unsigned long long)need, d->dir,
			(unsigned long long)(c->used + need), (unsigned long long)d->quota,
			c->held);
	else if (err)
		s3_fail(d->op, err, "claim %llu bytes in %s: %s", (unsigned long long)need, d->dir,
			strerror(-err));
	return err;
}

static void file_done(struct s3_op *op, struct s3_req *r)
{
	const struct snap_file *f = r->arg;

	if (!r->result && r->sink_pos != f->size) {
		r->result = -EBADMSG;
		snprintf(r->err, sizeof(r->err), "the object is %llu bytes, the manifest says %llu",
			 (unsigned long long)r->sink_pos, (unsigned long long)f->size);
	}
	if (r->result) {
		s3_fail_req(op, r, f->path);
		return;
	}
	/* Start writing it back now, so that sealing has little left to wait for. */
	sync_file_range(r->sink_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	((struct download *)op->feed_arg)->done++;
	s3_progress_files(op->prog, 1, 0);
}

static struct s3_req *download_feed(struct s3_op *op)
{
	struct download *d = op->feed_arg;
	const struct snap_file *f;
	char key[S3_KEY_MAX];
	struct s3_req *r;
	int fd;

	if (d->next == d->m.nfiles)
		return NULL;
	f = &d->m.files[d->next++];
	if (s3_key(&op->t, d->name, f->path, key, sizeof(key))) {
		s3_fail(op, -ENAMETOOLONG, "%s: key too long", f->path);
		return NULL;
	}
	fd = openat(d->snapfd, f->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		s3_fail(op, -errno, "%s: %s", f->path,
			errno == EEXIST ? "listed twice in the manifest" : strerror(errno));
		return NULL;
	}
	r = s3_req_new("GET", key, NULL);
	if (!r) {
		close(fd);
		s3_fail(op, -ENOMEM, "out of memory");
		return NULL;
	}
	r->sink_fd = fd;
	r->own_sink = true;
	r->sink_limit = f->size;
	r->check_sha = true;
	snprintf(r->want_sha, sizeof(r->want_sha), "%s", f->sha256);
	r->progress = true;
	r->done = file_done;
	r->arg = (void *)f;
	return r;
}

static int write_manifest(struct download *d)
{
	int fd = openat(d->snapfd, SNAP_MANIFEST,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	ssize_t n = fd >= 0 ? write(fd, d->text, d->text_len) : -1;
	int err = n == (ssize_t)d->text_len ? 0 : n < 0 ? -errno : -EIO;

	if (fd >= 0)
		close(fd);
	if (err)
		s3_fail(d->op, err, "write " SNAP_MANIFEST ": %s", strerror(-err));
	return err;
}

/* fsync and make read-only: files 0440, directories 0550, as sealed local snapshots. */
static int seal_one(int dirfd, const char *path, mode_t mode)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int err = fd < 0 || fsync(fd) || fchmod(fd, mode) ? -errno : 0;

	if (fd >= 0)
		close(fd);
	return err;
}

static int seal(struct download *d)
{
	int err = 0;

	for (size_t i = 0; i < d->m.nfiles && !err; i++)
		err = seal_one(d->snapfd, d->m.files[i].path, SNAP_FILE_MODE);
	if (!err)
		err = seal_one(d->snapfd, SNAP_MANIFEST, SNAP_FILE_MODE);
	if (!err)
		err = seal_one(d->snapfd, "data", SNAP_DIR_MODE);
	if (!err && (fsync(d->snapfd) || fchmod(d->snapfd, SNAP_DIR_MODE)))
		err = -errno;
	if (!err && renameat2(d->stagefd, d->name, d->destfd, d->name, RENAME_NOREPLACE))
		err = -errno;
	if (err) {
		s3_fail(d->op, err, "seal %s/%s: %s", d->dir, d->name,
			err == -EEXIST ? "a snapshot of that name appeared meanwhile"
				       : strerror(-err));
		return err;
	}
	fsync(d->destfd);
	return 0;
}

/*
 * DIR is opened as rawcap_snapshot_create() opens it (safe_mkdir_open): made
 * 0750 if missing; a symbolic link, a non-directory or one "other" may read
 * and we may not fix is refused; "other"'s access is otherwise taken away.
 */
static int open_dest(struct download *d)
{
	struct safe_want dest_any = safe_want_dir(SAFE_ANY_OWNER);
	char why[200];
	struct stat st;

	d->destfd = safe_mkdir_open(AT_FDCWD, d->dir, 0750, &dest_any, NULL, why, sizeof(why));
	if (d->destfd < 0) {
		s3_fail(d->op, d->destfd, "%s: %s", d->dir, why);
		return d->op->error;
	}
	if (!fstatat(d->destfd, d->name, &st, AT_SYMLINK_NOFOLLOW)) {
		s3_fail(d->op, -EEXIST, "%s/%s exists", d->dir, d->name);
		return d->op->error;
	}
	return 0;
}

int s3_download_run(struct s3_op *op, const char *name, const char *dir, uint64_t quota)
{
	struct download d = {.op = op,
			     .name = name,
			     .dir = dir,
			     .destfd = -1,
			     .stagefd = -1,
			     .snapfd = -1,
			     .quota = quota,
			     .claim = {.fd = -1}};
	int err = open_dest(&d);

	if (!err)
		err = fetch_manifest(&d);
	if (!err)
		err = check_manifest(&d);
	if (!err)
		err = stage(&d);
	if (!err)
		err = claim_room(&d);
	if (!err) {
		op->feed = download_feed;
		op->feed_arg = &d;
		err = s3_run(op);
		op->feed = NULL;
		if (!err && d.done != d.m.nfiles)
			s3_fail(op, err = -EIO, "the download ended with %zu of %zu files", d.done,
				d.m.nfiles);
	}
	if (!err)
		err = write_manifest(&d);
	if (!err)
		err = seal(&d);
	if (!err)
		snprintf(op->msg, sizeof(op->msg),
			 "%zu files, %llu bytes of data, verified against the manifest's SHA-256 "
			 "sums",
			 d.m.nfiles, (unsigned long long)d.m.info.data_bytes);
	if (d.snapfd >= 0)
		close(d.snapfd);
	if (d.stagefd >= 0)
		close(d.stagefd);
	if (d.stage[0])
		snap_remove_tree(d.destfd, d.stage);
	snap_quota_release(d.destfd, &d.claim);
	if (d.destfd >= 0)
		close(d.destfd);
	snap_manifest_free(&d.m);
	free(d.text);
	return op->error ? op->error : err;
}
