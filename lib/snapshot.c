// SPDX-License-Identifier: MIT
/*
 * snapshot.c - create a snapshot (rawcap/snapshot.h): run the window loop
 * with a sink that copies every kept record, in native framing, into
 * segment files (storage/seg_writer.h, no recycling, quota as its size),
 * then checksum, write the manifest, make it all read-only, fsync and
 * rename into place.
 *
 * Interfaces described from the ring's table (not by a record inside the
 * window) are written as IFACE records ahead of the record that follows,
 * carrying its sequence number, so the snapshot describes its own
 * interfaces without a sequence gap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <rawcap/meta.h>
#include <rawcap/window.h>

#include "../storage/seg_writer.h"
#include "snapshot_int.h"

#ifndef RAWCAP_HAVE_SEG_WRITER
/* storage/seg_writer.c is not in this tree yet: snapshots cannot be written. */
#define seg_writer_open(o, w)	  ((void)(o), *(w) = NULL, -ENOTSUP)
#define seg_write_record(w, h, p) ((void)(w), (void)(h), (void)(p), -ENOTSUP)
#define seg_writer_close(w)	  ((void)(w), 0)
#endif

struct snap_sink {
	struct seg_writer *sw;
	struct rawcap_iface *queued; /* descriptions still to write */
	size_t nqueued, cap;
	uint64_t next_seq; /* lowest sequence number still unused in the segments */
	int err;
};

static int snap_sink_iface(void *ctx, const struct rawcap_iface *ifc)
{
	struct snap_sink *s = ctx;

	/* Only the newest description of an interface matters before the next record. */
	for (size_t i = 0; i < s->nqueued; i++)
		if (s->queued[i].ifindex == ifc->ifindex) {
			s->queued[i] = *ifc;
			return 0;
		}
	if (s->nqueued == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct rawcap_iface *n = realloc(s->queued, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->queued = n;
		s->cap = ncap;
	}
	s->queued[s->nqueued++] = *ifc;
	return 0;
}

static int snap_sink_record(void *ctx, const struct rawcap_rec *rec)
{
	struct snap_sink *s = ctx;
	struct rawcap_rec_hdr h = {.seq = rec->seq, .ts_ns = rec->ts_ns};
	/* An IFACE record is written from the queue: its own number is free for it. */
	uint64_t top = rec->seq + (rec->type == RAWCAP_REC_IFACE);
	int err;

	/*
	 * Segment blocks need strictly increasing sequence numbers: descriptions
	 * taken from the ring's table (capd writes its IFACE records before the
	 * window) go into the unused numbers just below this record's.
	 */
	for (size_t i = 0; i < s->nqueued; i++) {
		h.len = (uint32_t)(sizeof(h) + sizeof(struct rawcap_iface));
		h.type = RAWCAP_REC_IFACE;
		if (top >= s->next_seq + s->nqueued)
			h.seq = top - s->nqueued + i;
		err = seg_write_record(s->sw, &h, &s->queued[i]);
		if (err)
			return err;
	}
	s->nqueued = 0;
	s->next_seq = rec->seq + 1;
	h.seq = rec->seq;
	if (rec->type == RAWCAP_REC_IFACE)
		return 0; /* the window already described it: written above */
	h.len = (uint32_t)sizeof(h) + rec->len;
	h.type = rec->type;
	h.flags = rec->flags;
	return seg_write_record(s->sw, &h, rec->payload);
}

/* Bytes used by regular files under fd (the snapshot storage), for the quota. */
static uint64_t snap_du(int fd)
{
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	uint64_t sum = 0;
	struct stat st;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return 0;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISREG(st.st_mode)) {
			sum += (uint64_t)st.st_blocks * 512;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (sub >= 0) {
				sum += snap_du(sub);
				close(sub);
			}
		}
	}
	closedir(d);
	return sum;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct snap_file *)a)->path, ((const struct snap_file *)b)->path);
}

/* Checksum, fsync and seal every file in tmp/data; fill m->files. */
static int snap_seal_data(int tmpfd, struct snap_manifest *m)
{
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
		int fd;

		if (de->d_name[0] == '.' || strlen(de->d_name) > 100)
			continue;
		if (m->nfiles == SNAP_MAX_FILES) {
			err = -EFBIG;
			break;
		}
		f = &m->files[m->nfiles++];
		snprintf(f->path, sizeof(f->path), "data/%.100s", de->d_name); /* length checked above */
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || fsync(fd) || fchmod(fd, 0444))
			err = -errno;
		if (fd >= 0)
			close(fd);
		if (!err)
			err = snap_sha256_file(tmpfd, f->path, f->sha256, &f->size);
		m->info.data_bytes += f->size;
	}
	if (!err && (fsync(dirfd(d)) || fchmod(dirfd(d), 0555)))
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
	fd = openat(tmpfd, SNAP_MANIFEST, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	n = write(fd, text, len);
	err = n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
	if (!err && (fsync(fd) || fchmod(fd, 0444)))
		err = -errno;
	close(fd);
	free(text);
	return err;
}

