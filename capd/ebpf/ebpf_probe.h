/* SPDX-License-Identifier: MIT */
/*
 * ebpf_probe.h - what this kernel lets capd load, found out once at start-up,
 * so that a missing feature becomes one clear log line (and, for capture, a
 * reason to fall back to AF_PACKET) rather than a verifier dump.
 */
#ifndef RAWCAP_EBPF_PROBE_H
#define RAWCAP_EBPF_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ebpf_probe {
	bool ringbuf;	  /* BPF_MAP_TYPE_RINGBUF */
	bool sched_cls;	  /* tc programs: the eBPF capture backend */
	bool cgroup_sock; /* cgroup/sock_create */
	bool cgroup_addr; /* cgroup/{sendmsg,recvmsg}{4,6} */
	bool sock_ops;	  /* sockops */
	bool tracepoint;  /* tracepoint programs */
	bool tracefs;	  /* syscall tracepoints are reachable (tracefs mounted) */
	bool cgroup2;	  /* a cgroup v2 hierarchy is mounted */
	char cgroup2_root[256];
};

/*
 * Probe the kernel. Raises RLIMIT_MEMLOCK first (kernels before 5.11 charge
 * BPF memory to it), mounts tracefs on /sys/kernel/tracing if nothing is
 * mounted there. RAWCAP_EBPF_FORCE_FAIL=1 in the environment makes every
 * feature read as missing (the fallback test). Never fails; look at the fields.
 */
void ebpf_probe_run(
	struct ebpf_probe *p); /* also installs a libbpf print callback (warnings to stderr) */

/* True when RAWCAP_EBPF_FORCE_FAIL is set to 1/all, or to `what` ("capture", "proc"). */
bool ebpf_probe_forced_fail(const char *what);

/* One line naming what is missing for `what` ("capture" or "proc"); "" if nothing. */
void ebpf_probe_describe(const struct ebpf_probe *p, const char *what, char *buf, size_t len);

/* Find the cgroup v2 mount point (/sys/fs/cgroup or /sys/fs/cgroup/unified): 0 or -ENOENT. */
int ebpf_cgroup2_root(char *buf, size_t len);

/*
 * CLOCK_REALTIME - CLOCK_MONOTONIC now (the realtime read bracketed by two
 * monotonic reads): add it to bpf_ktime_get_ns() stamps. Re-sample every tick
 * so that a step of the wall clock is followed within a second.
 */
int64_t ebpf_mono_to_real(void);

#endif
