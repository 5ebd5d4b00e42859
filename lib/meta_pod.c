// SPDX-License-Identifier: MIT
/*
 * meta_pod.c - decode a pod metadata record (docs/METADATA.md, "pod") into
 * the compact, immutable form the pod/IP index keeps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meta_index.h"
#include "meta_mp.h"

#define LABELS_MAX 256

bool meta_ip_key(int family, const void *addr, uint8_t key[17])
{
	memset(key, 0, 17);
	if (family == AF_INET)
		memcpy(key + 1, addr, 4);
	else if (family == AF_INET6)
		memcpy(key + 1, addr, 16);
	else
		return false;
	key[0] = (uint8_t)family;
	return true;
}

static bool is_str(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_STR;
}

static size_t str_len(const msgpack_object *o)
{
	return is_str(o) ? o->via.str.size + 1 : 1;
}

/* Append o's string (or "") to the block at *pos; returns where it starts. */
static const char *str_put(char *blk, size_t *pos, const msgpack_object *o)
{
	char *s = blk + *pos;
	size_t n = is_str(o) ? o->via.str.size : 0;

	if (n)
		memcpy(s, o->via.str.ptr, n);
	s[n] = 0;
	*pos += n + 1;
	return s;
}

static void parse_ips(const msgpack_object *ips, struct meta_pod_rec *r)
{
	char tmp[64];

	r->nips = 0;
	if (!ips || ips->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (uint32_t i = 0; i < ips->via.array.size && r->nips < META_POD_IPS_MAX; i++) {
		const msgpack_object *o = &ips->via.array.ptr[i];
		uint8_t addr[16];
		size_t n;

		if (!is_str(o) || (n = o->via.str.size) >= sizeof(tmp))
			continue;
		memcpy(tmp, o->via.str.ptr, n);
		tmp[n] = 0;
		if (inet_pton(AF_INET, tmp, addr) == 1)
			meta_ip_key(AF_INET, addr, r->ips[r->nips++]);
		else if (inet_pton(AF_INET6, tmp, addr) == 1)
			meta_ip_key(AF_INET6, addr, r->ips[r->nips++]);
	}
}

static struct meta_pod *pod_build(const msgpack_object *m)
{
	const msgpack_object *ns = meta_mp_get(m, "namespace"), *name = meta_mp_get(m, "name");
	const msgpack_object *uid = meta_mp_get(m, "uid"), *node = meta_mp_get(m, "node");
	const msgpack_object *lab = meta_mp_get(m, "labels");
	uint32_t nl = 0;
	size_t total, pos = 0;
	struct meta_pod *p;

	if (lab && lab->type == MSGPACK_OBJECT_MAP)
		nl = lab->via.map.size < LABELS_MAX ? lab->via.map.size : LABELS_MAX;
	total = str_len(ns) + str_len(name) + str_len(uid) + str_len(node);
	for (uint32_t i = 0; i < nl; i++)
		total += str_len(&lab->via.map.ptr[i].key) + str_len(&lab->via.map.ptr[i].val);
	p = calloc(1, sizeof(*p) + 2 * nl * sizeof(char *));
	if (!p)
		return NULL;
	p->strs = malloc(total);
	if (!p->strs) {
		free(p);
		return NULL;
	}
	p->strs_len = total;
	p->labels = (const char **)(p + 1);
	p->ns = str_put(p->strs, &pos, ns);
	p->name = str_put(p->strs, &pos, name);
	p->uid = str_put(p->strs, &pos, uid);
	p->node = str_put(p->strs, &pos, node);
	for (uint32_t i = 0; i < nl; i++) {
		p->labels[2 * p->nlabels] = str_put(p->strs, &pos, &lab->via.map.ptr[i].key);
		p->labels[2 * p->nlabels + 1] = str_put(p->strs, &pos, &lab->via.map.ptr[i].val);
		p->nlabels++;
	}
	return p;
}

int meta_pod_decode(const void *payload, size_t len, struct meta_pod_rec *r)
{
	const msgpack_object *m, *hn;
	msgpack_unpacked u;
	char ev[16], phase[16], uid[8];

	memset(r, 0, sizeof(*r));
	if (meta_mp_unpack(payload, len, &u))
		return -EBADMSG;
	m = &u.data;
	if (m->type != MSGPACK_OBJECT_MAP || !*meta_mp_str(m, "uid", uid, sizeof(uid))) {
		msgpack_unpacked_destroy(&u);
		return -EBADMSG;
	}
	meta_mp_str(m, "event", ev, sizeof(ev));
	meta_mp_str(m, "phase", phase, sizeof(phase));
	hn = meta_mp_get(m, "host_network");
	parse_ips(meta_mp_get(m, "ips"), r);
	r->active = strcmp(ev, "deleted") && strcmp(phase, "Succeeded") && strcmp(phase, "Failed") &&
		    !(hn && hn->type == MSGPACK_OBJECT_BOOLEAN && hn->via.boolean) && r->nips;
	r->pod = pod_build(m);
	msgpack_unpacked_destroy(&u);
	return r->pod ? 0 : -ENOMEM;
}

bool meta_pod_same(const struct meta_pod *a, const struct meta_pod *b)
{
	return a->strs_len == b->strs_len && a->nlabels == b->nlabels &&
	       !memcmp(a->strs, b->strs, a->strs_len);
}

void meta_pod_view(const struct meta_pod *p, uint64_t from, uint64_t to,
		   struct rawcap_meta_pod *out)
{
	out->namespace_ = p->ns;
	out->name = p->name;
	out->uid = p->uid;
	out->node = p->node;
	out->from_ns = from;
	out->to_ns = to;
	out->priv = p;
}

const char *rawcap_meta_pod_label(const struct rawcap_meta_pod *pod, const char *key)
{
	const struct meta_pod *p = pod->priv;

	for (uint32_t i = 0; p && i < p->nlabels; i++)
		if (!strcmp(p->labels[2 * i], key))
			return p->labels[2 * i + 1];
	return NULL;
}
