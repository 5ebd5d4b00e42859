/* SPDX-License-Identifier: MIT */
/*
 * safe_open.h - open what rawcap finds on disk by name without trusting it:
 * segment files, the storage and snapshot directories, manifests, lock and
 * output files. Used by capd (storage/), librawcap (history, snapshots,
 * output files) alike, so every open by name applies the same checks:
 *
 *  - O_NOFOLLOW: a symbolic link is refused (-ELOOP), never followed;
 *  - O_NONBLOCK for read-only and write-only opens, cleared once the object
 *    is known to be a regular file: a FIFO named like a file cannot block
 *    the open (read-write opens of a FIFO never block);
 *  - O_CLOEXEC and O_NOCTTY;
 *  - fstat after the open, never stat then open: the object checked is the
 *    object used. Wrong type: -EISDIR (a directory where a file is wanted),
 *    -ENOTDIR (anything else where a directory is wanted), -EBADFD (a FIFO,
 *    socket or device where a file is wanted); wrong owner: -EPERM; a
 *    regular file larger than allowed: -EFBIG.
 *
 * Every failure also fills `why` (if not NULL) with what the object is, e.g.
 * "a FIFO, not a regular file" or "owned by uid 65534, not 0 or 64720", so
 * the caller can print one line naming the path.
 */
#ifndef RAWCAP_SAFE_OPEN_H
#define RAWCAP_SAFE_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SAFE_ANY_OWNER ((uid_t)-1)

/* What the object opened must be. */
struct safe_want {
	mode_t type;	   /* S_IFREG or S_IFDIR */
	uid_t owner[2];	   /* accepted owners; owner[0] == SAFE_ANY_OWNER accepts any */
	uint64_t max_size; /* regular files: a larger one is refused; 0 = no limit */
};

/* A regular file owned by root or by uid (the directory's owner, capd's user). */
static inline struct safe_want safe_want_file(uid_t uid, uint64_t max_size)
{
	return (struct safe_want){.type = S_IFREG, .owner = {0, uid}, .max_size = max_size};
}

/* A directory owned by root or by uid; uid SAFE_ANY_OWNER accepts any owner. */
static inline struct safe_want safe_want_dir(uid_t uid)
{
	return (struct safe_want){.type = S_IFDIR, .owner = {uid == SAFE_ANY_OWNER ? uid : 0, uid}};
}

/*
 * openat(dirfd, name, flags, mode) with the checks above. flags: the access
 * mode plus O_CREAT, O_EXCL, O_TRUNC, O_DIRECT as needed (O_DIRECTORY is
 * added for a directory). Returns the fd (its stat in *st if not NULL) or
 * -errno.
 */
int safe_openat(int dirfd, const char *name, int flags, mode_t mode, const struct safe_want *want,
		struct stat *st, char *why, size_t whylen);

/*
 * The directory that holds path's last component, reached without trusting
 * what others could have planted on the way (the path policy of
 * docs/ARCHITECTURE.md): component by component from the working directory
 * (or "/"), a symbolic link is followed only if root, this user or its
 * directory's owner owns it, and a directory entered from one that users
 * other than its owner may write (group or other w, sticky or not) only if
 * root, this user or that directory's owner owns it, or (a team's setgid
 * directory that only its group may write) its group is the directory's
 * group; else -EPERM, why
 * naming it. A link's target is walked by the same
 * rules (at most 40 links: -ELOOP). "/x/dir/" names "dir". Returns an O_PATH
 * fd of the directory (for the *at calls) with the last component in leaf
 * (at least NAME_MAX + 1 bytes), or -errno.
 */
int safe_path_parent(const char *path, char *leaf, size_t leaflen, char *why, size_t whylen);

/*
 * Open the directory path names, for reading or deleting in (a snapshot
 * directory's list, verify, delete): its parent reached by
 * safe_path_parent's walk, and the directory itself held to the walk's rule
 * for a directory on the way (as safe_mkdir_open holds it): in a directory
 * users other than its owner may write, it must be root's, this user's or
 * that directory owner's (-EPERM, why naming its owner). Returns an
 * O_RDONLY fd (its stat in *st if not NULL) or -errno.
 */
int safe_dir_open(const char *path, struct stat *st, char *why, size_t whylen);

/*
 * Create the directory (mode) if missing, else open it, for writing into:
 * refused if it is not a directory or its owner is not one of want's, or
 * if it is a directory another user may have planted (safe_dir_open's
 * rule; want's owner trusted too); if
 * "other" has any access, it is tightened (o-rwx) when this process may
 * change its mode, and refused (-EPERM) otherwise. A path (AT_FDCWD and a
 * name with a '/') is walked by safe_path_parent's rules first. Returns the
 * fd or -errno.
 */
int safe_mkdir_open(int dirfd, const char *name, mode_t mode, const struct safe_want *want,
		    struct stat *st, char *why, size_t whylen);

/*
 * Read a small text file whole through safe_openat (want: a regular file,
 * its max_size below cap): into buf, NUL terminated. Returns its length, or
 * -errno as safe_openat, -EINVAL when it holds a NUL byte.
 */
ssize_t safe_read_text(int dirfd, const char *name, const struct safe_want *want, char *buf,
		       size_t cap, char *why, size_t whylen);

/*
 * Replace dir/name with len bytes of text, whole or not at all: a temporary
 * file in dir (mode 0640), fsync'd first when durable, renamed over name.
 * Returns 0 or -errno (-ENAMETOOLONG for a path over PATH_MAX).
 */
int safe_replace_text(const char *dir, const char *name, const char *text, size_t len,
		      bool durable);

/*
 * Read a small file a user named (an option or a variable: a config file, a
 * token, a TLS certificate, key or CA, credentials) whole. The path is taken
 * as given, links included (Kubernetes mounts Secrets as links), but what it
 * names must be a regular file of at most max bytes: a FIFO, socket or
 * device is refused (-EBADFD) without blocking on it, a larger file -EFBIG,
 * as is one that grows past max while read. Returns 0 with the text in *out
 * (malloc'd, NUL terminated; its length in *len if not NULL), or -errno with
 * why filled ("a FIFO, not a regular file", ...). The caller names the path.
 */
int safe_read_named(const char *path, size_t max, char **out, size_t *len, char *why,
		    size_t whylen);

/* "a FIFO", "a directory", ... for a st_mode. */
const char *safe_type_name(mode_t mode);

#endif
