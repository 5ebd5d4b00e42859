// SPDX-License-Identifier: MIT
/*
 * cgroup_id.c - resolve cgroup ids seen by the BPF programs to cgroup paths
 * and container ids, with a small open-addressing cache rebuilt by walking
 * the cgroup2 tree (rate limited: an id of a cgroup that is already gone must
 * not make us walk the tree for every event).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cgroup_id.h"
#include "ebpf_probe.h"

#define CG_MAX_DEPTH 32
#define CG_RESCAN_NS 1000000000ull
#define PATH_MAX_REL 4096

struct cgroup_cache {
	char root[256];
	struct cgroup_info *slots;
	size_t cap, used;
	uint64_t last_scan_ns;
};

int cgroup_id_of(int dirfd, const char *name, uint64_t *id)
{
	struct {
		struct file_handle fh;
		unsigned char buf[64];
	} h;
	int mount_id;

	h.fh.handle_bytes = sizeof(h.buf);
	if (name_to_handle_at(dirfd, name, &h.fh, &mount_id, 0))
		return -errno;
	if (h.fh.handle_bytes < sizeof(*id))
		return -EINVAL;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

static bool is_hex64(const char *s)
{
	for (int i = 0; i < CGROUP_CID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Try "<prefix><64hex><suffix>" at component c (suffix must end the component). */
static bool match(const char *c, size_t clen, const char *prefix, const char *suffix, char *out)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	if (clen != pl + CGROUP_CID_LEN + sl || strncmp(c, prefix, pl) ||
	    strncmp(c + pl + CGROUP_CID_LEN, suffix, sl) || !is_hex64(c + pl))
		return false;
	memcpy(out, c + pl, CGROUP_CID_LEN);
	out[CGROUP_CID_LEN] = '\0';
	return true;
}

const char *cgroup_container_id(const char *path, char out[CGROUP_CID_LEN + 1])
{
	const char *runtime = NULL, *c = path, *prev = "";
	size_t prevlen = 0;

	out[0] = '\0';
	while (*c) {
		const char *e;
		size_t len;

		while (*c == '/')
			c++;
		e = strchrnul(c, '/');
		len = (size_t)(e - c);
		if (match(c, len, "cri-containerd-", ".scope", out))
			runtime = "containerd";
		else if (match(c, len, "crio-", ".scope", out))
			runtime = "cri-o";
		else if (match(c, len, "docker-", ".scope", out))
			runtime = "docker";
		else if (prevlen == 6 && !strncmp(prev, "docker", 6) && match(c, len, "", "", out))
			runtime = "docker";
		prev = c;
		prevlen = len;
		c = e;
	}
	return runtime;
}

static struct cgroup_info *cc_slot(struct cgroup_info *slots, size_t cap, uint64_t id)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull) & (cap - 1);

	while (slots[i].id && slots[i].id != id)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int cc_grow(struct cgroup_cache *cc)
{
	size_t cap = cc->cap ? cc->cap * 2 : 256;
	struct cgroup_info *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < cc->cap; i++)
		if (cc->slots[i].id)
			*cc_slot(slots, cap, cc->slots[i].id) = cc->slots[i];
	free(cc->slots);
	cc->slots = slots;
	cc->cap = cap;
	return 0;
}

static void cc_add(struct cgroup_cache *cc, uint64_t id, const char *rel)
{
	struct cgroup_info *s;

	if ((cc->used + 1) * 2 > cc->cap && cc_grow(cc))
		return;
	s = cc_slot(cc->slots, cc->cap, id);
	if (s->id)
		return;
	s->path = strdup(rel);
	if (!s->path)
		return;
	s->id = id;
	s->runtime = cgroup_container_id(rel, s->container_id);
	cc->used++;
}

static void cc_walk(struct cgroup_cache *cc, int fd, char *rel, size_t rlen, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		uint64_t id = 0;
		size_t n;
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		n = strlen(de->d_name);
		if (rlen + 1 + n >= PATH_MAX_REL || depth >= CG_MAX_DEPTH)
			continue;
		rel[rlen] = '/';
		memcpy(rel + rlen + 1, de->d_name, n + 1);
		if (!cgroup_id_of(dirfd(d), de->d_name, &id))
			cc_add(cc, id, rel);
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			cc_walk(cc, sub, rel, rlen + 1 + n, depth + 1);
		rel[rlen] = '\0';
	}
	closedir(d);
}

static void cc_clear(struct cgroup_cache *cc)
{
	for (size_t i = 0; i < cc->cap; i++) {
		free((char *)cc->slots[i].path);
		cc->slots[i].path = NULL;
		cc->slots[i].id = 0;
	}
	cc->used = 0;
}

static void cc_scan(struct cgroup_cache *cc)
{
	char rel[PATH_MAX_REL] = "";
	uint64_t id = 0;
	int fd = open(cc->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cc->last_scan_ns = clock_mono_ns();
	if (fd < 0)
		return;
	cc_clear(cc);
	if (!cgroup_id_of(AT_FDCWD, cc->root, &id))
		cc_add(cc, id, "/");
	cc_walk(cc, fd, rel, 0, 0);
}

int cgroup_cache_open(const char *root, struct cgroup_cache **out)
{
	struct cgroup_cache *cc = calloc(1, sizeof(*cc));
	int err = 0;

	if (!cc)
		return -ENOMEM;
	if (root)
		snprintf(cc->root, sizeof(cc->root), "%s", root);
	else
		err = ebpf_cgroup2_root(cc->root, sizeof(cc->root));
	if (!err)
		err = cc_grow(cc);
	if (err) {
		free(cc);
		return err;
	}
	cc_scan(cc);
	*out = cc;
	return 0;
}

const struct cgroup_info *cgroup_cache_lookup(struct cgroup_cache *cc, uint64_t id)
{
	struct cgroup_info *s;

	if (!id)
		return NULL;
	s = cc_slot(cc->slots, cc->cap, id);
	if (s->id)
		return s;
	if (clock_mono_ns() - cc->last_scan_ns < CG_RESCAN_NS)
		return NULL;
	cc_scan(cc);
	s = cc_slot(cc->slots, cc->cap, id);
	return s->id ? s : NULL;
}

void cgroup_cache_close(struct cgroup_cache *cc)
{
	if (!cc)
		return;
	cc_clear(cc);
	free(cc->slots);
	free(cc);
}
