// SPDX-License-Identifier: MIT
/*
 * landlock.c - Landlock for capd: after setup capd needs files only in its
 * storage directory (segments created, recycled, synced) and its ring
 * directory; every other path, read or write, is refused with EACCES by the
 * kernel, even where file permissions would allow it. This is a second layer
 * under the seccomp allow-list, which still permits openat when --storage is
 * set: Landlock is what keeps that openat inside the storage directory.
 *
 * The ruleset handles every file-system right the running kernel knows (its
 * ABI version), so newer rights are denied too; a kernel without Landlock is
 * logged and tolerated, since seccomp and the uid drop still apply.
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

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LL_SANITIZED 1 /* LeakSanitizer reads /proc at exit */
#else
#define LL_SANITIZED 0
#endif

/* Only handled_access_fs: the first field, accepted by every ABI version. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
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

/*
 * Build the ruleset while capd is still root: the directories must be opened
 * before the uid drop, or a parent that only root may traverse would hide
 * them. Returns a ruleset fd, -1 if the kernel has no Landlock, or -errno.
 */
int capd_landlock_prepare(const struct capd_ctx *ctx)
{
	const char *shm = getenv("RAWCAP_SHM_DIR");
	struct ll_ruleset_attr attr;
	int abi, ruleset, err;
	uint64_t files;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		capd_log("landlock unavailable (%s): file access limited by seccomp only",
			 strerror(errno));
		return -1;
	}
	attr.handled_access_fs = ll_handled(abi);
	/* Beneath the allowed directories: files and subdirectories, never exec or devices. */
	files = attr.handled_access_fs &
		~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		  LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		  LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
		  LANDLOCK_ACCESS_FS_IOCTL_DEV);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
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
	if (!err && LL_SANITIZED)
		err = ll_allow(ruleset, "/proc", LL_READ, false);
	if (err) {
		close(ruleset);
		return err;
	}
	capd_log("landlock (ABI %d): file access limited to %s%s%s%s", abi,
		 shm && *shm ? shm : "/dev/shm", ctx->cfg->storage_dir ? " and " : "",
		 ctx->cfg->storage_dir ? ctx->cfg->storage_dir : "",
		 ctx->cfg->kubernetes || ctx->cfg->process_context
			 ? " (plus read-only paths for its sources)"
			 : "");
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
