// SPDX-License-Identifier: MIT
/*
 * snapshot.c - create a snapshot (rawcap/snapshot.h): run the window loop
 * with a sink that copies every kept record, in native framing, into
 * segment files (storage/seg_writer.h, no recycling, quota as its size),
 * then checksum, write the manifest, make it all read-only, fsync and
 * rename into place. The sink itself (records, whole blocks and
 * synthesised records into the writer) is snapshot_sink.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <rawcap/meta.h>
#include <rawcap/window.h>

#include "../storage/seg_format.h"
#include "../storage/safe_open.h"
#include "snapshot_int.h"
#include "snapshot_sink.h"

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct snap_file *)a)->path, ((const struct snap_file *)b)->path);
}

/* Is data/NAME a segment file? Its number in *seg_no. */
static bool snap_seg_name(const char *name, uint64_t *seg_no)
{
	unsigned long long no;
	int end = 0;

	if (sscanf(name, "seg-%16llx.rcs%n", &no, &end) != 1 || end != SEG_NAME_LEN || name[end])
		return false;
	*seg_no = no;
	return true;
}

/* Did the writer fdatasync data/NAME after its last write? */
static bool snap_synced(const struct snap_sink *s, const char *name)
{
	uint64_t seg_no;

	return snap_seg_name(name, &seg_no) && snap_sink_synced(s, seg_no);
}

/* The hasher's digest of data/NAME if it hashed all of the file's size bytes. */
static bool snap_take_hash(struct snap_hasher *h, const char *name, uint64_t size,
			   struct snap_file *f)
{
	uint64_t seg_no;

	return snap_seg_name(name, &seg_no) && snap_hasher_take(h, seg_no, size, f);
}

/* Make one data file durable (unless the writer already synced it whole) and read-only. */
static int snap_seal_file(int fd, bool synced)
{
	if (!synced && fsync(fd))
		return -errno;
	return fchmod(fd, SNAP_FILE_MODE) ? -errno : 0;
}

/*
 * Checksum (unless the hasher did), fsync (unless the writer synced it
 * whole) and seal every file in tmp/data; fill m->files.
 */
