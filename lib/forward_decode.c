// SPDX-License-Identifier: MIT
/*
 * forward_decode.c - decode one frame of the rawcap msgpack stream
 * (docs/FORWARD.md), for receivers and for the forwarder reading HELLO and
 * ACK. Bytes from the network are untrusted: every length and type is
 * checked, and nothing outside the given buffer is ever referenced.
 */
#include <errno.h>
#include <string.h>

#include <msgpack.h>

#include <rawcap/forward.h>

static bool obj_u64(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*v = o->via.u64;
	return true;
}

/* Elements 1.. of a frame as unsigned integers, up to n of them. */
static bool frame_u64s(const msgpack_object_array *a, uint64_t *v, uint32_t n)
{
	if (a->size < n + 1)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!obj_u64(&a->ptr[i + 1], &v[i]))
			return false;
	return true;
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	size_t kl = strlen(key);

	if (m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
		    !memcmp(k->via.str.ptr, key, kl))
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

static bool decode_hello(const msgpack_object_array *a, struct rawcap_stream_frame *f)
{
	const msgpack_object *m, *v;

	if (a->size < 3 || !obj_u64(&a->ptr[1], &f->count) || a->ptr[2].type != MSGPACK_OBJECT_MAP)
		return false;
	m = &a->ptr[2];
	v = map_get(m, "stream");
	if (v && v->type == MSGPACK_OBJECT_STR && v->via.str.size < sizeof(f->stream_id)) {
		memcpy(f->stream_id, v->via.str.ptr, v->via.str.size);
		f->stream_id[v->via.str.size] = 0;
	}
	v = map_get(m, "resume");
	f->has_resume = v && obj_u64(v, &f->resume_seq);
	v = map_get(m, "start_seq");
	if (v)
		obj_u64(v, &f->seq);
	return true;
}

static bool decode_packet(const msgpack_object_array *a, struct rawcap_stream_frame *f)
{
	uint64_t v[9];
	const msgpack_object *d;

	if (a->size < 11 || !frame_u64s(a, v, 9))
		return false;
	d = &a->ptr[10];
	if (d->type != MSGPACK_OBJECT_BIN)
		return false;
	f->seq = v[0];
	f->ts_ns = v[1];
	f->ifindex = (uint32_t)v[2];
	f->orig_len = (uint32_t)v[3];
	f->linktype = (uint16_t)v[4];
	f->dir = (uint8_t)v[5];
	f->pkt_flags = (uint8_t)v[6];
	f->cgroup_id = v[7];
	f->sock_cookie = v[8];
	f->data = (const uint8_t *)d->via.bin.ptr;
	f->data_len = d->via.bin.size;
	return true;
}

static bool decode_body(const msgpack_object_array *a, struct rawcap_stream_frame *f)
{
	uint64_t v[6];

	switch (f->type) {
	case RAWCAP_STREAM_HELLO:
		return decode_hello(a, f);
	case RAWCAP_STREAM_PACKET:
		return decode_packet(a, f);
	case RAWCAP_STREAM_META:
		if (!frame_u64s(a, v, 3) || a->size < 5 || a->ptr[4].type != MSGPACK_OBJECT_BIN)
			return false;
		f->seq = v[0], f->ts_ns = v[1], f->reason = (uint32_t)v[2];
		f->data = (const uint8_t *)a->ptr[4].via.bin.ptr;
		f->data_len = a->ptr[4].via.bin.size;
		return true;
	case RAWCAP_STREAM_IFACE:
		if (!frame_u64s(a, v, 2) || a->size < 4)
			return false;
		f->seq = v[0], f->ts_ns = v[1];
		if (map_get(&a->ptr[3], "ifindex"))
			obj_u64(map_get(&a->ptr[3], "ifindex"), &v[2]), f->ifindex = (uint32_t)v[2];
		if (map_get(&a->ptr[3], "linktype"))
			obj_u64(map_get(&a->ptr[3], "linktype"), &v[3]),
				f->linktype = (uint16_t)v[3];
		return true;
	case RAWCAP_STREAM_LOSS:
		if (!frame_u64s(a, v, 6))
			return false;
		f->seq = v[0], f->ts_ns = v[1], f->reason = (uint32_t)v[2];
		f->count = v[3], f->ifindex = (uint32_t)v[4];
		return true;
	case RAWCAP_STREAM_GAP:
		if (!frame_u64s(a, v, 3))
			return false;
		f->seq = v[0], f->count = v[1], f->reason = (uint32_t)v[2];
		return true;
	case RAWCAP_STREAM_END:
	case RAWCAP_STREAM_ACK:
		if (!frame_u64s(a, v, 1))
			return false;
		f->seq = v[0];
		return true;
	case RAWCAP_STREAM_PAUSE:
		if (a->size < 3 || a->ptr[1].type != MSGPACK_OBJECT_BOOLEAN ||
		    !obj_u64(&a->ptr[2], &f->seq))
			return false;
		f->paused = a->ptr[1].via.boolean;
		return true;
	}
	return true; /* a frame type from a newer version: skip it */
}

int rawcap_stream_decode(const void *buf, size_t len, struct rawcap_stream_frame *f)
{
	const uint8_t *p = buf;
	msgpack_unpacked u;
	size_t flen, off = 0;
	uint64_t type;
	int ret = -EBADMSG;

	if (len < 4)
		return 0;
	flen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (flen == 0 || flen > RAWCAP_STREAM_FRAME_MAX)
		return -EBADMSG;
	if (len < 4 + flen)
		return 0;
	memset(f, 0, sizeof(*f));
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)p + 4, flen, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != flen || u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size < 1 ||
	    !obj_u64(&u.data.via.array.ptr[0], &type) || type > UINT32_MAX)
		goto out;
	f->type = (uint32_t)type;
	if (decode_body(&u.data.via.array, f))
		ret = (int)(4 + flen);
out:
	msgpack_unpacked_destroy(&u);
	return ret;
}
