/* SPDX-License-Identifier: MIT */
/*
 * proc_ctx.h - process context for flows: which process, cgroup and
 * container owns each TCP/UDP socket, written into the shm ring as msgpack
 * RAWCAP_REC_META records with flags RAWCAP_META_PROCESS (schema:
 * docs/METADATA.md, "process"). Works beside either capture backend.
 *
 *	proc_ctx_open()           probe, load, attach (root cgroup v2, tracepoints)
 *	proc_ctx_scan_existing()  once, after open: flows that predate capd, from /proc
 *	proc_ctx_fd()             epoll this; on EPOLLIN call proc_ctx_drain()
 *	proc_ctx_tick()           once a second: loss records, clock offset
 *	proc_ctx_close()
 */
#ifndef RAWCAP_PROC_CTX_H
#define RAWCAP_PROC_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring_writer;
struct proc_ctx;

struct proc_ctx_opts {
	const char *cgroup_root; /* cgroup2 mount; NULL: found in /proc/self/mounts */
	const char *proc_root;	 /* NULL: /proc (tests may point elsewhere) */
	bool no_create_events;	 /* skip socket creation events (busy nodes) */
	bool force_fail;	 /* behave as if nothing loaded (fallback tests) */
};

struct proc_ctx_stats {
	uint64_t events;   /* metadata records written */
	uint64_t drops;	   /* events lost in the BPF ring buffer */
	uint64_t existing; /* records from proc_ctx_scan_existing() */
	uint64_t unresolved_cgroups;
};

/*
 * Returns 0 with context available, possibly partial: then why holds one line
 * naming what is missing, for capd to log as a warning. Returns -errno with
 * why filled when no process context is available at all.
 * RAWCAP_EBPF_FORCE_FAIL=1 or =proc forces the failure.
 */
int proc_ctx_open(const struct proc_ctx_opts *o, struct proc_ctx **out, char *why, size_t whylen);
int proc_ctx_fd(const struct proc_ctx *pc);
/* Write ready events into w as metadata records, publish, notify. Returns count or -errno. */
int proc_ctx_drain(struct proc_ctx *pc, struct ring_writer *w);
void proc_ctx_tick(struct proc_ctx *pc, struct ring_writer *w, uint64_t now_ns);
/* Write an "existing" record per established TCP / bound UDP socket found in /proc. Returns count.
 */
int proc_ctx_scan_existing(struct proc_ctx *pc, struct ring_writer *w);
void proc_ctx_get_stats(const struct proc_ctx *pc, struct proc_ctx_stats *s);
void proc_ctx_close(struct proc_ctx *pc);

#endif