static int snap_seal_data(int tmpfd, struct snap_hasher *h, const struct snap_sink *s,
			  struct snap_manifest *m)
{
	struct safe_want want = safe_want_file(geteuid(), 0);
	int dfd = openat(tmpfd, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	m->files = calloc(SNAP_MAX_FILES, sizeof(*m->files));
	if (!d || !m->files) {
		if (!d)
			close(dfd);
		else
			closedir(d);
		return -ENOMEM;
	}
	while (!err && (de = readdir(d))) {
		struct snap_file *f;
		struct stat st;
		int fd;

		if (de->d_name[0] == '.' || strlen(de->d_name) > 100)
			continue;
		if (m->nfiles == SNAP_MAX_FILES) {
			err = -EFBIG;
			break;
		}
		f = &m->files[m->nfiles++];
		snprintf(f->path, sizeof(f->path), "data/%.100s", de->d_name); /* length checked above */
		fd = safe_openat(dirfd(d), de->d_name, O_RDONLY, 0, &want, &st, NULL, 0);
		err = fd < 0 ? fd : snap_seal_file(fd, snap_synced(s, de->d_name));
		if (fd >= 0)
			close(fd);
		if (!err && !snap_take_hash(h, de->d_name, (uint64_t)st.st_size, f))
			err = snap_sha256_file(tmpfd, f->path, 0, f->sha256, &f->size, NULL, 0);
		m->info.data_bytes += f->size;
	}
	if (!err && (fsync(dirfd(d)) || fchmod(dirfd(d), SNAP_DIR_MODE)))
		err = -errno;
	closedir(d);
	qsort(m->files, m->nfiles, sizeof(*m->files), cmp_files);
	m->info.files = m->nfiles;
	return err;
}

static int snap_write_manifest(int tmpfd, const struct snap_manifest *m)
{
	char *text;
	size_t len;
	ssize_t n;
	int fd, err = snap_manifest_render(m, &text, &len);

	if (err)
		return err;
	fd = openat(tmpfd, SNAP_MANIFEST, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    SNAP_FILE_MODE);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	n = write(fd, text, len);
	err = n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
	if (!err && (fsync(fd) || fchmod(fd, SNAP_FILE_MODE)))
		err = -errno;
	close(fd);
	free(text);
	return err;
}

static void snap_fill_info(struct rawcap_snapshot_info *in, const struct rawcap_snapshot_opts *o,
			   const struct rawcap_window_result *r, const struct snap_sink *s)
{
	bool recycled = r->missing_to_ns > r->missing_from_ns;

	snprintf(in->name, sizeof(in->name), "%s", o->name);
	if (o->node)
		snprintf(in->node, sizeof(in->node), "%s", o->node);
	else if (gethostname(in->node, sizeof(in->node) - 1))
		snprintf(in->node, sizeof(in->node), "unknown");
	snprintf(in->tool_version, sizeof(in->tool_version), "%s", rawcap_version());
	snprintf(in->filter, sizeof(in->filter), "%s", o->filter ? o->filter : "");
	if (o->pods) /* no schema field of its own: a selection makes the snapshot filtered */
		snprintf(in->filter + strlen(in->filter), sizeof(in->filter) - strlen(in->filter),
			 "%spods: %s", in->filter[0] ? "; " : "",
			 o->pods_text ? o->pods_text : "selected");
	in->created_ns = rawcap_now_ns();
	in->from_ns = r->from_ns;
	in->to_ns = r->to_ns;
	in->first_ts_ns = r->first_ts_ns;
	in->last_ts_ns = r->last_ts_ns;
	in->records = s->records; /* the window's, and the metadata of a pod lookback */
	in->synthesised = s->synthesised;
	in->exact_records = true;
	in->packets = r->packets;
	in->packet_bytes = r->packet_bytes;
	in->lost_reader = r->lost_reader;
	in->lost_upstream = r->lost_upstream;
	/* A window that reaches before the oldest record held is partial, lost or not. */
	in->uncaptured = !recycled && r->uncaptured_to_ns > r->uncaptured_from_ns;
	in->partial = recycled || in->uncaptured;
	in->missing_from_ns = recycled ? r->missing_from_ns : r->uncaptured_from_ns;
	in->missing_to_ns = recycled ? r->missing_to_ns : r->uncaptured_to_ns;
}

/*
 * With a pod selection the join (rawcap/meta.h) sees every metadata record
 * and selects packets; the metadata of the lookback before the window is
 * copied too, so that the snapshot resolves pods when it is read later.
 */
struct snap_pods {
	struct rawcap_window_opts join; /* the join's hooks */
	struct snap_sink *s;
	const struct rawcap_window_result *res;
	int err;
};

static int snap_pods_meta(void *arg, const struct rawcap_rec *rec)
{
	struct snap_pods *p = arg;

	if (rec->ts_ns < p->res->from_ns && !p->err)
		p->err = snap_sink_record(p->s, rec);
	return p->join.meta(p->join.meta_arg, rec);
}

static bool snap_pods_select(void *arg, const struct rawcap_rec *rec, const struct rawcap_pkt *pkt)
{
	struct snap_pods *p = arg;

	return !p->join.select || p->join.select(p->join.meta_arg, rec, pkt);
}

static void snap_pods_attach(struct snap_pods *p, struct rawcap_meta_join *j,
			     struct rawcap_window_opts *wo)
{
	rawcap_meta_join_attach(j, &p->join, false);
	wo->meta = snap_pods_meta;
	wo->select = snap_pods_select;
	wo->meta_arg = p;
	wo->meta_lookback_ns = p->join.meta_lookback_ns;
}

/*
 * The room of this create, claimed in dest (snapshot_quota.c) as it grows:
 * SNAP_CLAIM_STEP before the copy, then the segment writer asks for more
 * (snap_reserve) before it writes past what is claimed, so creates and
 * downloads that run at once share the quota and each holds only what it
 * is about to write. The claim is this thread's until
 * rawcap_snapshot_create() releases it.
 */
#define SNAP_CLAIM_STEP (4ull << 20)
static _Thread_local struct snap_claim snap_create_claim = {.fd = -1};
static _Thread_local struct {
	int destfd;
	uint64_t quota;
} snap_create_room = {.destfd = -1};

/* seg_writer_opts.reserve: grow this create's claim to need_total bytes. */
static int snap_reserve(void *arg, uint64_t need_total)
{
	(void)arg;
	return snap_quota_grow(snap_create_room.destfd, snap_create_room.quota, need_total,
			       &snap_create_claim);
}

/* Copy the window into tmp/data. */
/*
 * A window that never began (nothing held was seen) failed to open its
 * source: say why in the ring's words, as every reader does ("is capd
 * running with --ring NAME?"), not as a failed copy.
 */
static void snap_copy_failed(const struct rawcap_snapshot_opts *o,
			     const struct rawcap_window_result *res, int err, char *errbuf,
			     size_t errlen)
{
	char why[320];

	if (!res->held_oldest_ns && !res->records)
		snprintf(errbuf, errlen, "cannot read ring %s: %s", o->ring ? o->ring : "default",
			 rawcap_ring_explain(o->ring, err, why, sizeof(why)));
	else
		snprintf(errbuf, errlen, "copy the window: %s", strerror(-err));
}

static int snap_copy(const struct rawcap_snapshot_opts *o, const char *datadir, uint64_t room,
		     struct snap_hasher *h, struct rawcap_window_result *res, struct snap_sink *s,
		     char *errbuf, size_t errlen)
{
	struct seg_writer_opts so = {
		.dir = datadir,
		.total_size = room,
		.gid = -1,
		/* Full segments go to disk while the next fills: the seal waits for the last. */
		.sync_retired = true,
		.retired = snap_retired,
		.retired_arg = s,
		.sealed = h ? snap_hasher_sealed : NULL,
		.sealed_arg = h,
		.sealed_wait = h ? snap_hasher_wait : NULL,
		.reserve = snap_create_claim.fd >= 0 ? snap_reserve : NULL,
		.reserved = snap_create_claim.got,
		.reserve_step = SNAP_CLAIM_STEP,
	};
	struct rawcap_window_opts wo = {
		.sz = sizeof(wo),
		.ring = o->ring,
		.storage_dir = o->storage_dir,
		.from_ns = o->from_ns,
		.to_ns = o->to_ns,
		.filter = o->filter,
		.stop = o->stop, /* checked per record, and while waiting for live data */
	};
	char why[320] = "";
	struct rawcap_sink sink = {
		.ctx = s,
		.iface = snap_sink_iface,
		.loss = snap_sink_loss,
		.record = snap_sink_record,
	};
	struct snap_pods pods = {.s = s, .res = res};
	int err, cerr;

	s->filtered = (o->filter && *o->filter) || o->pods;
	s->blocks = !s->filtered && !getenv("RAWCAP_SNAPSHOT_RECORD_PATH");
	if (o->pods)
		snap_pods_attach(&pods, o->pods, &wo);
	err = seg_writer_open(&so, &s->sw);
	if (err) {
		snprintf(errbuf, errlen, "open segment writer in %s: %s", datadir, strerror(-err));
		return err;
	}
	wo.why = why;
	wo.whylen = sizeof(why);
	err = window_run_self(&wo, &sink, res, &s->win);
	if (!err)
		err = pods.err;
	if (!err)
		err = snap_sink_finish(s);
	cerr = seg_writer_close(s->sw);
	if (!err)
		err = cerr;
	free(s->queued);
	if (o->stop && *o->stop) /* cancelled: whatever the window made of it is discarded */
		err = -ECANCELED;
	if (err == -ECANCELED)
		snprintf(errbuf, errlen, "cancelled");
	else if (err == -EINVAL && why[0])
		snprintf(errbuf, errlen, "bad filter: %s", why);
	else if ((err == -ENOSPC || err == -EDQUOT || err == -EFBIG) && !o->quota)
		snprintf(errbuf, errlen, "snapshot storage full: the window does not fit in %s: %s",
			 o->dest, strerror(-err));
	else if (err == -ENOSPC || err == -EDQUOT || err == -EFBIG)
		snprintf(errbuf, errlen,
			 "snapshot storage full: the window does not fit in the %llu "
			 "bytes the quota leaves%s",
			 (unsigned long long)room, snap_create_claim.held);
	else if (err)
		snap_copy_failed(o, res, err, errbuf, errlen);
	return err == -ENOSPC || err == -EFBIG ? -EDQUOT : err;
}

int rawcap_snapshot_usage(const char *dest, uint64_t *bytes)
{
	int fd = snap_dest_open(dest, NULL, 0); /* walked: never reap where a link leads */

	*bytes = 0;
	if (fd < 0)
		return fd;
	if (!flock(fd, LOCK_EX)) { /* what dead creates left would count for ever */
		snap_stage_reap(fd);
		flock(fd, LOCK_UN);
	}
	*bytes = snap_quota_used(fd, NULL);
	close(fd);
	return 0;
}

static int snap_check_room(int destfd, const struct rawcap_snapshot_opts *o, uint64_t *room,
			   char *errbuf, size_t errlen)
{
	struct snap_claim *c = &snap_create_claim;
	char stage[RAWCAP_SNAP_NAME_MAX + 64];
	int err;

	*room = 0;
	c->held[0] = '\0';
	if (!o->quota)
		return 0;
	snprintf(stage, sizeof(stage), SNAP_STAGE_PREFIX "%s-%d", o->name, (int)getpid());
	err = snap_quota_claim(destfd, stage, o->quota, SNAP_CLAIM_STEP, true, c);
	if (err == -EDQUOT)
		snprintf(errbuf, errlen,
			 "snapshot storage full: %llu of %llu bytes (quota) used%s; "
			 "delete snapshots first",
			 (unsigned long long)c->used, (unsigned long long)o->quota, c->held);
	else if (err)
		snprintf(errbuf, errlen, "claim room in %s: %s", o->dest, strerror(-err));
	/* The segment geometry is that of all the quota leaves, as before. */
	*room = c->used < o->quota ? o->quota - c->used : 0;
	snap_create_room.destfd = destfd;
	snap_create_room.quota = o->quota;
	return err;
}

/* Build under tmp, seal, rename. */
static int snap_build(int destfd, const char *tmp, const struct rawcap_snapshot_opts *o,
		      struct snap_manifest *m, char *errbuf, size_t errlen)
{
	struct rawcap_window_result own, *res = o->result ? o->result : &own;
	struct snap_hasher *h = NULL;
	struct snap_sink s = {0};
	char datadir[4096];
	uint64_t room;
	int tmpfd, err;

