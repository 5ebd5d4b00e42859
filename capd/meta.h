/* SPDX-License-Identifier: MIT */
/*
 * meta.h - write one msgpack map as a RAWCAP_REC_META record.
 *
 * Build the map with msgpack_pack_* into a capd_meta (an sbuffer plus a
 * packer), then capd_meta_write() copies it into a reserved ring record.
 * Reuse one capd_meta per source: capd_meta_reset() keeps the buffer.
 *
 *	capd_meta_reset(&m);
 *	msgpack_pack_map(&m.pk, 2);
 *	capd_meta_str(&m, "v"); msgpack_pack_uint8(&m.pk, 1);
 *	capd_meta_kv_str(&m, "name", "eth0");
 *	capd_meta_write(&m, &ctx->ring, RAWCAP_META_IFACE, now);
 */
#ifndef CAPD_META_H
#define CAPD_META_H

#include <stdint.h>
#include <msgpack.h>

#include "ring_writer.h"

#define CAPD_META_SCHEMA 1 /* value of the "v" key every map carries */

struct capd_meta {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

void capd_meta_init(struct capd_meta *m);
void capd_meta_reset(struct capd_meta *m);
void capd_meta_destroy(struct capd_meta *m);
void capd_meta_str(struct capd_meta *m, const char *s);
void capd_meta_kv_str(struct capd_meta *m, const char *k, const char *v);
void capd_meta_kv_u64(struct capd_meta *m, const char *k, uint64_t v);
/* 0, or -EMSGSIZE if the map exceeds the ring's largest record (counted as loss). */
int capd_meta_write(struct capd_meta *m, struct ring_writer *w, uint16_t kind, uint64_t ts_ns);

#endif
