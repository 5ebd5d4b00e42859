// SPDX-License-Identifier: MIT
/*
 * snapshot_admin.c - what is done to snapshots that exist, by name: show,
 * list, delete (verify: snapshot_verify.c); the snapshot directory opened
 * for them as a create opens it (snap_dest_open); the name and path
 * helpers snapshot.c shares.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "safe_open.h"
#include "snapshot_int.h"

bool rawcap_snapshot_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > RAWCAP_SNAP_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int snap_path(const char *dest, const char *name, char *buf, size_t len)
{
	if (!dest || !rawcap_snapshot_name_ok(name))
		return -EINVAL;
	return snprintf(buf, len, "%s/%s", dest, name) < (int)len ? 0 : -ENAMETOOLONG;
}

int rawcap_snapshot_show(const char *dest, const char *name, struct rawcap_snapshot_info *info)
{
	struct snap_manifest m;
	char path[4096];
	int err = snap_path(dest, name, path, sizeof(path));

	if (err)
		return err;
	err = snap_manifest_load(path, &m);
	if (err)
		return err;
	*info = m.info;
	snap_manifest_free(&m);
	return 0;
}

int rawcap_snapshot_manifest_text(const char *dest, const char *name, char **out)
{
	struct snap_manifest m;
	char path[4096];
	size_t len;
	int err = snap_path(dest, name, path, sizeof(path));

	if (err)
		return err;
	err = snap_manifest_load(path, &m); /* parse first: never echo something malformed */
	if (err)
		return err;
	err = snap_manifest_render(&m, out, &len);
	snap_manifest_free(&m);
	return err;
}

int snap_remove_tree(int parent_fd, const char *name)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP
			       ? (unlinkat(parent_fd, name, 0) ? -errno : 0)
			       : -errno;
	fchmod(fd, 0700);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			err = snap_remove_tree(dirfd(d), de->d_name);
		else if (unlinkat(dirfd(d), de->d_name, 0))
			err = -errno;
		if (err)
			break;
	}
	closedir(d);
	if (!err && unlinkat(parent_fd, name, AT_REMOVEDIR))
		err = -errno;
	return err;
}

/*
 * Only a snapshot is deleted: a directory (not a link) holding a regular
 * manifest.json. Whatever else a name or a path points at is left alone.
 */
static int snap_is_snapshot(int dfd, const char *name)
{
	char manifest[RAWCAP_SNAP_NAME_MAX + sizeof("/" SNAP_MANIFEST)];
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -EMEDIUMTYPE;
	snprintf(manifest, sizeof(manifest), "%s/%s", name, SNAP_MANIFEST);
	if (fstatat(dfd, manifest, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? -EMEDIUMTYPE : -errno;
	return S_ISREG(st.st_mode) ? 0 : -EMEDIUMTYPE;
}

int snap_dest_open(const char *dest, char *why, size_t whylen)
{
	return dest ? safe_dir_open(dest, NULL, why, whylen) : -EINVAL;
}

int rawcap_snapshot_delete_why(const char *dest, const char *name, char *why, size_t whylen)
{
	int dfd, err;

	if (why && whylen)
		why[0] = '\0';
	if (!rawcap_snapshot_name_ok(name))
		return -EINVAL;
	dfd = snap_dest_open(dest, why, whylen);
	if (dfd < 0)
		return dfd;
	if ((err = snap_is_snapshot(dfd, name))) {
		close(dfd);
		return err;
	}
	err = snap_stage_discard(dfd, name);
	if (!err)
		fsync(dfd);
	close(dfd);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rawcap_snapshot_list_why(const char *dest, char ***names, size_t *n, char *why, size_t whylen)
{
	int fd;
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	*names = NULL;
	*n = 0;
	if (why && whylen)
		why[0] = '\0';
	fd = snap_dest_open(dest, why, whylen);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int err = fd < 0 ? fd : -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	while ((de = readdir(d))) {
		if (!rawcap_snapshot_name_ok(de->d_name))
			continue; /* skips ".", "..", ".tmp-*" and ".del-*" */
		if (cnt == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[cnt] = strdup(de->d_name)))
			goto nomem;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	rawcap_snapshot_list_free(v, cnt);
	return -ENOMEM;
}

/* RAWCAP_0.1's signatures, kept for programs built against them. */
int rawcap_snapshot_delete(const char *dest, const char *name)
{
	return rawcap_snapshot_delete_why(dest, name, NULL, 0);
}

int rawcap_snapshot_list(const char *dest, char ***names, size_t *n)
{
	return rawcap_snapshot_list_why(dest, names, n, NULL, 0);
}

void rawcap_snapshot_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
