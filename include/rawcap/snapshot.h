/* SPDX-License-Identifier: MIT */
/*
 * rawcap/snapshot.h - snapshots: a time window of a node's records copied
 * out of the ring and disk FIFO into snapshot storage, with a manifest, and
 * made read-only, so that it outlives the FIFO recycling it.
 *
 * Layout: DEST/<name>/manifest.json and DEST/<name>/data/ (segment files in
 * the disk FIFO's format, native record framing, so metadata survives). The
 * directory is built under a temporary name, fsynced, made read-only (files
 * 0444, directories 0555) and renamed into place: a crash leaves at most a
 * ".tmp-" directory, never a half snapshot under a real name.
 *
 * Read one back with rawcap_open_opts(.snapshot = DEST/<name>) or the window
 * loop (rawcap/window.h, .snapshot).
 */
#ifndef RAWCAP_SNAPSHOT_H
#define RAWCAP_SNAPSHOT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/rawcap.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAWCAP_SNAP_NAME_MAX 100
/*
 * Why the start of a window is missing (a manifest's and the node API's
 * "missing_reason"), and the uncaptured case in words: one spelling for
 * every reader, the server and the manifest.
 */
#define RAWCAP_MISSING_UNCAPTURED "before capture"
#define RAWCAP_MISSING_RECYCLED	  "recycled"
#define RAWCAP_UNCAPTURED_WORDS	  "before capture began (nothing was lost)"

struct rawcap_meta_join;

struct rawcap_snapshot_info {
	char name[RAWCAP_SNAP_NAME_MAX + 1];
	char node[256];
	char tool_version[32];
	char filter[1024]; /* "" when unfiltered */
	uint64_t created_ns;
	uint64_t from_ns, to_ns;	  /* the window asked for */
	uint64_t first_ts_ns, last_ts_ns; /* of the records it holds */
	uint64_t records, packets, packet_bytes, data_bytes;
	uint64_t lost_reader, lost_upstream;
	/*
	 * The snapshot does not cover its whole window: the part before the
	 * oldest record held when it was made (missing_*) was recycled before
	 * the copy (lost), or, when uncaptured, lies before capture began
	 * (nothing existed to copy).
	 */
	bool partial;
	uint64_t missing_from_ns, missing_to_ns;
	uint64_t files;
	bool uncaptured;
	/*
	 * Synthesised records (RAWCAP_REC_F_SYNTH) in data/; when exact_records,
	 * records counts exactly the other records there (older snapshots
	 * counted the window's records only).
	 */
	uint64_t synthesised;
	bool exact_records;
};

struct rawcap_snapshot_opts {
	size_t sz;		 /* sizeof(struct rawcap_snapshot_opts) */
	const char *ring;	 /* NULL: "default" */
	const char *storage_dir; /* disk FIFO to copy history from, or NULL */
	const char *dest;	 /* snapshot storage directory */
	const char *name;	 /* validated: rawcap_snapshot_name_ok() */
	const char *node;	 /* NULL: the host name */
	uint64_t from_ns, to_ns;
	const char *filter; /* keep only packets matching, or NULL */
	uint64_t quota;	    /* bytes all snapshots in dest may use; 0: unlimited */
	/*
	 * Keep only packets to or from the pods it selects (rawcap/meta.h), or
	 * NULL. The metadata of the window and of the lookback before it is
	 * kept whole, so the snapshot can resolve pods when read later.
	 */
	struct rawcap_meta_join *pods;
	const char *pods_text; /* the selection as given (e.g. "--pod web-a"), for the manifest */
	/* If set, receives the copy's window result (for rawcap_window_report()). */
	struct rawcap_window_result *result;
	/*
	 * Appended (sz tells whether a caller has it; older callers get NULL).
	 * Cancel: once *stop is set (from a signal handler or another thread),
	 * the create stops at the next record or block, or within the window
	 * loop's flush interval while it waits for live data, removes its
	 * staging directory and returns -ECANCELED.
	 */
	volatile sig_atomic_t *stop;
};
/* The size of the options before stop was appended: still accepted. */
#define RAWCAP_SNAPSHOT_OPTS_SZ_V1 offsetof(struct rawcap_snapshot_opts, stop)