	err = snap_check_room(destfd, o, &room, errbuf, errlen);
	if (err)
		return err;
	/* Locked while it is ours (until after the rename): see snapshot_stage.c. */
	tmpfd = snap_stage_make(destfd, tmp);
	if (tmpfd < 0)
		return tmpfd;
	snprintf(datadir, sizeof(datadir), "%s/%s/data", o->dest, tmp);
	/* Without a hasher the seal hashes every file; without SHA-256 at all, stop now. */
	err = snap_hasher_start(&h);
	if (err == -ELIBACC) {
		snprintf(errbuf, errlen, "SHA-256: librawcap cannot load its OpenSSL module");
		close(tmpfd);
		return err;
	}
	err = snap_copy(o, datadir, room, h, res, &s, errbuf, errlen);
	if (err) {
		free(s.synced);
		snap_hasher_free(h);
		close(tmpfd);
		return err;
	}
	snap_fill_info(&m->info, o, res, &s);
	m->lossy = rawcap_window_report(NULL, NULL, res);
	err = snap_seal_data(tmpfd, h, &s, m);
	free(s.synced);
	snap_hasher_free(h);
	if (!err)
		err = snap_write_manifest(tmpfd, m);
	if (!err && (fsync(tmpfd) || fchmod(tmpfd, SNAP_DIR_MODE)))
		err = -errno;
	if (err) {
		close(tmpfd);
		snprintf(errbuf, errlen, "seal the snapshot: %s", strerror(-err));
		return err;
	}
	if (renameat2(destfd, tmp, destfd, o->name, RENAME_NOREPLACE)) {
		err = -errno;
		close(tmpfd);
		snprintf(errbuf, errlen, "%s",
			 err == -EEXIST ? "a snapshot of that name exists" : strerror(-err));
		return err;
	}
	close(tmpfd);
	fsync(destfd);
	return 0;
}

int rawcap_snapshot_create(const struct rawcap_snapshot_opts *given,
			   struct rawcap_snapshot_info *info, char *errbuf, size_t errlen)
{
	struct rawcap_snapshot_opts own = {0}, *o = given ? &own : NULL;
	struct safe_want dest_any = safe_want_dir(SAFE_ANY_OWNER);
	struct snap_manifest m = {0};
	char tmp[RAWCAP_SNAP_NAME_MAX + 64], why[200];
	struct stat st;
	int destfd, err;