static void snap_fill_info(struct rawcap_snapshot_info *in, const struct rawcap_snapshot_opts *o,
			   const struct rawcap_window_result *r)
{
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
	in->records = r->records;
	in->packets = r->packets;
	in->packet_bytes = r->packet_bytes;
	in->lost_reader = r->lost_reader;
	in->lost_upstream = r->lost_upstream;
	in->partial = r->missing_to_ns > r->missing_from_ns;
	in->missing_from_ns = r->missing_from_ns;
	in->missing_to_ns = r->missing_to_ns;
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

/* Copy the window into tmp/data. */
static int snap_copy(const struct rawcap_snapshot_opts *o, const char *datadir, uint64_t room,
		     struct rawcap_window_result *res, char *errbuf, size_t errlen)
{
	struct seg_writer_opts so = {
		.dir = datadir,
		.total_size = room,
		.gid = -1,
	};
	struct rawcap_window_opts wo = {
		.sz = sizeof(wo),
		.ring = o->ring,
		.storage_dir = o->storage_dir,
		.from_ns = o->from_ns,
		.to_ns = o->to_ns,
		.filter = o->filter,
	};
	struct snap_sink s = {0};
	struct rawcap_sink sink = {
		.ctx = &s,
		.iface = snap_sink_iface,
		.record = snap_sink_record,
	};
	struct snap_pods pods = {.s = &s, .res = res};
	int err, cerr;

	if (o->pods)
		snap_pods_attach(&pods, o->pods, &wo);
	err = seg_writer_open(&so, &s.sw);
	if (err) {
		snprintf(errbuf, errlen, "open segment writer in %s: %s", datadir, strerror(-err));
		return err;
	}
	err = rawcap_window_run(&wo, &sink, res);
	if (!err)
		err = pods.err;
	cerr = seg_writer_close(s.sw);
	if (!err)
		err = cerr;
	free(s.queued);
	if (err == -EINVAL && res->filter_error[0])
		snprintf(errbuf, errlen, "bad filter: %s", res->filter_error);
	else if (err == -ENOSPC || err == -EDQUOT || err == -EFBIG)
		snprintf(errbuf, errlen,
			 "snapshot storage full: the window does not fit in the %llu "
			 "bytes the quota leaves",
			 (unsigned long long)room);
	else if (err)
		snprintf(errbuf, errlen, "copy the window: %s", strerror(-err));
	return err == -ENOSPC || err == -EFBIG ? -EDQUOT : err;
}

static int snap_check_room(int destfd, const struct rawcap_snapshot_opts *o, uint64_t *room,
			   char *errbuf, size_t errlen)
{
	uint64_t used;

	*room = 0;
	if (!o->quota)
		return 0;
	used = snap_du(destfd);
	if (used >= o->quota) {
		snprintf(errbuf, errlen,
			 "snapshot storage full: %llu of %llu bytes (quota) used; "
			 "delete snapshots first",
			 (unsigned long long)used, (unsigned long long)o->quota);
		return -EDQUOT;
	}
	*room = o->quota - used;
	return 0;
}

/* Build under tmp, seal, rename. */
static int snap_build(int destfd, const char *tmp, const struct rawcap_snapshot_opts *o,
		      struct snap_manifest *m, char *errbuf, size_t errlen)
{
	struct rawcap_window_result res;
	char datadir[4096];
	uint64_t room;
	int tmpfd, err;

	err = snap_check_room(destfd, o, &room, errbuf, errlen);
	if (err)
		return err;
	if (mkdirat(destfd, tmp, 0700))
		return -errno;
	snprintf(datadir, sizeof(datadir), "%s/%s/data", o->dest, tmp);
	err = snap_copy(o, datadir, room, &res, errbuf, errlen);
	if (err)
		return err;
	snap_fill_info(&m->info, o, &res);
	tmpfd = openat(destfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (tmpfd < 0)
		return -errno;
	err = snap_seal_data(tmpfd, m);
	if (!err)
		err = snap_write_manifest(tmpfd, m);
	if (!err && (fsync(tmpfd) || fchmod(tmpfd, 0555)))
		err = -errno;
	close(tmpfd);
	if (err) {
		snprintf(errbuf, errlen, "seal the snapshot: %s", strerror(-err));
		return err;
	}
	if (renameat2(destfd, tmp, destfd, o->name, RENAME_NOREPLACE)) {
		err = -errno;
		snprintf(errbuf, errlen, "%s",
			 err == -EEXIST ? "a snapshot of that name exists" : strerror(-err));
		return err;
	}
	fsync(destfd);
	return 0;
}

int rawcap_snapshot_create(const struct rawcap_snapshot_opts *o, struct rawcap_snapshot_info *info,
			   char *errbuf, size_t errlen)
{
	struct snap_manifest m = {0};
	char tmp[RAWCAP_SNAP_NAME_MAX + 64];
	struct stat st;
	int destfd, err;

	errbuf[0] = '\0';
	if (!o || o->sz < sizeof(*o) || !o->dest || !rawcap_snapshot_name_ok(o->name)) {
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
	if (mkdir(o->dest, 0750) && errno != EEXIST) {
		err = -errno;
		snprintf(errbuf, errlen, "create %s: %s", o->dest, strerror(errno));
		return err;
	}
	destfd = open(o->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (destfd < 0) {
		err = -errno;
		snprintf(errbuf, errlen, "open %s: %s", o->dest, strerror(errno));
		return err;
	}
	if (!fstatat(destfd, o->name, &st, AT_SYMLINK_NOFOLLOW)) {
		snprintf(errbuf, errlen, "a snapshot named %s exists", o->name);
		close(destfd);
		return -EEXIST;
	}
	snprintf(tmp, sizeof(tmp), ".tmp-%s-%d", o->name, (int)getpid());
	err = snap_build(destfd, tmp, o, &m, errbuf, errlen);
	if (err) {
		snap_remove_tree(destfd, tmp);
		if (!errbuf[0])
			snprintf(errbuf, errlen, "%s", strerror(-err));
	} else if (info) {
		*info = m.info;
	}
	close(destfd);
	snap_manifest_free(&m);
	return err ? err : m.info.partial ? 1 : 0;
}
