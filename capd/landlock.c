// SPDX-License-Identifier: MIT
/*
 * landlock.c - Landlock for capd: after setup capd needs files only in its
 * storage directory (segments created, recycled, synced) and its ring
 * directory; every other path, read or write, is refused with EACCES by the
 * kernel, even where file permissions would allow it. This is a second layer
 * under the seccomp allow-list, which still permits openat when --storage is
 * set: Landlock is what keeps that openat inside the storage directory.
 *
 * Where the kernel's ABI has them (4+), network rules too: no TCP bind at all
 * after setup (the metrics socket is bound before), and TCP connect only to
 * the ports registered with capd_landlock_allow_url() (the Kubernetes API
 * server, a proxy in front of it); with ABI 6+, no abstract UNIX socket or
 * signal reaches outside capd.
 *
 * The ruleset handles every right the running kernel knows (its ABI
 * version), so newer rights are denied too; a kernel without Landlock, or
 * without network rules, is logged and tolerated, since seccomp and the uid
 * drop still apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capd.h"
#include "landlock.h"

/* Rights newer than some distributions' headers. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
/* Network rules (ABI 4) and scopes (ABI 6), newer than Debian 12's headers. */
#define LL_NET_BIND_TCP	       (1ULL << 0)
#define LL_NET_CONNECT_TCP     (1ULL << 1)
#define LL_RULE_NET_PORT       2
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL	       (1ULL << 1)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LL_SANITIZED 1 /* LeakSanitizer reads /proc at exit */
#else
#define LL_SANITIZED 0
#endif

/* Passed with the size the ABI knows: 8 bytes (ABI 1-3), 16 (4-5), 24 (6+). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_net_port {
	uint64_t allowed_access;
	uint64_t port;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static uint64_t ll_handled(int abi)
{
	uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

/* Allow access beneath path (a directory, or a single file with file rights only). */
static int ll_allow(int ruleset, const char *path, uint64_t access, bool optional)
{
	struct ll_path_beneath pb = {.allowed_access = access};
	int err = 0;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0) {
		err = -errno;
		if (optional && err == -ENOENT)
			return 0;
		capd_log("landlock: cannot open %s: %s", path, strerror(-err));
		return err;
	}
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) {
		err = -errno;
		capd_log("landlock: cannot allow %s: %s", path, strerror(-err));
	}
	close(pb.parent_fd);
	return err;
}

#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/*
 * Read-only paths the optional sources still open after the drop: the
 * Kubernetes watcher re-reads its rotating service-account token and lets
 * libcurl resolve a host name; process context rescans the cgroup tree.
 */
static int ll_allow_sources(int ruleset, const struct capd_config *cfg)
{
	static const char *const k8s_files[] = {
		"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
	};
	int err = 0;

	if (cfg->kubernetes) {
		err = ll_allow(ruleset, "/var/run/secrets/kubernetes.io/serviceaccount", LL_READ,
			       true);
		for (size_t i = 0; !err && i < sizeof(k8s_files) / sizeof(k8s_files[0]); i++)
			err = ll_allow(ruleset, k8s_files[i], LANDLOCK_ACCESS_FS_READ_FILE, true);
	}
	if (!err && cfg->process_context)
		err = ll_allow(ruleset, "/sys/fs/cgroup", LL_READ, true);
	return err;
}

static size_t ll_attr_size(int abi)
{
	return abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
}

