/* SPDX-License-Identifier: MIT */
/*
 * mp_pack.h - the msgpack string and key/value packing that capd's metadata
 * maps are built from (proc_meta.c, k8s_json.c), over msgpack-c's packer.
 */
#ifndef CAPD_MP_PACK_H
#define CAPD_MP_PACK_H

#include <stdint.h>
#include <string.h>
#include <msgpack.h>

static inline void mp_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static inline void mp_pack_str(msgpack_packer *pk, const char *s)
{
	mp_pack_strn(pk, s, strlen(s));
}

static inline void mp_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	mp_pack_str(pk, k);
	mp_pack_str(pk, v);
}

static inline void mp_pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	mp_pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

#endif
