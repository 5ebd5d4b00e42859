// SPDX-License-Identifier: MIT
/*
 * ebpf_probe.c - feature probing for the eBPF capture backend and process
 * context: program and map types by test loads (libbpf_probe_*), plus the
 * environment the attach points need (cgroup v2, tracefs).
 */
#include <errno.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "ebpf_probe.h"

#define TRACEFS "/sys/kernel/tracing"

bool ebpf_probe_forced_fail(const char *what)
{
	const char *v = getenv("RAWCAP_EBPF_FORCE_FAIL");

	if (!v || !*v || !strcmp(v, "0"))
		return false;
	return !strcmp(v, "1") || !strcmp(v, "all") || (what && !strcmp(v, what));
}

int ebpf_cgroup2_root(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2"))
			continue;
		/* Prefer the first; on hybrid hosts it is /sys/fs/cgroup/unified. */
		snprintf(buf, len, "%s", m->mnt_dir);
		err = 0;
		break;
	}
	endmntent(f);
	return err;
}

static bool tracefs_ready(void)
{
	struct stat st;

	if (!stat(TRACEFS "/events/syscalls", &st))
		return true;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return false;
	return !stat(TRACEFS "/events/syscalls", &st);
}

static bool prog_ok(enum bpf_prog_type t)
{
	return libbpf_probe_bpf_prog_type(t, NULL) == 1;
}

/*
 * libbpf's warnings (verifier logs included) go to stderr, except the netlink
 * errors that probing tc for a previous capd's filters produces by design.
 */
static int ebpf_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (strstr(line, "Parent Qdisc doesn't exist") ||
	    strstr(line, "Cannot find specified filter"))
		return 0;
	return fprintf(stderr, "ebpf: %s", line);
}

void ebpf_probe_run(struct ebpf_probe *p)
{
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

	memset(p, 0, sizeof(*p));
	libbpf_set_print(ebpf_libbpf_print);
	if (ebpf_probe_forced_fail("all"))
		return;
	/* Only older kernels charge BPF memory to memlock; failing here is harmless on newer ones.
	 */
	(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	p->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	p->sched_cls = prog_ok(BPF_PROG_TYPE_SCHED_CLS);
	p->cgroup_sock = prog_ok(BPF_PROG_TYPE_CGROUP_SOCK);
	p->cgroup_addr = prog_ok(BPF_PROG_TYPE_CGROUP_SOCK_ADDR);
	p->sock_ops = prog_ok(BPF_PROG_TYPE_SOCK_OPS);
	p->tracepoint = prog_ok(BPF_PROG_TYPE_TRACEPOINT);
	p->tracefs = p->tracepoint && tracefs_ready();
	p->cgroup2 = !ebpf_cgroup2_root(p->cgroup2_root, sizeof(p->cgroup2_root));
	if (ebpf_probe_forced_fail("capture"))
		p->sched_cls = false;
	if (ebpf_probe_forced_fail("proc"))
		p->cgroup_sock = p->cgroup_addr = p->sock_ops = p->tracepoint = p->tracefs = false;
}

static void add(char *buf, size_t len, bool missing, const char *what)
{
	size_t n = strlen(buf);

	if (missing && n + 1 < len)
		snprintf(buf + n, len - n, "%s%s", n ? "; " : "", what);
}

void ebpf_probe_describe(const struct ebpf_probe *p, const char *what, char *buf, size_t len)
{
	buf[0] = '\0';
	add(buf, len, !p->ringbuf, "no BPF ring buffer (kernel < 5.8?)");
	if (!strcmp(what, "capture")) {
		add(buf, len, !p->sched_cls, "tc (sched_cls) programs do not load");
		return;
	}
	add(buf, len, !p->cgroup2, "no cgroup v2 mount: no socket creation or UDP peer context");
	add(buf, len, !p->cgroup_sock,
	    "cgroup/sock_create does not load: no socket creation events");
	add(buf, len, !p->cgroup_addr, "cgroup sock_addr programs do not load: no UDP peer events");
	add(buf, len, !p->sock_ops, "sockops does not load: accepted sockets have no cookie");
	add(buf, len, !p->tracefs,
	    "syscall tracepoints unavailable (tracefs): no connect/accept process context");
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t ebpf_mono_to_real(void)
{
	uint64_t m1 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME);
	uint64_t m2 = clock_ns(CLOCK_MONOTONIC);

	return (int64_t)(r - (m1 + (m2 - m1) / 2));
}
