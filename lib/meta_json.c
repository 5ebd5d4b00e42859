// SPDX-License-Identifier: MIT
/*
 * meta_json.c - metadata records (msgpack) to JSON text, for rawcap-tap and
 * any reader that wants to print metadata.
 *
 * The payload comes from the ring and is untrusted: msgpack-c's unpacker
 * bounds nesting, we bound the output, and strings that are not valid
 * UTF-8 have their bad bytes replaced by U+FFFD so that every line we print
 * is valid JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include <rawcap/meta.h>

#include "meta_mp.h"

struct jw {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->full || w->len + n >= w->cap) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void puts_(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	size_t need;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		need = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		need = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		need = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (need > n)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and code points past U+10FFFF are invalid */
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

static void put_str(struct jw *w, const char *p, size_t n)
{
	const uint8_t *s = (const uint8_t *)p;
	char esc[8];

	put(w, "\"", 1);
	for (size_t i = 0; i < n && !w->full;) {
		size_t l;

		if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			put(w, esc, 2);
			i++;
		} else if (s[i] < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			put(w, esc, 6);
			i++;
		} else if ((l = utf8_len(s + i, n - i))) {
			put(w, (const char *)s + i, l);
			i += l;
		} else {
			puts_(w, "\\ufffd");
			i++;
		}
	}
	put(w, "\"", 1);
}

static void put_b64(struct jw *w, const uint8_t *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];

	put(w, "\"", 1);
	for (size_t i = 0; i < n && !w->full; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);

		out[0] = tab[v >> 18 & 63];
		out[1] = tab[v >> 12 & 63];
		out[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[3] = i + 2 < n ? tab[v & 63] : '=';
		put(w, out, 4);
	}
	put(w, "\"", 1);
}

static void put_obj(struct jw *w, const msgpack_object *o);

/* Map keys must be strings in JSON: other keys are printed as their JSON text, quoted. */
static void put_key(struct jw *w, const msgpack_object *k)
{
	char tmp[256];
	struct jw kw = { .buf = tmp, .cap = sizeof(tmp) };

	if (k->type == MSGPACK_OBJECT_STR) {
		put_str(w, k->via.str.ptr, k->via.str.size);
		return;
	}
	put_obj(&kw, k);
	put_str(w, tmp, kw.full ? 0 : kw.len);
}

static void put_num(struct jw *w, const msgpack_object *o)
{
	char tmp[40];

	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)o->via.u64);
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		snprintf(tmp, sizeof(tmp), "%lld", (long long)o->via.i64);
	else if (isfinite(o->via.f64))
		snprintf(tmp, sizeof(tmp), "%.17g", o->via.f64);
	else
		snprintf(tmp, sizeof(tmp), "null");
	puts_(w, tmp);
}

static void put_obj(struct jw *w, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		puts_(w, "null");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		puts_(w, o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		put_num(w, o);
		break;
	case MSGPACK_OBJECT_STR:
		put_str(w, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		put_b64(w, (const uint8_t *)o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		put_b64(w, (const uint8_t *)o->via.ext.ptr, o->via.ext.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		put(w, "[", 1);
		for (uint32_t i = 0; i < o->via.array.size && !w->full; i++) {
			if (i)
				put(w, ",", 1);
			put_obj(w, &o->via.array.ptr[i]);
		}
		put(w, "]", 1);
		break;
	case MSGPACK_OBJECT_MAP:
		put(w, "{", 1);
		for (uint32_t i = 0; i < o->via.map.size && !w->full; i++) {
			if (i)
				put(w, ",", 1);
			put_key(w, &o->via.map.ptr[i].key);
			put(w, ":", 1);
			put_obj(w, &o->via.map.ptr[i].val);
		}
		put(w, "}", 1);
		break;
	}
}

int rawcap_meta_to_json(const void *payload, size_t len, char *buf, size_t cap)
{
	struct jw w = { .buf = buf, .cap = cap };
	msgpack_unpacked u;
	int ret;

	if (!cap)
		return -ENOSPC;
	buf[0] = 0;
	if (meta_mp_unpack(payload, len, &u))
		return -EBADMSG;
	put_obj(&w, &u.data);
	msgpack_unpacked_destroy(&u);
	if (w.full)
		return -ENOSPC;
	buf[w.len] = 0;
	ret = (int)w.len;
	return ret;
}
