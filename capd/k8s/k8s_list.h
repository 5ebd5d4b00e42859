/* SPDX-License-Identifier: MIT */
/*
 * k8s_list.h - read a Kubernetes LIST response body as it arrives, one item
 * at a time, in memory bounded by the largest item, whatever the page size.
 *
 * A list page is {"metadata":{...},"items":[{...},{...}],...}. The scanner
 * follows the JSON structure (strings, escapes, nesting) just far enough to
 * cut the top-level "items" array into its elements and to keep the top-level
 * "metadata" object; each element is then parsed on its own by cJSON
 * (k8s_json_item()). An element over lim->max_line is not kept: its bytes
 * are counted as they pass and it is reported to skipped(), so one huge
 * object costs that object, never its page or the rest of its resource.
 *
 *	struct k8s_list_scan sc;
 *	k8s_list_begin(&sc, K8S_RES_POD, &lim, on_item, on_skipped, ctx);
 *	while (bytes arrive)
 *		if (k8s_list_feed(&sc, p, n)) break;	// not a list page: stop reading
 *	err = k8s_list_end(&sc, rv, sizeof(rv), cont, sizeof(cont));
 *	k8s_list_free(&sc);
 */
#ifndef RAWCAP_K8S_LIST_H
#define RAWCAP_K8S_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_json.h"

#define K8S_LIST_META_MAX (64 * 1024) /* the list's own metadata: versions and a token */

struct k8s_list_scan {
	enum k8s_res res;
	const struct k8s_json_limits *lim;
	/* obj->ev is K8S_EV_ADDED; obj is freed after the call. */
	void (*item)(void *ctx, struct k8s_obj *obj);
	/* An item was left out: -E2BIG (bytes long, over max_line) or -EBADMSG (not an object). */
	void (*skipped)(void *ctx, int why, size_t bytes);
	void *ctx;
	/* Where the scanner is. */
	uint32_t depth; /* nesting: 1 inside the page object, 2 inside a top-level value */
	uint8_t top;	/* state between the page object's keys and values */
	uint8_t value;	/* what the top-level value being read is: items, metadata, other */
	bool in_str, esc;
	bool seen_items, seen_meta;
	char key[16]; /* the top-level key being read (longer keys are none we want) */
	size_t key_len;
	/* The element or metadata being kept. */
	char *buf;
	size_t len, cap, bytes; /* bytes: the element's length, even past the bound */
	bool keeping, too_big;
	char *meta;
	size_t meta_len;
	int err;
	uint64_t items, skipped_items;
};

void k8s_list_begin(struct k8s_list_scan *s, enum k8s_res res, const struct k8s_json_limits *lim,
		    void (*item)(void *ctx, struct k8s_obj *obj),
		    void (*skipped)(void *ctx, int why, size_t bytes), void *ctx);
/* Scan n more bytes of the body. 0, or -EBADMSG once it is clear this is not a list page. */
int k8s_list_feed(struct k8s_list_scan *s, const char *p, size_t n);
/*
 * The body is complete: check its shape and return the list's resourceVersion
 * and continue token ("" on the last page). 0, or -EBADMSG (truncated, no
 * "items" array or "metadata" object, a token longer than cont_len - 1).
 */
int k8s_list_end(struct k8s_list_scan *s, char *rv, size_t rv_len, char *cont, size_t cont_len);
/*
 * Make *buf hold at least need bytes (doubling from 64 KiB, at most max):
 * the one growth rule of the watcher's buffers. 0 or -ENOMEM.
 */
int k8s_buf_reserve(char **buf, size_t *cap, size_t need, size_t max);

/* Free the buffers (the scanner may be begun again). */
void k8s_list_free(struct k8s_list_scan *s);

#endif
