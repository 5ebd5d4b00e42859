/* SPDX-License-Identifier: MIT */
/*
 * rawcap/meta.h - librawcap's metadata API: decode metadata records
 * (msgpack, schema in docs/METADATA.md) and join packets to the pods that
 * owned their addresses at the time they were captured.
 *
 * A reader feeds every RAWCAP_REC_META record it meets to a
 * rawcap_meta_index as it iterates, in stream order; the index keeps, per
 * IP address, the intervals during which each pod held it. Queries are by
 * address and time, so a packet from 10:03 is joined to the pod that held
 * its address at 10:03, even if that pod is long gone and its address now
 * belongs to another. Pods on the host network are not indexed (their
 * addresses are the node's). Memory is bounded (RAWCAP_META_INDEX_MAX_*).
 *
 * Because the FIFO recycles old records, capd restates every live object
 * periodically ("sync" events, default every 5 minutes): a reader starting
 * at time T primes its index with rawcap_meta_index_prime(), which reads the
 * metadata of a lookback window before T.
 *
 *	struct rawcap_meta_index *ix;
 *	struct rawcap_meta_sel *sel;
 *	rawcap_meta_index_new(&ix);
 *	rawcap_meta_sel_new(&sel);
 *	rawcap_meta_sel_add(sel, RAWCAP_SEL_POD, "web-a");	// --pod web-a
 *	rawcap_meta_index_prime(ix, cursor, from_ns, 0);	// seeks cursor to from_ns
 *	while (rawcap_next(cursor, &rec) > 0) {
 *		if (rec.type == RAWCAP_REC_META)
 *			rawcap_meta_index_add_rec(ix, &rec);
 *		else if (rec.type == RAWCAP_REC_PACKET && rawcap_meta_sel_match(sel, ix, &rec) > 0)
 *			export(&rec, rawcap_meta_pkt_comment(ix, &rec, buf, sizeof(buf)) > 0 ? buf : NULL);
 *	}
 */
#ifndef RAWCAP_META_H
#define RAWCAP_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/rawcap.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAWCAP_META_SCHEMA_VERSION 1
#define RAWCAP_META_INDEX_MAX_PODS      (1u << 20) /* pod versions kept */
#define RAWCAP_META_INDEX_MAX_INTERVALS (1u << 22) /* address intervals kept */

/* "pod", "service", ... for enum rawcap_meta_kind; NULL if unknown. */
RAWCAP_API const char *rawcap_meta_kind_name(unsigned kind);
/*
 * Parse "pod,service,endpoints" (or "all") to a mask of 1u << kind. The kinds:
 * pod, service, endpoints (or endpointslice), namespace, process. -EINVAL on an
 * unknown name or an empty list; -ENOTSUP on interface, stats or node, kinds
 * the format reserves but capd never writes.
 */
RAWCAP_API int rawcap_meta_kind_mask(const char *list, uint32_t *mask);

/*
 * Decode one metadata payload to a single line of JSON (no newline), with
 * every key and value as JSON sees them. Returns the length written
 * (excluding the NUL), -EBADMSG if the payload is not one msgpack value, or
 * -ENOSPC if cap is too small. Binary values become base64 strings.
 */
RAWCAP_API int rawcap_meta_to_json(const void *payload, size_t len, char *buf, size_t cap);

struct rawcap_meta_index;

RAWCAP_API int rawcap_meta_index_new(struct rawcap_meta_index **out);
RAWCAP_API void rawcap_meta_index_free(struct rawcap_meta_index *ix);

/*
 * Feed one metadata record (kind = the record's flags). Records of kinds the
 * index does not use are ignored (return 0). Returns 0, -EBADMSG for a pod
 * or process record it cannot decode, -ENOSPC when the index is full
 * (counted). Process records feed a bounded table of sockets (the oldest
 * forgotten first) used by rawcap_meta_pkt_comment().
 */
RAWCAP_API int rawcap_meta_index_add(struct rawcap_meta_index *ix, unsigned kind, uint64_t ts_ns,
				     const void *payload, size_t len);
/*
 * The same for a record from rawcap_next_copy() (or any source that is not
 * the live ring: the payload is copied before it is parsed, but a record
 * overwritten while being read would be indexed). Non-META records are ignored.
 */
RAWCAP_API int rawcap_meta_index_add_rec(struct rawcap_meta_index *ix, const struct rawcap_rec *rec);

