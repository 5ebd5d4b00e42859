/* SPDX-License-Identifier: MIT */
/*
 * meta_mp.h - checks and lookups on untrusted msgpack metadata payloads,
 * shared by the files of librawcap that decode metadata.
 */
#ifndef RAWCAP_LIB_META_MP_H
#define RAWCAP_LIB_META_MP_H

#include <stdbool.h>
#include <stddef.h>

#include <msgpack.h>

/*
 * True if p[0..len) is exactly one well-formed msgpack value whose every
 * container claims no more elements than bytes remain, so that unpacking it
 * allocates memory in proportion to len, never to what a header claims.
 */
bool meta_mp_check(const void *p, size_t len);

/* Unpack after meta_mp_check(); 0 or -EBADMSG. Destroy u with msgpack_unpacked_destroy. */
int meta_mp_unpack(const void *p, size_t len, msgpack_unpacked *u);

/* Map lookups: the value of key, or NULL (type-checked variants). */
const msgpack_object *meta_mp_get(const msgpack_object *map, const char *key);
/* A string value copied out as a NUL-terminated string into buf; "" if absent. */
const char *meta_mp_str(const msgpack_object *map, const char *key, char *buf, size_t cap);

#endif
