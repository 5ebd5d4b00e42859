// SPDX-License-Identifier: MIT
/*
 * proc_meta.c - the msgpack encoding of process records (docs/METADATA.md):
 * a map with string keys; keys whose value is unknown are left out rather
 * than sent as nil, so readers test for presence.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <rawcap/format.h>

#include "cgroup_id.h"
#include "proc_ctx.h"
#include "mp_pack.h"
#include "proc_meta.h"
#include "ring_writer.h"

#include "proc_event.h"

static const char *const event_names[] = {
	[PC_EV_CREATE] = "create",     [PC_EV_CONNECT] = "connect",   [PC_EV_ACCEPT] = "accept",
	[PC_EV_UDP_SEND] = "udp_send", [PC_EV_UDP_RECV] = "udp_recv", [PC_EV_EXISTING] = "existing",
};

static void pack_addr(msgpack_packer *pk, const char *k, int family, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, buf, sizeof(buf)))
		buf[0] = '\0';
	mp_pack_kv_str(pk, k, buf);
}

int proc_meta_write(struct ring_writer *w, msgpack_sbuffer *sb, const struct pc_event *e,
		    uint64_t ts_ns, const struct cgroup_info *cg)
{
	bool tuple = e->kind != PC_EV_CREATE, cid = cg && cg->container_id[0];
	int family = e->family == 10 ? AF_INET6 : AF_INET;
	char comm[sizeof(e->comm) + 1];
	msgpack_packer pk;
	uint32_t n = 7; /* v kind event proto family pid comm */
	void *p;

	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = '\0';
	n += tuple * 4 + !!e->tid + !!e->cookie + !!e->cgroup_id + !!cg + cid * 2;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	mp_pack_kv_u64(&pk, "v", PROC_META_VERSION);
	mp_pack_kv_str(&pk, "kind", "process");
	mp_pack_kv_str(&pk, "event",
		    e->kind < sizeof(event_names) / sizeof(event_names[0]) && event_names[e->kind]
			    ? event_names[e->kind]
			    : "unknown");
	mp_pack_kv_str(&pk, "proto", e->proto == IPPROTO_TCP ? "tcp" : "udp");
	mp_pack_kv_u64(&pk, "family", family == AF_INET6 ? 6 : 4);
	if (tuple) {
		pack_addr(&pk, "saddr", family, e->saddr);
		mp_pack_kv_u64(&pk, "sport", e->sport);
		pack_addr(&pk, "daddr", family, e->daddr);
		mp_pack_kv_u64(&pk, "dport", e->dport);
	}
	mp_pack_kv_u64(&pk, "pid", e->pid);
	if (e->tid)
		mp_pack_kv_u64(&pk, "tid", e->tid);
	mp_pack_kv_str(&pk, "comm", comm);
	if (e->cookie)
		mp_pack_kv_u64(&pk, "cookie", e->cookie);
	if (e->cgroup_id)
		mp_pack_kv_u64(&pk, "cgroup_id", e->cgroup_id);
	if (cg)
		mp_pack_kv_str(&pk, "cgroup", cg->path);
	if (cid) {
		mp_pack_kv_str(&pk, "container_id", cg->container_id);
		mp_pack_kv_str(&pk, "runtime", cg->runtime);
	}
	if (!sb->data)
		return -ENOMEM;
	p = ring_reserve(w, RAWCAP_REC_META, RAWCAP_META_PROCESS, ts_ns, (uint32_t)sb->size);
	if (!p)
		return -E2BIG;
	memcpy(p, sb->data, sb->size);
	return 0;
}