	errbuf[0] = '\0';
	if (given && given->sz >= RAWCAP_SNAPSHOT_OPTS_SZ_V1) /* older callers: no stop */
		memcpy(&own, given, given->sz < sizeof(own) ? given->sz : sizeof(own));
	if (!o || o->sz < RAWCAP_SNAPSHOT_OPTS_SZ_V1 || !o->dest ||
	    !rawcap_snapshot_name_ok(o->name)) {
		snprintf(errbuf, errlen,
			 "invalid snapshot name (1-%d of A-Z a-z 0-9 . _ -, not "
			 "starting with . or -)",
			 RAWCAP_SNAP_NAME_MAX);
		return -EINVAL;
	}
	if (!o->from_ns || o->to_ns <= o->from_ns) {
		snprintf(errbuf, errlen, "the window needs a start before its end");
		return -EINVAL;
	}
	/* Snapshots hold packets: the destination is never open to other users. */
	destfd = safe_mkdir_open(AT_FDCWD, o->dest, 0750, &dest_any, NULL, why, sizeof(why));
	if (destfd < 0) {
		snprintf(errbuf, errlen, "%s: %s", o->dest, why);
		return destfd;
	}
	if (!fstatat(destfd, o->name, &st, AT_SYMLINK_NOFOLLOW)) {
		snprintf(errbuf, errlen, "a snapshot named %s exists", o->name);
		close(destfd);
		return -EEXIST;
	}
	snprintf(tmp, sizeof(tmp), SNAP_STAGE_PREFIX "%s-%d", o->name, (int)getpid());
	err = snap_build(destfd, tmp, o, &m, errbuf, errlen);
	snap_quota_release(destfd, &snap_create_claim);
	if (err) {
		snap_remove_tree(destfd, tmp);
		if (!errbuf[0])
			snprintf(errbuf, errlen, "%s", strerror(-err));
	} else if (info) {
		*info = m.info;
	}
	close(destfd);
	snap_manifest_free(&m);
	return err ? err : m.lossy ? 1 : 0;
}
