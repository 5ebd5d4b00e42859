/* SPDX-License-Identifier: MIT */
/*
 * k8s_cache.h - the watcher's bounded copy of the objects it last reported,
 * per resource, keyed by uid.
 *
 * It lets the watcher say "deleted" for objects that vanished while a watch
 * was broken (found by the relist that follows), skip objects a relist
 * shows unchanged, and restate every live object periodically ("sync"), so
 * that any window of the FIFO, however old its start, names the pods it saw.
 * Bounded in bytes: past the bound, new objects are still reported but not
 * cached (counted in full).
 */
#ifndef RAWCAP_K8S_CACHE_H
#define RAWCAP_K8S_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "k8s_json.h"

#define K8S_CACHE_BUCKETS 1024

struct k8s_centry {
	struct k8s_centry *next;
	uint32_t gen; /* list generation that last saw it */
	struct k8s_obj obj;
};

struct k8s_cache {
	struct k8s_centry *b[K8S_CACHE_BUCKETS];
	size_t count, bytes, max_bytes;
	uint64_t full; /* objects not cached for lack of room */
};

void k8s_cache_init(struct k8s_cache *c, size_t max_bytes);
void k8s_cache_clear(struct k8s_cache *c);
struct k8s_centry *k8s_cache_get(struct k8s_cache *c, const char *uid);
/* Store a copy of obj (replacing any entry of the same uid). 0, -ENOSPC or -ENOMEM. */
int k8s_cache_put(struct k8s_cache *c, const struct k8s_obj *obj, uint32_t gen);
void k8s_cache_del(struct k8s_cache *c, const char *uid);

/*
 * Visit entries from bucket *pos on, at most max of them; fn may not modify
 * the cache. Returns the number visited; *pos is K8S_CACHE_BUCKETS when done.
 */
size_t k8s_cache_walk(struct k8s_cache *c, size_t *pos, size_t max,
		      void (*fn)(void *ctx, struct k8s_centry *e), void *ctx);

/* Remove, calling fn first, every entry whose gen differs from gen. */
void k8s_cache_sweep(struct k8s_cache *c, uint32_t gen, void (*fn)(void *ctx, struct k8s_centry *e),
		     void *ctx);

#endif
