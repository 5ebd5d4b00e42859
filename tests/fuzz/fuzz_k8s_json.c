// SPDX-License-Identifier: MIT
/*
 * fuzz_k8s_json.c - fuzz the Kubernetes JSON to metadata conversion (capd's
 * k8s_json.c) and, on everything it produces, the reader side: msgpack to
 * JSON and the pod/IP index (librawcap's meta_*.c).
 *
 * Input: one selector byte (bits 0-1: resource; bit 2: a list page rather
 * than a watch line; bits 3-7: chunk size - 1 for the list scanner), then
 * the JSON text. Every record the converter emits must be decodable by
 * librawcap, and a list page scanned in chunks must give what it gives
 * whole; anything else is a bug, so we abort.
 * Its corpus replay build links tests/fuzz/replay.c instead of libFuzzer.
 * directory, which ctest runs in every build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/format.h>
#include <rawcap/meta.h>

#include "k8s_json.h"
#include "k8s_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct k8s_json_limits lim = { .max_line = 1u << 20, .max_record = 64u << 10 };

static void check_record(const struct k8s_obj *obj)
{
	static char json[1u << 20];
	static const enum k8s_ev evs[] = { K8S_EV_ADDED, K8S_EV_DELETED, K8S_EV_SYNC };
	struct rawcap_meta_index *ix;
	uint8_t *rec;
	size_t len;

	if (rawcap_meta_index_new(&ix))
		return;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (k8s_record_build(obj, evs[i], lim.max_record, &rec, &len))
			continue;
		if (rawcap_meta_to_json(rec, len, json, sizeof(json)) < 0)
			abort(); /* capd wrote a record readers cannot decode */
		if (rawcap_meta_index_add(ix, k8s_res_meta_kind(obj->res), 1000 + i, rec, len) ==
		    -EBADMSG)
			abort();
		free(rec);
	}
	rawcap_meta_index_free(ix);
}

static void on_item(void *ctx, struct k8s_obj *obj)
{
	(*(uint64_t *)ctx)++;
	check_record(obj);
}

/* The streaming scanner fed in chunks must find what k8s_json_list() finds in one go. */
static void check_chunked(enum k8s_res res, const char *body, size_t len, size_t chunk, int whole,
			  uint64_t items, uint64_t rejected)
{
	struct k8s_list_scan sc = {0};
	char rv[K8S_RV_MAX], cont[256];
	uint64_t n = 0;
	int err = 0;

	k8s_list_begin(&sc, res, &lim, on_item, NULL, &n);
	for (size_t off = 0; off < len && !err; off += chunk)
		err = k8s_list_feed(&sc, body + off, len - off < chunk ? len - off : chunk);
	if (!err)
		err = k8s_list_end(&sc, rv, sizeof(rv), cont, sizeof(cont));
	if (err != whole || (!err && (n != items || sc.skipped_items != rejected)))
		abort();
	k8s_list_free(&sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char rv[K8S_RV_MAX], cont[256];
	uint64_t rejected = 0;
	struct k8s_obj obj;
	enum k8s_res res;

	if (size < 1)
		return 0;
	res = (enum k8s_res)(data[0] & 3);
	if (data[0] & 4) {
		uint64_t items = 0;
		int err = k8s_json_list(res, (const char *)data + 1, size - 1, &lim, on_item,
					&items, rv, sizeof(rv), cont, sizeof(cont), &rejected);

		check_chunked(res, (const char *)data + 1, size - 1, (data[0] >> 3) + 1u, err,
			      items, rejected);
		return 0;
	}
	if (!k8s_json_event(res, (const char *)data + 1, size - 1, &lim, &obj)) {
		if (obj.body)
			check_record(&obj);
		k8s_obj_free(&obj);
	}
	return 0;
}