/*
 * Seek cursor to from_ns - lookback_ns (lookback 0: RAWCAP_META_LOOKBACK_NS),
 * feed the META records before from_ns, and leave the cursor at from_ns.
 * Returns 0 or a negative errno from the cursor.
 */
#define RAWCAP_META_LOOKBACK_NS (600ull * 1000000000ull) /* twice capd's default resync */
RAWCAP_API int rawcap_meta_index_prime(struct rawcap_meta_index *ix, struct rawcap_cursor *c,
				       uint64_t from_ns, uint64_t lookback_ns);
/*
 * rawcap_meta_index_prime() in bounded steps, for a reader that must keep
 * serving other work between steps.
 * _begin() seeks; then each _step() feeds at most budget records, using
 * buf (cap bytes, RAWCAP_REC_MAX is always enough) as scratch. Both return
 * 1 while history remains to be read, 0 once the cursor is at from_ns,
 * or a negative errno from the cursor.
 */
RAWCAP_API int rawcap_meta_index_prime_begin(struct rawcap_meta_index *ix,
					     struct rawcap_cursor *c, uint64_t from_ns,
					     uint64_t lookback_ns);
RAWCAP_API int rawcap_meta_index_prime_step(struct rawcap_meta_index *ix, struct rawcap_cursor *c,
					    uint64_t from_ns, void *buf, size_t cap,
					    unsigned budget);

struct rawcap_meta_pod {
	const char *namespace_; /* strings live as long as the index */
	const char *name;
	const char *uid;
	const char *node;
	uint64_t from_ns; /* the interval during which the pod held the address */
	uint64_t to_ns;	  /* UINT64_MAX: still holds it */
	const void *priv; /* for rawcap_meta_pod_label() */
};

/*
 * Which pod held address addr (4 bytes for AF_INET, 16 for AF_INET6) at ts_ns?
 * Returns 1 with *out filled, 0 if no pod is known to have held it then.
 */
RAWCAP_API int rawcap_meta_pod_at(const struct rawcap_meta_index *ix, int family, const void *addr,
				  uint64_t ts_ns, struct rawcap_meta_pod *out);
/* The value of label key on that pod version, or NULL. */
RAWCAP_API const char *rawcap_meta_pod_label(const struct rawcap_meta_pod *pod, const char *key);

struct rawcap_meta_index_stats {
	uint64_t records, pod_records, bad_records, full;
	uint64_t pods, intervals;
};
RAWCAP_API void rawcap_meta_index_stats(const struct rawcap_meta_index *ix,
					struct rawcap_meta_index_stats *out);

/*
 * Source and destination addresses of a packet record (Ethernet with VLAN
 * tags, Linux cooked v1/v2, raw IPv4/IPv6). Returns the family (AF_INET or
 * AF_INET6) with src/dst filled (16 bytes each, IPv4 in the first 4), or 0
 * if the packet is not IP or too short.
 */
RAWCAP_API int rawcap_pkt_addrs(const struct rawcap_rec *rec, uint8_t src[16], uint8_t dst[16]);

/*
 * The flow of a packet record: its addresses as rawcap_pkt_addrs(), its IP
 * protocol (after IPv6 extension headers) and, when the packet is TCP or UDP,
 * not a later fragment, and its first 4 transport bytes were captured, its
 * ports (then ports is true). Returns the family, or 0 as rawcap_pkt_addrs().
 */
struct rawcap_pkt_flow {
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;	  /* host order; 0 unless ports */
	uint8_t proto;		  /* IPPROTO_*, 0 if not reached */
	bool ports;
};
RAWCAP_API int rawcap_pkt_flow(const struct rawcap_rec *rec, struct rawcap_pkt_flow *out);

/*
 * Pod selection for --pod, --namespace and --label. Several --pod or several
 * --namespace values are alternatives (OR); several --label criteria must
 * all hold (AND, as in kubectl -l a=b,c=d); the three kinds are ANDed. A
 * packet matches if its source or its destination address belonged, at the
 * packet's time, to a matching pod.
 */
enum rawcap_sel_type {
	RAWCAP_SEL_POD = 1,	  /* "name" or "namespace/name" */
	RAWCAP_SEL_NAMESPACE = 2, /* "namespace" */
	RAWCAP_SEL_LABEL = 3,	  /* "key=value", or "key" for "has the label" */
};

struct rawcap_meta_sel;

