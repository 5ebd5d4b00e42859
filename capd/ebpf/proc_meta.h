/* SPDX-License-Identifier: MIT */
/*
 * proc_meta.h - encode one process-context event as the versioned msgpack map
 * of docs/METADATA.md and write it into the ring (internal to proc_ctx).
 */
#ifndef RAWCAP_PROC_META_H
#define RAWCAP_PROC_META_H

#include <stdint.h>

#include <msgpack.h>

#include "proc_ctx.h"

#define PROC_META_VERSION 1

struct pc_event;
struct cgroup_info;

/* 0, or -E2BIG/-ENOMEM if the record could not be written. */
int proc_meta_write(struct ring_writer *w, msgpack_sbuffer *sb, const struct pc_event *e,
		    uint64_t ts_ns, const struct cgroup_info *cg);

/* Flows found in /proc: calls cb with PC_EV_EXISTING events. Returns sockets found or -errno. */
typedef void (*proc_scan_cb)(void *ctx, struct pc_event *e);
int proc_scan(const char *proc_root, const char *cgroup_root, proc_scan_cb cb, void *ctx);

#endif
