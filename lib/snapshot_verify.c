// SPDX-License-Identifier: MIT
/*
 * snapshot_verify.c - is a snapshot what its manifest says? Every file's
 * size and SHA-256 against the manifest (snap_sha256_file, shared with the
 * create's fallback hashing), no file it does not list, every block intact
 * and the records adding up to its counts (rawcap_snapshot_verify).
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
#include "history.h"
#include "sha256.h"
#include "snapshot_int.h"

/* Open path ("NAME" or "DIR/NAME", neither a link) as a file of the directory's owner or root. */
static int snap_open_file(int dirfd, const char *path, uint64_t max_size, char *why, size_t len)
{
	struct safe_want want = safe_want_dir(SAFE_ANY_OWNER);
	const char *slash = strchr(path, '/');
	int dfd = dirfd, fd;
	char sub[128];
	struct stat st;

	if (slash) {
		if ((size_t)(slash - path) >= sizeof(sub))
			return -ENAMETOOLONG;
		memcpy(sub, path, (size_t)(slash - path));
		sub[slash - path] = '\0';
		dfd = safe_openat(dirfd, sub, O_RDONLY, 0, &want, &st, why, len);
		if (dfd < 0)
			return dfd;
	} else if (fstat(dirfd, &st)) {
		return -errno;
	}
	want = safe_want_file(st.st_uid, max_size);
	fd = safe_openat(dfd, slash ? slash + 1 : path, O_RDONLY, 0, &want, NULL, why, len);
	if (slash)
		close(dfd);
	return fd;
}

/*
 * Read in pieces that stay in the L2 cache between read() and the hash, and
 * below malloc's mmap threshold, so the buffer is not faulted in afresh per
 * file: 64 KiB hashed 264 MiB 15-20% faster than 1 MiB pieces, and mmap of the
 * file (with or without MAP_POPULATE) was 1.6-2x slower (a loaded 2-core VM).
 */
#define SNAP_HASH_BUF (64u << 10)