/* TCP connect to the registered ports only; bind to none. ABI 4+. */
static int ll_allow_net(int ruleset, const struct capd_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->n_connect_ports; i++) {
		struct ll_net_port np = {.allowed_access = LL_NET_CONNECT_TCP,
					 .port = ctx->connect_ports[i]};

		if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, 0)) {
			int err = -errno;

			capd_log("landlock: cannot allow TCP port %u: %s", ctx->connect_ports[i],
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The port of a URL (https://host:6443/..., http://[::1]:3128, host:1080), or 0. */
static unsigned ll_url_port(const char *url)
{
	const char *p = strstr(url, "://"), *host = p ? p + 3 : url, *end, *colon;
	unsigned port = 0;

	end = host + strcspn(host, "/?#");
	for (const char *at = host; at < end; at++)
		if (*at == '@')
			host = at + 1;
	colon = *host == '[' ? memchr(host, ']', (size_t)(end - host)) : host;
	colon = colon ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
	if (!colon)
		return !p ? 1080 : !strncmp(url, "https:", 6) ? 443 : 80;
	for (p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return 0;
		port = port * 10 + (unsigned)(*p - '0');
	}
	return port <= 65535 ? port : 0;
}

int capd_landlock_allow_url(struct capd_ctx *ctx, const char *url)
{
	unsigned port = url && *url ? ll_url_port(url) : 0;

	if (!port)
		return -EINVAL;
	for (unsigned i = 0; i < ctx->n_connect_ports; i++)
		if (ctx->connect_ports[i] == port)
			return 0;
	if (ctx->n_connect_ports == CAPD_MAX_CONNECT_PORTS)
		return -ENOSPC;
	ctx->connect_ports[ctx->n_connect_ports++] = (uint16_t)port;
	return 0;
}

/*
 * Build the ruleset while capd is still root: the directories must be opened
 * before the uid drop, or a parent that only root may traverse would hide
 * them. Returns a ruleset fd, -1 if the kernel has no Landlock, or -errno.
 */
int capd_landlock_prepare(const struct capd_ctx *ctx)
{
	const char *shm = getenv("RAWCAP_SHM_DIR");
	struct ll_ruleset_attr attr = {0};
	int abi, ruleset, err;
	uint64_t files;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		capd_log("landlock unavailable (%s): file access limited by seccomp only",
			 strerror(errno));
		return -1;
	}
	attr.handled_access_fs = ll_handled(abi);
	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	/* Beneath the allowed directories: files and subdirectories, never exec or devices. */
	files = attr.handled_access_fs &
		~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		  LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		  LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
		  LANDLOCK_ACCESS_FS_IOCTL_DEV);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, ll_attr_size(abi), 0);
	if (ruleset < 0) {
		err = -errno;
		capd_log("landlock: cannot create a ruleset (ABI %d): %s", abi, strerror(-err));
		return err;
	}
	err = ll_allow(ruleset, shm && *shm ? shm : "/dev/shm", files, false);
	if (!err && ctx->cfg->storage_dir)
		err = ll_allow(ruleset, ctx->cfg->storage_dir, files, false);
	if (!err)
		err = ll_allow_sources(ruleset, ctx->cfg);
	if (!err && abi >= 4)
		err = ll_allow_net(ruleset, ctx);
	if (!err && LL_SANITIZED)
		err = ll_allow(ruleset, "/proc", LL_READ, false);
	if (err) {
		close(ruleset);
		return err;
	}
	capd_log("landlock (ABI %d): file access limited to %s%s%s%s; %s", abi,
		 shm && *shm ? shm : "/dev/shm", ctx->cfg->storage_dir ? " and " : "",
		 ctx->cfg->storage_dir ? ctx->cfg->storage_dir : "",
		 ctx->cfg->kubernetes || ctx->cfg->process_context
			 ? " (plus read-only paths for its sources)"
			 : "",
		 abi < 4		? "no network rules in this kernel"
		 : ctx->n_connect_ports ? "TCP: no bind, connect to its API server only"
					: "TCP: no bind, no connect");
	return ruleset;
}

/* After no_new_privs: confine capd to the prepared ruleset. */
int capd_landlock_restrict(int ruleset)
{
	int err = 0;

	if (ruleset < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0)) {
		err = -errno;
		capd_log("landlock: cannot restrict capd: %s", strerror(-err));
	}
	close(ruleset);
	return err;
}
