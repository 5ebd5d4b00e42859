/* SPDX-License-Identifier: MIT */
/*
 * meta_index.h - pod versions as the index keeps them, and decoding pod
 * records into them (meta_pod.c); used by meta_index.c and meta_sel.c.
 */
#ifndef RAWCAP_LIB_META_INDEX_H
#define RAWCAP_LIB_META_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/meta.h>

#define META_POD_IPS_MAX 16

/* One immutable version of a pod: what a packet comment or a selector needs. */
struct meta_pod {
	const char *ns, *name, *uid, *node;
	uint32_t nlabels;
	const char **labels; /* key, value, key, value ... */
	char *strs;	     /* one block holding every string above */
	size_t strs_len;
};

struct meta_pod_rec {
	struct meta_pod *pod; /* owned by the caller */
	bool active;	      /* holds its addresses (not deleted, finished or host network) */
	uint8_t ips[META_POD_IPS_MAX][17];
	int nips;
};

int meta_pod_decode(const void *payload, size_t len, struct meta_pod_rec *r);
bool meta_pod_same(const struct meta_pod *a, const struct meta_pod *b);
void meta_pod_view(const struct meta_pod *p, uint64_t from, uint64_t to,
		   struct rawcap_meta_pod *out);
/* Family byte + 16 address bytes; false for an unknown family. */
bool meta_ip_key(int family, const void *addr, uint8_t key[17]);

#endif
