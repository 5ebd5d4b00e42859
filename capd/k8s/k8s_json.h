/* SPDX-License-Identifier: MIT */
/*
 * k8s_json.h - turn Kubernetes API JSON (list pages and watch event lines)
 * into rawcap metadata records (msgpack, schema in docs/METADATA.md).
 *
 * This is a parser of untrusted bytes: every input is bounded by length
 * (k8s_json_limits), every list inside an object by count, and the record
 * it produces by size. Anything over a bound is rejected whole (-E2BIG),
 * never truncated, so a record in the ring is always the full object.
 *
 * An object converts to a "body": the msgpack key/value pairs that describe
 * it, without the envelope (v, kind, event). The watcher caches bodies so it
 * can emit "deleted" after a relist and periodic "sync" copies, and builds
 * each record with k8s_record_build().
 */
#ifndef RAWCAP_K8S_JSON_H
#define RAWCAP_K8S_JSON_H

#include <stddef.h>
#include <stdint.h>

#define K8S_SCHEMA_VERSION 1
#define K8S_UID_MAX	   64
#define K8S_RV_MAX	   64

enum k8s_res {
	K8S_RES_POD = 0,
	K8S_RES_NAMESPACE,
	K8S_RES_SERVICE,
	K8S_RES_ENDPOINTS,
	K8S_RES_NR,
};

enum k8s_ev {
	K8S_EV_NONE = 0,
	K8S_EV_ADDED,
	K8S_EV_MODIFIED,
	K8S_EV_DELETED,
	K8S_EV_SYNC,	 /* periodic restatement of a cached object */
	K8S_EV_BOOKMARK, /* watch only: new resourceVersion, no object */
	K8S_EV_ERROR,	 /* watch only: a Status object (code in err_code) */
};

struct k8s_json_limits {
	size_t max_line;   /* largest watch event line / list item, bytes */
	size_t max_record; /* largest msgpack record produced */
};

struct k8s_obj {
	enum k8s_res res;
	enum k8s_ev ev;		/* type of the watch event, or K8S_EV_ADDED for list items */
	int err_code;		/* K8S_EV_ERROR: Status.code (410 = Gone) */
	char uid[K8S_UID_MAX];	/* metadata.uid ("" for bookmarks and errors) */
	char rv[K8S_RV_MAX];	/* metadata.resourceVersion */
	uint32_t npairs;	/* key/value pairs in body */
	uint8_t *body;		/* malloc'd msgpack pairs; NULL for bookmarks and errors */
	size_t body_len;
};

const char *k8s_res_name(enum k8s_res res);	/* "pod", "namespace", ... */
uint16_t k8s_res_meta_kind(enum k8s_res res);	/* enum rawcap_meta_kind */
const char *k8s_ev_name(enum k8s_ev ev);	/* "added", ... */

/*
 * Parse one watch event line ({"type":..., "object":{...}}). Returns 0 with
 * *obj filled (free with k8s_obj_free), -EBADMSG for malformed JSON or a
 * shape that is not a watch event, -E2BIG for an object over the limits.
 */
int k8s_json_event(enum k8s_res res, const char *line, size_t len,
		   const struct k8s_json_limits *lim, struct k8s_obj *obj);

/*
 * Parse one object of a list ({"metadata":{...},...}) into obj (obj->ev =
 * K8S_EV_ADDED; free with k8s_obj_free). 0, -E2BIG if len is over
 * lim->max_line or the object over the limits, -EBADMSG if it is not one.
 */
int k8s_json_item(enum k8s_res res, const char *json, size_t len, const struct k8s_json_limits *lim,
		  struct k8s_obj *obj);

/* The list's own metadata object: its resourceVersion and continue token. 0 or -EBADMSG. */
int k8s_json_list_meta(const char *json, size_t len, char *rv, size_t rv_len, char *cont,
		       size_t cont_len);

/*
 * Parse one whole list page ({"metadata":{"resourceVersion","continue"},
 * "items":[...]}), with the streaming scanner of k8s_list.h. Calls item(ctx,
 * obj) for each item (the callee owns nothing, obj is freed after the call).
 * Items over the limits are counted in *rejected and skipped. rv and cont
 * receive the list's resourceVersion and continue token. 0 or -EBADMSG.
 */
int k8s_json_list(enum k8s_res res, const char *body, size_t len,
		  const struct k8s_json_limits *lim, void (*item)(void *ctx, struct k8s_obj *obj),
		  void *ctx, char *rv, size_t rv_len, char *cont, size_t cont_len,
		  uint64_t *rejected);

/*
 * Build the full record (envelope + body) for obj with event ev into a
 * malloc'd buffer. Returns 0, -ENOMEM, or -E2BIG if over max_record.
 */
int k8s_record_build(const struct k8s_obj *obj, enum k8s_ev ev, size_t max_record,
		     uint8_t **out, size_t *out_len);

void k8s_obj_free(struct k8s_obj *obj);

#endif
