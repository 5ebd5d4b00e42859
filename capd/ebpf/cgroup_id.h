/* SPDX-License-Identifier: MIT */
/*
 * cgroup_id.h - cgroup v2 id (what bpf_get_current_cgroup_id() returns) to
 * cgroup path to container id, cached.
 *
 * The id of a cgroup directory is its kernfs node id, which
 * name_to_handle_at() returns as the 8-byte file handle. We walk the cgroup2
 * mount once, and again (at most once a second) when an unknown id shows up.
 */
#ifndef RAWCAP_CGROUP_ID_H
#define RAWCAP_CGROUP_ID_H

#include <stdint.h>

#define CGROUP_CID_LEN 64

struct cgroup_cache;

struct cgroup_info {
	uint64_t id;
	const char *path;		       /* relative to the cgroup2 root, starting with '/' */
	const char *runtime;		       /* "containerd", "cri-o", "docker", or NULL */
	char container_id[CGROUP_CID_LEN + 1]; /* "" when the path names no container */
};

/* root NULL: find the cgroup2 mount. */
int cgroup_cache_open(const char *root, struct cgroup_cache **out);
/* NULL if id is unknown even after a rescan (the cgroup may be gone already). */
const struct cgroup_info *cgroup_cache_lookup(struct cgroup_cache *cc, uint64_t id);
void cgroup_cache_close(struct cgroup_cache *cc);

/* The cgroup id of a directory: 0 and *id, or -errno. */
int cgroup_id_of(int dirfd, const char *name, uint64_t *id);

/*
 * Container id from a cgroup path: cri-containerd-<64hex>.scope (containerd),
 * crio-<64hex>.scope (CRI-O), docker-<64hex>.scope or /docker/<64hex>
 * (Docker); the innermost match wins. Returns the runtime name or NULL.
 */
const char *cgroup_container_id(const char *path, char out[CGROUP_CID_LEN + 1]);

#endif
