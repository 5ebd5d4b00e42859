// SPDX-License-Identifier: MIT
/*
 * config_check.c - whether capd's settings, wherever they came from
 * (config.c), add up on this host: the ring name, the capture block size,
 * the fanout mode, the interfaces named (they exist and carry a link type
 * capd records), and the snap length cut to what the ring and the blocks
 * hold, and the disk FIFO's size against its file system. What does
 * nothing as given, or depends on the environment, is said on stderr, not
 * refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "capd.h"
#include "frame.h"
#include "ring_name.h"

/* Bytes of a capture block the kernel keeps for its own headers (tpacket3, sockaddr_ll). */
#define CONFIG_BLOCK_OVERHEAD 256u

/*
 * The snap length is what every packet keeps, and what the interface
 * descriptions announce: cut it to what the ring's largest record and the
 * capture blocks can hold, and say so, rather than cut packets silently.
 */
static void config_snaplen_fit(struct capd_config *cfg)
{
	uint64_t rec = cfg->ring_size / 4 < RAWCAP_REC_MAX ? cfg->ring_size / 4 : RAWCAP_REC_MAX;
	uint64_t fit = rec - RAWCAP_PKT_HDRS;

	if (cfg->block_size - CONFIG_BLOCK_OVERHEAD < fit)
		fit = cfg->block_size - CONFIG_BLOCK_OVERHEAD;
	if (cfg->snaplen <= fit)
		return;
	fprintf(stderr, "capd: snap length %u does not fit %s: keeping %llu bytes of each packet\n",
		cfg->snaplen,
		fit == rec - RAWCAP_PKT_HDRS ? "the ring's largest record (ring size / 4)"
					     : "a capture block (--block-size)",
		(unsigned long long)fit);
	cfg->snaplen = (uint32_t)fit;
}

/* The interface type of a named interface, or -errno. */
int capd_iface_arphrd(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : ifr.ifr_hwaddr.sa_family;
	close(fd);
	return ret;
}

/* An interface pattern that no interface matches now (capd waits for one). */
static bool config_pattern_idle(const char *pattern)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	bool idle = true;

	for (i = ifs; i && i->if_index; i++)
		idle &= fnmatch(pattern, i->if_name, 0) != 0;
	if_freenameindex(ifs);
	return idle && ifs;
}

/* Settings that do nothing as given, or that depend on the environment: said, not refused. */
static void config_warn(const struct capd_config *cfg)
{
	const char *node = getenv("NODE_NAME");

	if (cfg->storage_size && !cfg->storage_dir)
		fprintf(stderr, "capd: warning: --storage-size without --storage does nothing: "
				"packets are kept in the ring only\n");
	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		if (capd_iface_is_pattern(cfg->ifaces[i]) && config_pattern_idle(cfg->ifaces[i]))
			fprintf(stderr,
				"capd: warning: no interface matches '%s' yet: capd captures "
				"matching interfaces as they appear\n",
				cfg->ifaces[i]);
	if (cfg->kubernetes && node && *node)
		fprintf(stderr, "capd: --kubernetes: this node is '%s' ($NODE_NAME)\n", node);
	else if (cfg->kubernetes)
		fprintf(stderr,
			"capd: warning: --kubernetes: $NODE_NAME is not set, so capd cannot tell "
			"which node it runs on; set it from the downward API (spec.nodeName), as "
			"the chart does\n");
}

/*
 * The kernel pins --threads x --block-count x --block-size bytes of packet
 * ring for AF_PACKET (the eBPF backend's fallback too), outside any memory
 * cgroup: more than half of the machine's memory would end in the OOM
 * killer taking other processes.
 */
static int config_ring_mem_ok(const struct capd_config *cfg)
{
	uint64_t want = (uint64_t)cfg->threads * cfg->block_size * cfg->block_nr;
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t half = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 2 : UINT64_MAX;

	if (want <= half)
		return 0;
	capd_usage_error(NULL,
			 "--threads %u x --block-count %llu x --block-size %llu is %llu bytes of "
			 "kernel ring memory, more than half of this machine's %llu bytes",
			 cfg->threads, (unsigned long long)cfg->block_nr,
			 (unsigned long long)cfg->block_size, (unsigned long long)want,
			 (unsigned long long)(half * 2));
	return -EINVAL;
}

