// SPDX-License-Identifier: MIT
/*
 * k8s_cache.c - uid-keyed, byte-bounded object cache (see k8s_cache.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_cache.h"

static size_t cost(const struct k8s_obj *o)
{
	return sizeof(struct k8s_centry) + o->body_len;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h % K8S_CACHE_BUCKETS;
}

void k8s_cache_init(struct k8s_cache *c, size_t max_bytes)
{
	memset(c, 0, sizeof(*c));
	c->max_bytes = max_bytes;
}

static void entry_free(struct k8s_cache *c, struct k8s_centry *e)
{
	c->count--;
	c->bytes -= cost(&e->obj);
	k8s_obj_free(&e->obj);
	free(e);
}

void k8s_cache_clear(struct k8s_cache *c)
{
	for (size_t i = 0; i < K8S_CACHE_BUCKETS; i++)
		while (c->b[i]) {
			struct k8s_centry *e = c->b[i];

			c->b[i] = e->next;
			entry_free(c, e);
		}
}

struct k8s_centry *k8s_cache_get(struct k8s_cache *c, const char *uid)
{
	for (struct k8s_centry *e = c->b[hash(uid)]; e; e = e->next)
		if (!strcmp(e->obj.uid, uid))
			return e;
	return NULL;
}

void k8s_cache_del(struct k8s_cache *c, const char *uid)
{
	for (struct k8s_centry **pp = &c->b[hash(uid)]; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->obj.uid, uid)) {
			struct k8s_centry *e = *pp;

			*pp = e->next;
			entry_free(c, e);
			return;
		}
}

int k8s_cache_put(struct k8s_cache *c, const struct k8s_obj *obj, uint32_t gen)
{
	struct k8s_centry *e;

	k8s_cache_del(c, obj->uid);
	if (c->bytes + cost(obj) > c->max_bytes) {
		c->full++;
		return -ENOSPC;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->obj = *obj;
	e->obj.body = malloc(obj->body_len ? obj->body_len : 1);
	if (!e->obj.body) {
		free(e);
		return -ENOMEM;
	}
	memcpy(e->obj.body, obj->body, obj->body_len);
	e->gen = gen;
	e->next = c->b[hash(obj->uid)];
	c->b[hash(obj->uid)] = e;
	c->count++;
	c->bytes += cost(obj);
	return 0;
}

size_t k8s_cache_walk(struct k8s_cache *c, size_t *pos, size_t max,
		      void (*fn)(void *ctx, struct k8s_centry *e), void *ctx)
{
	size_t n = 0;

	/* whole buckets at a time, so a resumed walk neither skips nor repeats */
	for (; *pos < K8S_CACHE_BUCKETS && n < max; (*pos)++)
		for (struct k8s_centry *e = c->b[*pos]; e; e = e->next, n++)
			fn(ctx, e);
	return n;
}

void k8s_cache_sweep(struct k8s_cache *c, uint32_t gen, void (*fn)(void *ctx, struct k8s_centry *e),
		     void *ctx)
{
	for (size_t i = 0; i < K8S_CACHE_BUCKETS; i++)
		for (struct k8s_centry **pp = &c->b[i]; *pp;) {
			struct k8s_centry *e = *pp;

			if (e->gen == gen) {
				pp = &e->next;
				continue;
			}
			fn(ctx, e);
			*pp = e->next;
			entry_free(c, e);
		}
}