int snap_sha256_file(int dirfd, const char *path, uint64_t max_size, char hex[65], uint64_t *size,
		     char *why, size_t whylen)
{
	static const char digits[] = "0123456789abcdef";
	struct rawcap_sha256 *sha = NULL;
	uint8_t md[32], *buf;
	uint64_t total = 0;
	int fd, err = 0;
	ssize_t n;

	fd = snap_open_file(dirfd, path, max_size, why, whylen);
	if (fd < 0)
		return fd;
	buf = malloc(SNAP_HASH_BUF);
	err = buf ? rawcap_sha256_new(&sha) : -ENOMEM;
	if (err || !rawcap_sha256_init(sha)) {
		err = err ? err : -ENOMEM;
		goto out;
	}
	while ((n = read(fd, buf, SNAP_HASH_BUF)) > 0) {
		rawcap_sha256_update(sha, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (n < 0) {
		err = -errno;
		goto out;
	}
	if (!rawcap_sha256_final(sha, md)) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	*size = total;
out:
	rawcap_sha256_free(sha);
	free(buf);
	close(fd);
	return err;
}

/* Any file in data/ that the manifest does not list? */
static int verify_no_extra(int snapfd, const struct snap_manifest *m, char *errbuf, size_t errlen)
{
	int fd = openat(snapfd, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (!err && (de = readdir(d))) {
		char rel[300];
		size_t i;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(rel, sizeof(rel), "data/%s", de->d_name);
		for (i = 0; i < m->nfiles && strcmp(m->files[i].path, rel); i++)
			;
		if (i == m->nfiles) {
			snprintf(errbuf, errlen, "%s: not listed in the manifest", rel);
			err = -EBADMSG;
		}
	}
	closedir(d);
	return err;
}

/* A manifest path must be data/<plain name>: never let it point outside. */
static bool verify_path_ok(const char *p)
{
	return !strncmp(p, "data/", 5) && p[5] && p[5] != '.' && !strchr(p + 5, '/');
}

/*
 * Read every record back as an export would: a damaged block, or counts that
 * differ from the manifest's, means the snapshot does not hold what it says
 * (hashes only prove the files are the ones written).
 */
static int verify_records(int snapfd, const struct snap_manifest *m, char *errbuf, size_t errlen)
{
	const struct rawcap_snapshot_info *in = &m->info;
	uint64_t records = 0, packets = 0, synth = 0, blocks, lost;
	struct history *h;
	struct rawcap_rec rec;
	int ret;

	ret = history_openat(snapfd, "data", &h);
	if (ret) {
		snprintf(errbuf, errlen, "data: %s", strerror(-ret));
		return -EBADMSG;
	}
	history_set_sealed(h, true);
	ret = history_seek(h, RAWCAP_SEEK_OLDEST, 0);
	while (ret == 0 && (ret = history_next(h, &rec, NULL)) > 0) {
		ret = 0;
		if ((rec.flags & RAWCAP_REC_F_SYNTH) &&
		    (rec.type == RAWCAP_REC_IFACE || rec.type == RAWCAP_REC_LOSS))
			synth++;
		else
			records++;
		packets += rec.type == RAWCAP_REC_PACKET;
	}
	history_damage(h, &blocks, &lost);
	history_close(h);
	if (ret < 0 && ret != -ENOENT) {
		snprintf(errbuf, errlen, "data: %s", strerror(-ret));
		return -EBADMSG;
	}
	if (blocks)
		snprintf(errbuf, errlen, "data: %llu damaged blocks (%llu records)",
			 (unsigned long long)blocks, (unsigned long long)lost);
	else if (packets != in->packets)
		snprintf(errbuf, errlen, "data holds %llu packets, manifest says %llu",
			 (unsigned long long)packets, (unsigned long long)in->packets);
	else if (in->exact_records && (records != in->records || synth != in->synthesised))
		snprintf(errbuf, errlen,
			 "data holds %llu records (+%llu synthesised), manifest says "
			 "%llu (+%llu)",
			 (unsigned long long)records, (unsigned long long)synth,
			 (unsigned long long)in->records, (unsigned long long)in->synthesised);
	else
		return 0;
	return -EBADMSG;
}

/* Every file the manifest lists: size and SHA-256; their total against the manifest's. */
static int verify_files(int fd, const struct snap_manifest *m, char *errbuf, size_t errlen)
{
	char hex[65], why[160];
	uint64_t size, total = 0;
	int err = 0;

	for (size_t i = 0; i < m->nfiles && !err; i++) {
		const struct snap_file *f = &m->files[i];

		if (!verify_path_ok(f->path)) {
			snprintf(errbuf, errlen, "%s: bad path in the manifest", f->path);
			err = -EBADMSG;
		} else if ((err = snap_sha256_file(fd, f->path, f->size, hex, &size, why,
						   sizeof(why)))) {
			/* Never read a file larger than the manifest says: stops at its fstat. */
			snprintf(errbuf, errlen, "%s: %s", f->path, why);
			err = -EBADMSG;
		} else if (size != f->size) {
			snprintf(errbuf, errlen, "%s: size %llu, manifest says %llu", f->path,
				 (unsigned long long)size, (unsigned long long)f->size);
			err = -EBADMSG;
		} else if (strcmp(hex, f->sha256)) {
			snprintf(errbuf, errlen, "%s: SHA-256 mismatch (content changed)", f->path);
			err = -EBADMSG;
		}
		total += size;
	}
	if (!err && total != m->info.data_bytes) {
		snprintf(errbuf, errlen, "data holds %llu bytes, manifest says %llu",
			 (unsigned long long)total, (unsigned long long)m->info.data_bytes);
		err = -EBADMSG;
	}
	return err;
}

int rawcap_snapshot_verify(const char *dest, const char *name, char *errbuf, size_t errlen)
{
	struct safe_want dir_any = safe_want_dir(SAFE_ANY_OWNER);
	struct snap_manifest m;
	int dfd, fd, err;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!rawcap_snapshot_name_ok(name))
		return -EINVAL;
	dfd = snap_dest_open(dest, errbuf, errlen); /* walked as a create walks it */
	if (dfd < 0)
		return dfd;
	err = snap_manifest_loadat(dfd, name, &m);
	if (err) {
		snprintf(errbuf, errlen, "manifest.json: %s",
			 err == -EBADMSG ? "malformed" : rawcap_strerror(err));
		close(dfd);
		return err == -ENOENT ? err : -EBADMSG;
	}
	fd = safe_openat(dfd, name, O_RDONLY, 0, &dir_any, NULL, errbuf, errlen);
	close(dfd);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = verify_files(fd, &m, errbuf, errlen);
	if (!err)
		err = verify_no_extra(fd, &m, errbuf, errlen);
	if (!err)
		err = verify_records(fd, &m, errbuf, errlen);
	close(fd);
out:
	snap_manifest_free(&m);
	return err;
}
