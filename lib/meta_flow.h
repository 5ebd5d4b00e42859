/* SPDX-License-Identifier: MIT */
/*
 * meta_flow.h - the flow table behind process packet comments: which local
 * process owned which TCP/UDP socket 5-tuple, from capd's process records
 * (docs/METADATA.md, "process"). Internal to librawcap: the pod/IP index owns
 * one (meta_index.c) and packet comments read it (meta_sel.c).
 */
#ifndef RAWCAP_LIB_META_FLOW_H
#define RAWCAP_LIB_META_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include <rawcap/meta.h>

#define META_FLOW_MAX	  65536u /* sockets remembered; the least recently reported go first */
#define META_FLOW_SKEW_NS 1000000000ull

struct meta_flow;

/* What a packet comment says about the process behind one end of a flow. */
struct meta_flow_proc {
	uint32_t pid;
	char comm[16];	    /* printable, no spaces: safe inside a comment */
	char container[13]; /* short container id, "" if unknown */
	uint64_t from_ns;   /* the record that named this process */
	uint64_t seen_ns;   /* the latest record for this socket */
};

struct meta_flow_stats {
	uint64_t records; /* process records fed */
	uint64_t flows;	  /* records with a 5-tuple, added or refreshed */
	uint64_t no_tuple, bad, evicted;
	uint64_t entries; /* sockets held now */
};

/* A table holding at most max sockets (0: META_FLOW_MAX). */
int meta_flow_new(struct meta_flow **out, size_t max);
void meta_flow_free(struct meta_flow *ft);

/*
 * Feed one process record. 0 if it was used or had no 5-tuple (create),
 * -EBADMSG if it does not decode, -ENOMEM.
 */
int meta_flow_add(struct meta_flow *ft, uint64_t ts_ns, const void *payload, size_t len);

/*
 * The process whose socket has local end (laddr, lport) and remote end
 * (raddr, rport) at ts_ns, or NULL. An unbound local address in the record
 * (UDP) matches any local address.
 */
const struct meta_flow_proc *meta_flow_find(const struct meta_flow *ft, int family, uint8_t proto,
					    const uint8_t laddr[16], uint16_t lport,
					    const uint8_t raddr[16], uint16_t rport,
					    uint64_t ts_ns);

/*
 * Append prefix and the processes of the packet's flow to buf:
 * "pid=1 comm=c container=abc" for one known end, "src pid=..; dst pid=.."
 * for two. Returns the length appended (0: nothing known, buf untouched)
 * or -ENOSPC (buf[0] set to "").
 */
int meta_flow_comment(const struct meta_flow *ft, const struct rawcap_rec *rec, const char *prefix,
		      char *buf, size_t cap);

void meta_flow_stats(const struct meta_flow *ft, struct meta_flow_stats *out);

/* The index's flow table (meta_index.c); never NULL for a live index. */
const struct meta_flow *meta_index_flows(const struct rawcap_meta_index *ix);

#endif
