/* SPDX-License-Identifier: MIT */
/*
 * proc_event.h - types shared by proc_ctx.bpf.c and proc_ctx.c: one
 * process-context event per socket creation, TCP connect/accept and (rate
 * limited) UDP send/receive peer.
 */
#ifndef RAWCAP_BPF_PROC_EVENT_H
#define RAWCAP_BPF_PROC_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum pc_kind {
	PC_EV_CREATE = 1,   /* cgroup/sock_create: no addresses yet */
	PC_EV_CONNECT = 2,  /* sys_exit_connect: full tuple, caller's context */
	PC_EV_ACCEPT = 3,   /* sys_exit_accept{,4}: full tuple, acceptor's context */
	PC_EV_UDP_SEND = 4, /* cgroup/sendmsg{4,6}: peer = destination */
	PC_EV_UDP_RECV = 5, /* cgroup/recvmsg{4,6}: peer = source */
	PC_EV_EXISTING = 6, /* user space: found in /proc at start-up */
};

struct pc_event {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u64 cookie;
	__u64 cgroup_id;
	__u32 pid; /* thread group id: the process id users see */
	__u32 tid;
	__u8 kind;   /* enum pc_kind */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
	__u16 sport;	/* host order; local side */
	__u16 dport;	/* host order; remote side */
	__u8 saddr[16]; /* local; IPv4 in the first 4 bytes */
	__u8 daddr[16]; /* remote */
	char comm[16];
};

#define PC_MAX_CPUS 512 /* power of two; more CPUs share slots (atomic adds) */

/* Per-CPU slot, one cache line each: events dropped because the ring buffer was full. */
struct pc_counters {
	__u64 drops;
	__u64 pad[7];
};

#endif