/* Bytes the files directly in dir take on disk (the FIFO's segments there already); 0 if none. */
static uint64_t config_dir_held(const char *dir)
{
	DIR *d = opendir(dir);
	uint64_t held = 0;
	struct dirent *de;
	struct stat st;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
			held += (uint64_t)st.st_blocks * 512;
	closedir(d);
	return held;
}

/*
 * A --storage-size larger than --storage's whole file system can never be
 * held: refused. One larger than its free space plus what the FIFO holds
 * there already is said, not refused: the disk may be full of others' files
 * only for now, and a capd that will not start on a full disk would
 * crash-loop where it should capture; the FIFO recycles what it could
 * create (section 4.3). --storage need not exist yet: the nearest
 * directory above it that does is asked.
 */
static int config_storage_fits(const struct capd_config *cfg)
{
	uint64_t want = cfg->storage_size ? cfg->storage_size : CAPD_STORAGE_SIZE_DEFAULT;
	uint64_t total, avail, held;
	struct statvfs vfs;
	char path[4096], *slash;

	if (!cfg->storage_dir ||
	    snprintf(path, sizeof(path), "%s", cfg->storage_dir) >= (int)sizeof(path))
		return 0;
	while (statvfs(path, &vfs)) {
		/* Anything but a missing directory: the FIFO's open says what is wrong. */
		if (errno != ENOENT || !strcmp(path, "/") || !strcmp(path, "."))
			return 0;
		slash = strrchr(path, '/');
		if (!slash)
			snprintf(path, sizeof(path), ".");
		else
			slash[slash == path] = '\0';
	}
	total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (want > total) {
		capd_usage_error(NULL,
				 "--storage-size %llu bytes is more than %s can ever hold: its file "
				 "system is %llu bytes; give --storage-size %lluMi or less",
				 (unsigned long long)want, cfg->storage_dir,
				 (unsigned long long)total, (unsigned long long)(total >> 20));
		return -EINVAL;
	}
	held = config_dir_held(cfg->storage_dir);
	if (want > avail + held)
		fprintf(stderr,
			"capd: warning: --storage-size %llu bytes: %s's file system has %llu "
			"bytes free and the disk FIFO holds %llu there: until space is freed it "
			"keeps less, recycling its oldest segments\n",
			(unsigned long long)want, cfg->storage_dir, (unsigned long long)avail,
			(unsigned long long)held);
	return 0;
}

int capd_config_validate(struct capd_config *cfg)
{
	char path[RING_PATH_MAX];
	bool any = false;
	int hw;

	config_warn(cfg);
	if (ring_name_path(cfg->ring_name, path, sizeof(path))) {
		capd_usage_error(NULL, "bad ring name '%s' (1-64 of A-Z a-z 0-9 . _ -)",
				 cfg->ring_name);
		return -EINVAL;
	}
	if (cfg->block_size < 65536 || cfg->block_size > (1u << 30) ||
	    (cfg->block_size & (cfg->block_size - 1))) {
		capd_usage_error(NULL,
				 "bad block size %llu: must be a power of two from 64Ki to 1Gi",
				 (unsigned long long)cfg->block_size);
		return -EINVAL;
	}
	if (config_ring_mem_ok(cfg) || config_storage_fits(cfg))
		return -EINVAL;
	if (strcmp(cfg->fanout, "hash") && strcmp(cfg->fanout, "cpu") &&
	    strcmp(cfg->fanout, "lb")) {
		capd_usage_error(NULL, "bad fanout mode '%s' (hash, cpu or lb)", cfg->fanout);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_ifaces; i++) {
		const char *n = cfg->ifaces[i];

		if (!strcmp(n, "any"))
			any = true;
		else if (!capd_iface_is_pattern(n) && !if_nametoindex(n)) {
			capd_usage_error(NULL, "unknown interface '%s'", n);
			return -EINVAL;
		} else if (!capd_iface_is_pattern(n) && (hw = capd_iface_arphrd(n)) >= 0 &&
			   !capd_linktype((uint16_t)hw)) {
			capd_usage_error(NULL,
					 "interface '%s' is of type %d (ARPHRD_*), which capd does "
					 "not record: only Ethernet, loopback and IP (tunnels)",
					 n, hw);
			return -EINVAL;
		}
	}
	if (any && cfg->n_ifaces > 1) {
		capd_usage_error(NULL, "interface 'any' cannot be combined with other names");
		return -EINVAL;
	}
	config_snaplen_fit(cfg);
	return 0;
}