RAWCAP_API int rawcap_meta_sel_new(struct rawcap_meta_sel **out);
RAWCAP_API void rawcap_meta_sel_free(struct rawcap_meta_sel *sel);
/* Add a criterion; -EINVAL for an empty or malformed argument. */
RAWCAP_API int rawcap_meta_sel_add(struct rawcap_meta_sel *sel, enum rawcap_sel_type type,
				   const char *arg);
/* True if no criterion was added (everything matches). */
RAWCAP_API bool rawcap_meta_sel_empty(const struct rawcap_meta_sel *sel);
/* Does this pod match? */
RAWCAP_API bool rawcap_meta_sel_match_pod(const struct rawcap_meta_sel *sel,
					  const struct rawcap_meta_pod *pod);
/* Does this packet record match? 1 yes, 0 no (also for non-IP packets). */
RAWCAP_API int rawcap_meta_sel_match(const struct rawcap_meta_sel *sel,
				     const struct rawcap_meta_index *ix, const struct rawcap_rec *rec);

/*
 * A packet comment naming the pods of its addresses at its time, e.g.
 * "src pod rc-test/web-a; dst pod rc-test/web-d". Returns the length, 0 if
 * neither address belonged to a known pod (buf is then ""), -ENOSPC.
 * When process records (RAWCAP_META_PROCESS) name the local process of the
 * packet's TCP/UDP flow, "pid=123 comm=curl container=abc123def456" follows
 * (container: the short id, when known); when both ends are local processes,
 * "src pid=... comm=...; dst pid=... comm=...".
 */
RAWCAP_API int rawcap_meta_pkt_comment(const struct rawcap_meta_index *ix,
				       const struct rawcap_rec *rec, char *buf, size_t cap);

/*
 * Pod awareness for the export loop (rawcap/window.h) in three calls, shared
 * by rawcap-pcap, rawcap-snapshot and rawcap-forward:
 *
 *	rawcap_meta_join_new(&j);
 *	rawcap_meta_join_add(j, RAWCAP_SEL_POD, optarg);	// per --pod/--namespace/--label
 *	rawcap_meta_join_attach(j, &window_opts, true);		// true: comment packets
 *	rawcap_window_run(&window_opts, &sink, &res);
 *	rawcap_meta_join_free(j);
 *
 * attach makes the loop feed every metadata record (from a lookback window
 * before --from on) to the join's index, select packets by the criteria
 * added (all packets when none), and, if comments is true, set each packet's
 * comment to the pods of its addresses at its time. It replaces the
 * window's context hook only when comments is true.
 */
struct rawcap_window_opts;
struct rawcap_meta_join;

RAWCAP_API int rawcap_meta_join_new(struct rawcap_meta_join **out);
RAWCAP_API void rawcap_meta_join_free(struct rawcap_meta_join *j);
RAWCAP_API int rawcap_meta_join_add(struct rawcap_meta_join *j, enum rawcap_sel_type type,
				    const char *arg);
RAWCAP_API void rawcap_meta_join_attach(struct rawcap_meta_join *j, struct rawcap_window_opts *o,
					bool comments);
/* The join's index and selector, e.g. for statistics. */
RAWCAP_API struct rawcap_meta_index *rawcap_meta_join_index(struct rawcap_meta_join *j);
RAWCAP_API struct rawcap_meta_sel *rawcap_meta_join_sel(struct rawcap_meta_join *j);

/*
 * --pod, --namespace and --label, parsed the same way by every reader: put
 * RAWCAP_META_SEL_LONGOPTS in the getopt_long table (needs <getopt.h>) and
 * hand every option value to rawcap_meta_sel_option() before rejecting it
 * (a reader with short letters for them maps those to RAWCAP_OPT_* first).
 * Returns 1 if opt was one of them (criterion added), 0 if it was not, or
 * -EINVAL for an empty or malformed argument.
 */
#define RAWCAP_OPT_POD	     (0x5200 + RAWCAP_SEL_POD)
#define RAWCAP_OPT_NAMESPACE (0x5200 + RAWCAP_SEL_NAMESPACE)
#define RAWCAP_OPT_LABEL     (0x5200 + RAWCAP_SEL_LABEL)
#define RAWCAP_META_SEL_LONGOPTS                                      \
	{"pod", required_argument, NULL, RAWCAP_OPT_POD},             \
	{"namespace", required_argument, NULL, RAWCAP_OPT_NAMESPACE}, \
	{"label", required_argument, NULL, RAWCAP_OPT_LABEL}
RAWCAP_API int rawcap_meta_sel_option(struct rawcap_meta_sel *sel, int opt, const char *arg);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_META_H */