/* A name is 1..100 of [A-Za-z0-9._-], not starting with '.' or '-'. */
RAWCAP_API bool rawcap_snapshot_name_ok(const char *name);
/* The same rule, for error messages. */
#define RAWCAP_SNAPSHOT_NAME_RULE "1-100 of A-Z a-z 0-9 . _ -, not starting with . or -"

struct rawcap_window_result;

/*
 * Create a snapshot. Returns 0 (complete: it holds everything captured in
 * its window, though info->partial may say the window reaches before capture
 * began), 1 (created, but records of the window were lost: recycled before
 * the copy, or missed or damaged while copying), or a negative errno: -EEXIST (name
 * taken), -EDQUOT (quota would be exceeded), -EINVAL (bad name or filter),
 * -ENOTSUP (no segment writer in this build), -ECANCELED (o->stop was set;
 * nothing is left behind), or what opening the source failed with.
 * errbuf receives a one-line explanation on failure.
 */
RAWCAP_API int rawcap_snapshot_create(const struct rawcap_snapshot_opts *o,
				      struct rawcap_snapshot_info *info, char *errbuf,
				      size_t errlen);
/*
 * Read the manifest of dest/name. dest/name is walked as a create walks
 * dest (-EPERM for a link or directory another user may have planted).
 */
RAWCAP_API int rawcap_snapshot_show(const char *dest, const char *name,
				    struct rawcap_snapshot_info *info);
/* Manifest text of dest/name, malloc'd (for `show`); walked as in show. */
RAWCAP_API int rawcap_snapshot_manifest_text(const char *dest, const char *name, char **out);
/*
 * Check every file's size and SHA-256 against the manifest, that no file was
 * added, and that the records parse (every block intact) and add up to the
 * manifest's record and packet counts. 0 if intact, -EBADMSG if not (first
 * problem in errbuf). dest is walked as rawcap_snapshot_delete() walks it:
 * a refusal is -EPERM with its reason in errbuf.
 */
RAWCAP_API int rawcap_snapshot_verify(const char *dest, const char *name, char *errbuf,
				      size_t errlen);
/*
 * Bytes the snapshot storage dest uses (allocated blocks of its files, as
 * rawcap_snapshot_opts.quota counts them), after removing the staging
 * directories of creates that died (this user's, whose PID no longer runs).
 * 0 or -errno from opening dest, walked as a create walks it (-EPERM: see
 * rawcap_snapshot_delete()).
 */
RAWCAP_API int rawcap_snapshot_usage(const char *dest, uint64_t *bytes);
/*
 * Delete the snapshot dest/name (makes it writable first). Only a snapshot:
 * -EMEDIUMTYPE when dest/name is not a directory holding a manifest.json
 * (nothing is touched), -ENOENT when it does not exist, -EINVAL for a bad name.
 * dest is walked as a create walks it: -EPERM when a link or directory
 * another user may have planted is on the way or is dest itself.
 * Since RAWCAP_0.2, rawcap_snapshot_delete_why() also says which and whose
 * in why (may be NULL; else "" when there is no reason to give).
 */
RAWCAP_API int rawcap_snapshot_delete(const char *dest, const char *name);
RAWCAP_API int rawcap_snapshot_delete_why(const char *dest, const char *name, char *why,
					  size_t whylen);
/*
 * Names of the snapshots in dest, sorted; free with rawcap_snapshot_list_free.
 * dest is walked as rawcap_snapshot_delete() walks it; since RAWCAP_0.2,
 * rawcap_snapshot_list_why() gives the reason of a refusal in why as
 * rawcap_snapshot_delete_why() does.
 */
RAWCAP_API int rawcap_snapshot_list(const char *dest, char ***names, size_t *n);
RAWCAP_API int rawcap_snapshot_list_why(const char *dest, char ***names, size_t *n, char *why,
					size_t whylen);
RAWCAP_API void rawcap_snapshot_list_free(char **names, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_SNAPSHOT_H */
