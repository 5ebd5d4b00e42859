// SPDX-License-Identifier: MIT
/*
 * meta_mp.c - a structural pre-check for msgpack from the ring, and small
 * lookups (see meta_mp.h). msgpack-c allocates a container's elements from
 * its header's count before reading them; the pre-check makes sure such a
 * count is backed by bytes, so a 5-byte payload cannot ask for gigabytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "meta_mp.h"

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Size of the item at p: header bytes *hdr, then *body payload bytes, then
 * *kids nested items. Returns false for the invalid byte 0xc1 or a truncated header.
 */
static bool item(const uint8_t *p, size_t left, size_t *hdr, uint64_t *body, uint64_t *kids)
{
	static const uint8_t fixed[32] = {
		/* 0xc0..0xdf: header length incl. tag, 0 = handled below */
		1, 0, 1, 1, 2, 3, 5, 3, 4, 6, 5, 9, 2, 3, 5, 9,
		2, 3, 5, 9, 3, 4, 6, 10, 18, 2, 3, 5, 3, 5, 3, 5,
	};
	uint8_t t = p[0];

	*hdr = 1, *body = 0, *kids = 0;
	if (t <= 0x7f || t >= 0xe0)
		return true;
	if (t <= 0x8f)
		return *kids = 2ull * (t & 0x0f), true;
	if (t <= 0x9f)
		return *kids = t & 0x0f, true;
	if (t <= 0xbf)
		return *body = t & 0x1f, true;
	if (t == 0xc1 || fixed[t - 0xc0] > left)
		return false;
	*hdr = fixed[t - 0xc0];
	switch (t) {
	case 0xc4: case 0xc5: case 0xc6: /* bin */
	case 0xd9: case 0xda: case 0xdb: /* str */
		*body = be(p + 1, (unsigned)*hdr - 1);
		break;
	case 0xc7: case 0xc8: case 0xc9: /* ext: length, then a type byte in the header */
		*body = be(p + 1, (unsigned)*hdr - 2);
		break;
	case 0xdc: case 0xdd:
		*kids = be(p + 1, (unsigned)*hdr - 1);
		break;
	case 0xde: case 0xdf:
		*kids = 2 * be(p + 1, (unsigned)*hdr - 1);
		break;
	}
	return true;
}

bool meta_mp_check(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t pending = 1;
	size_t off = 0;

	while (pending) {
		size_t hdr;
		uint64_t body, kids;

		if (off >= len || !item(p + off, len - off, &hdr, &body, &kids))
			return false;
		pending--;
		if (hdr > len - off || body > len - off - hdr)
			return false;
		off += hdr + (size_t)body;
		/* every element takes at least one byte */
		if (kids > len - off || pending + kids > len - off)
			return false;
		pending += kids;
	}
	return off == len;
}

int meta_mp_unpack(const void *p, size_t len, msgpack_unpacked *u)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	if (!meta_mp_check(p, len) ||
	    msgpack_unpack_next(u, p, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_unpacked_destroy(u);
		msgpack_unpacked_init(u);
		return -EBADMSG;
	}
	return 0;
}

const msgpack_object *meta_mp_get(const msgpack_object *map, const char *key)
{
	size_t n = strlen(key);

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    !memcmp(k->via.str.ptr, key, n))
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

const char *meta_mp_str(const msgpack_object *map, const char *key, char *buf, size_t cap)
{
	const msgpack_object *v = meta_mp_get(map, key);
	size_t n = 0;

	if (v && v->type == MSGPACK_OBJECT_STR) {
		n = v->via.str.size < cap - 1 ? v->via.str.size : cap - 1;
		memcpy(buf, v->via.str.ptr, n);
	}
	buf[n] = 0;
	return buf;
}
