/* SPDX-License-Identifier: MIT */
/*
 * snapshot_int.h - a snapshot's manifest in memory, and the functions of
 * librawcap that read and write it (snapshot_manifest.c). The window loop
 * uses it to learn whether a snapshot was filtered or partial.
 */
#ifndef RAWCAP_LIB_SNAPSHOT_INT_H
#define RAWCAP_LIB_SNAPSHOT_INT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/snapshot.h>

#define SNAP_MANIFEST	  "manifest.json"
#define SNAP_FORMAT	  "rawcap-snapshot/1"
#define SNAP_MAX_FILES	  4096
#define SNAP_MANIFEST_MAX (4u << 20) /* refuse larger manifests */
/* Sealed: read-only, and like every copy of packets never readable by "other". */
#define SNAP_FILE_MODE 0440
#define SNAP_DIR_MODE  0550

struct snap_file {
	char path[128]; /* relative to the snapshot directory, e.g. "data/seg-000000" */
	uint64_t size;
	char sha256[65];
};

struct snap_manifest {
	struct rawcap_snapshot_info info;
	struct snap_file *files;
	size_t nfiles;
	bool lossy; /* while creating: records of the window were lost (not in the file) */
};

/* Parse a manifest from text (len bytes, need not be NUL terminated). -EBADMSG on anything odd. */
int snap_manifest_parse(const char *text, size_t len, struct snap_manifest *m);
/* Read and parse DIR/manifest.json (neither a link; errors as storage/safe_open.h). */
int snap_manifest_load(const char *dir, struct snap_manifest *m);
/* The same for atfd's entry dir (a snapshot in a directory already open). */
int snap_manifest_loadat(int atfd, const char *dir, struct snap_manifest *m);
/* Render as JSON into a malloc'd string. */
int snap_manifest_render(const struct snap_manifest *m, char **out, size_t *len);
void snap_manifest_free(struct snap_manifest *m);

/*
 * SHA-256 of the file at dirfd/path ("data/NAME": no link, no FIFO, the
 * directory owner's) as 64 hex digits; *size gets its length. A file larger
 * than max_size (0: no limit) is refused before reading (-EFBIG); why says
 * what was wrong with the file.
 */
int snap_sha256_file(int dirfd, const char *path, uint64_t max_size, char hex[65], uint64_t *size,
		     char *why, size_t whylen);
/*
 * SHA-256 of the segments as the writer submits them (snapshot_hash.c), on
 * a thread of its own (RAWCAP_SNAPSHOT_HASH_INLINE in the environment: in
 * the writer's thread): sealed is the segment writer's
 * seg_writer_opts.sealed callback; take
 * fills f->sha256 and f->size when segment seg_no was hashed in full and
 * its length is size, the file's (false: hash the file).
 */
struct snap_hasher;
int snap_hasher_start(struct snap_hasher **out);
void snap_hasher_sealed(void *arg, uint64_t seg_no, uint64_t off, const void *buf, size_t len);
/* seg_writer_opts.sealed_wait: return once buf (NULL: every buffer) is hashed. */
void snap_hasher_wait(void *arg, const void *buf);
bool snap_hasher_take(struct snap_hasher *h, uint64_t seg_no, uint64_t size, struct snap_file *f);
void snap_hasher_free(struct snap_hasher *h);
/* Join dest and name into buf, checking the name. */
int snap_path(const char *dest, const char *name, char *buf, size_t len);
/*
 * The snapshot directory dest opened for a list, verify or delete: walked
 * as a create walks it (safe_dir_open); -errno, why saying what was refused.
 */
int snap_dest_open(const char *dest, char *why, size_t whylen);
/* Remove a directory tree we own (making it writable first); never follows symlinks. */
int snap_remove_tree(int parent_fd, const char *name);
/* A directory stream of fd's directory from its start, with its own offset (fd left
 * open, its offset untouched); NULL if none. */
DIR *snap_dir_stream(int fd);

/*
 * Staging directories (snapshot_stage.c): snap_stage_make() reaps what dead
 * creates and deletes left, makes DEST/stage and returns its fd,
 * flock(LOCK_SH)ed while open (keep it open until the stage is renamed or
 * removed), or -errno. snap_stage_reap() removes dead creates' and
 * downloads' staging (.tmp-NAME-PID, .dl-NAME-PID) and dead deletes'
 * leftovers (.del-NAME-PID); call it with
 * destfd flock(LOCK_EX)ed. snap_stage_discard() deletes DEST/name: renamed
 * to .del-NAME-PID, flock(LOCK_SH)ed from before the rename, then removed.
 */
#define SNAP_STAGE_PREFIX ".tmp-"
#define SNAP_DEL_PREFIX	  ".del-"
#define SNAP_DL_PREFIX	  ".dl-" /* an object storage download's staging (s3_download.c) */
int snap_stage_make(int destfd, const char *stage);
void snap_stage_reap(int destfd);
int snap_stage_discard(int destfd, const char *name);

/* Bytes used by regular files under the directory fd (allocated blocks). */
uint64_t snap_du(int fd);
/*
 * Quota claims (snapshot_quota.c): the room a create or a download holds in
 * the snapshot directory destfd while it writes STAGE there, visible to every
 * process. snap_quota_claim() takes need bytes (0: all that is left) if
 * they fit under quota (at_most: as much of need as is left, if any), else
 * -EDQUOT; either way used and claimed say what
 * it found. snap_quota_used() is the usage the quota counts: blocks, plus
 * live claims beyond what their staging directories hold (*claimed: the
 * claims' total, may be NULL).
 */
struct snap_claim {
	int fd;		  /* -1: none held */
	uint64_t used;	  /* the directory's usage before this claim */
	uint64_t claimed; /* of which: claims of writers in progress */
	uint64_t got;	  /* bytes claimed */
	char held[112];	  /* on -EDQUOT: " (N bytes held by ...)" when others hold some, else "" */
	char name[RAWCAP_SNAP_NAME_MAX + 96];
};
int snap_quota_claim(int destfd, const char *stage, uint64_t quota, uint64_t need, bool at_most,
		     struct snap_claim *c);
/* Grow a held claim to total bytes if that fits under quota, else -EDQUOT (held: by whom). */
int snap_quota_grow(int destfd, uint64_t quota, uint64_t total, struct snap_claim *c);
void snap_quota_release(int destfd, struct snap_claim *c);
uint64_t snap_quota_used(int destfd, uint64_t *claimed);

#endif
