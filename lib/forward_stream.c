// SPDX-License-Identifier: MIT
/*
 * forward_stream.c - the rawcap msgpack stream (docs/FORWARD.md): encode
 * the forwarder's frames into a receiver's queue, and decode/encode frames
 * for receivers (rawcap_stream_*).
 *
 * A frame is a 4-byte big-endian length and one msgpack array whose first
 * element is the frame type. Arrays keep a 64-byte packet's framing small;
 * the schema is positional and versioned by RAWCAP_STREAM_VERSION.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "forward_int.h"

struct fwd_frame {
	uint8_t *p;
	size_t len, cap;
};

static int fwd_frame_write(void *data, const char *buf, size_t len)
{
	struct fwd_frame *fr = data;

	if (fr->len + len > fr->cap)
		return -1;
	memcpy(fr->p + fr->len, buf, len);
	fr->len += len;
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int fwd_frame_begin(struct fwd_frame *fr, msgpack_packer *pk, void *p, size_t cap)
{
	if (!p || cap < 4)
		return -ENOBUFS;
	fr->p = p;
	fr->len = 4;
	fr->cap = cap;
	msgpack_packer_init(pk, fr, fwd_frame_write);
	return 0;
}

static int fwd_frame_end(struct fwd_frame *fr, int err)
{
	if (err)
		return -ENOBUFS;
	put_be32(fr->p, (uint32_t)(fr->len - 4));
	return (int)fr->len;
}

/* Begin a frame in the queue, with room for max bytes. */
static int fwd_qframe_begin(struct fwd_buf *b, struct fwd_frame *fr, msgpack_packer *pk, size_t max)
{
	if (max > fwd_buf_room(b))
		return -ENOBUFS;
	return fwd_frame_begin(fr, pk, fwd_buf_tail(b, max), max);
}

static int fwd_qframe_end(struct fwd_buf *b, struct fwd_frame *fr, int err)
{
	int n = fwd_frame_end(fr, err);

	if (n > 0)
		b->len += (size_t)n;
	return n < 0 ? n : 0;
}

static int pack_key_str(msgpack_packer *pk, const char *k, const char *v)
{
	return msgpack_pack_str_with_body(pk, k, strlen(k)) |
	       msgpack_pack_str_with_body(pk, v, strlen(v));
}

static int pack_key_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	return msgpack_pack_str_with_body(pk, k, strlen(k)) | msgpack_pack_uint64(pk, v);
}

int fwd_stream_hello(struct fwd_buf *b, const struct rawcap_forward *f, uint64_t start_seq)
{
	struct fwd_frame fr;
	msgpack_packer pk;
	char host[64] = "";
	int err = fwd_qframe_begin(b, &fr, &pk, 512);

	if (err)
		return err;
	gethostname(host, sizeof(host) - 1);
	err |= msgpack_pack_array(&pk, 3);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_HELLO);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_VERSION);
	err |= msgpack_pack_map(&pk, 5);
	err |= pack_key_str(&pk, "software", "rawcap-forward");
	err |= pack_key_str(&pk, "node", host);
	err |= pack_key_str(&pk, "ring", f->o.ring ? f->o.ring : "default");
	err |= pack_key_u64(&pk, "start_seq", start_seq);
	err |= pack_key_u64(&pk, "paused", f->paused);
	return fwd_qframe_end(b, &fr, err);
}

static int fwd_stream_packet(msgpack_packer *pk, const struct rawcap_rec *rec, uint32_t snaplen)
{
	const uint8_t *data;
	uint32_t caplen;
	const struct rawcap_pkt *p = rawcap_rec_pkt(rec, &data, &caplen);
	int err = 0;

	if (!p)
		return -1;
	if (snaplen && caplen > snaplen)
		caplen = snaplen;
	err |= msgpack_pack_array(pk, 11);
	err |= msgpack_pack_uint32(pk, RAWCAP_STREAM_PACKET);
	err |= msgpack_pack_uint64(pk, rec->seq);
	err |= msgpack_pack_uint64(pk, rec->ts_ns);
	err |= msgpack_pack_uint32(pk, p->ifindex);
	err |= msgpack_pack_uint32(pk, p->orig_len);
	err |= msgpack_pack_uint16(pk, p->linktype);
	err |= msgpack_pack_uint8(pk, p->dir);
	err |= msgpack_pack_uint8(pk, p->pkt_flags);
	err |= msgpack_pack_uint64(pk, p->pkt_flags & RAWCAP_PKT_CGROUP ? p->cgroup_id : 0);
	err |= msgpack_pack_uint64(pk, p->pkt_flags & RAWCAP_PKT_COOKIE ? p->sock_cookie : 0);
	err |= msgpack_pack_bin_with_body(pk, data, caplen);
	return err;
}

static int fwd_stream_iface_body(msgpack_packer *pk, const struct rawcap_iface *i)
{
	char name[RAWCAP_IFNAMSIZ + 1], filter[RAWCAP_FILTER_MAX + 1];
	int err = 0;

	memcpy(name, i->name, RAWCAP_IFNAMSIZ);
	name[RAWCAP_IFNAMSIZ] = 0;
	memcpy(filter, i->filter, RAWCAP_FILTER_MAX);
	filter[RAWCAP_FILTER_MAX] = 0;
	err |= msgpack_pack_map(pk, 8);
	err |= pack_key_u64(pk, "ifindex", i->ifindex);
	err |= pack_key_str(pk, "name", name);
	err |= pack_key_u64(pk, "linktype", i->linktype);
	err |= pack_key_u64(pk, "mtu", i->mtu);
	err |= pack_key_u64(pk, "flags", i->if_flags);
	err |= msgpack_pack_str_with_body(pk, "mac", 3);
	err |= msgpack_pack_bin_with_body(pk, i->mac, i->mac_len <= 8 ? i->mac_len : 8);
	err |= pack_key_u64(pk, "snaplen", rawcap_iface_snaplen(i));
	err |= pack_key_str(pk, "filter", filter);
	return err;
}

int fwd_stream_iface(struct fwd_buf *b, uint64_t seq, uint64_t ts, const struct rawcap_iface *i)
{
	struct fwd_frame fr;
	msgpack_packer pk;
	int err = fwd_qframe_begin(b, &fr, &pk, 1024);

	if (err)
		return err;
	err |= msgpack_pack_array(&pk, 4);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_IFACE);
	err |= msgpack_pack_uint64(&pk, seq);
	err |= msgpack_pack_uint64(&pk, ts);
	err |= fwd_stream_iface_body(&pk, i);
	return fwd_qframe_end(b, &fr, err);
}

int fwd_stream_record(struct fwd_buf *b, const struct rawcap_rec *rec, uint32_t snaplen)
{
	const struct rawcap_loss *l = rec->payload;
	struct fwd_frame fr;
	msgpack_packer pk;
	int err = fwd_qframe_begin(b, &fr, &pk, rec->len + 128);

	if (err)
		return err;
	switch (rec->type) {
	case RAWCAP_REC_PACKET:
		err |= fwd_stream_packet(&pk, rec, snaplen);
		break;
	case RAWCAP_REC_META:
		err |= msgpack_pack_array(&pk, 5);
		err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_META);
		err |= msgpack_pack_uint64(&pk, rec->seq);
		err |= msgpack_pack_uint64(&pk, rec->ts_ns);
		err |= msgpack_pack_uint16(&pk, rec->flags);
		err |= msgpack_pack_bin_with_body(&pk, rec->payload, rec->len);
		break;
	case RAWCAP_REC_IFACE:
		if (rec->len < sizeof(struct rawcap_iface))
			return -EBADMSG;
		err |= msgpack_pack_array(&pk, 4);
		err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_IFACE);
		err |= msgpack_pack_uint64(&pk, rec->seq);
		err |= msgpack_pack_uint64(&pk, rec->ts_ns);
		err |= fwd_stream_iface_body(&pk, rec->payload);
		break;
	case RAWCAP_REC_LOSS:
		if (rec->len < sizeof(*l))
			return -EBADMSG;
		err |= msgpack_pack_array(&pk, 7);
		err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_LOSS);
		err |= msgpack_pack_uint64(&pk, rec->seq);
		err |= msgpack_pack_uint64(&pk, rec->ts_ns);
		err |= msgpack_pack_uint32(&pk, l->cause);
		err |= msgpack_pack_uint64(&pk, l->count);
		err |= msgpack_pack_uint32(&pk, l->ifindex);
		err |= msgpack_pack_uint64(&pk, l->first_seq);
		break;
	default:
		return -ENOTSUP;
	}
	return fwd_qframe_end(b, &fr, err);
}

int fwd_stream_gap(struct fwd_buf *b, uint64_t first_seq, uint64_t count, uint32_t reason)
{
	struct fwd_frame fr;
	msgpack_packer pk;
	int err = fwd_qframe_begin(b, &fr, &pk, 64);

	if (err)
		return err;
	err |= msgpack_pack_array(&pk, 4);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_GAP);
	err |= msgpack_pack_uint64(&pk, first_seq);
	err |= msgpack_pack_uint64(&pk, count);
	err |= msgpack_pack_uint32(&pk, reason);
	return fwd_qframe_end(b, &fr, err);
}

int fwd_stream_end(struct fwd_buf *b, uint64_t last_seq)
{
	struct fwd_frame fr;
	msgpack_packer pk;
	int err = fwd_qframe_begin(b, &fr, &pk, 32);

	if (err)
		return err;
	err |= msgpack_pack_array(&pk, 2);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_END);
	err |= msgpack_pack_uint64(&pk, last_seq);
	return fwd_qframe_end(b, &fr, err);
}

int fwd_stream_pause(struct fwd_buf *b, bool paused, uint64_t seq)
{
	struct fwd_frame fr;
	msgpack_packer pk;
	int err = fwd_qframe_begin(b, &fr, &pk, 32);

	if (err)
		return err;
	err |= msgpack_pack_array(&pk, 3);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_PAUSE);
	err |= paused ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
	err |= msgpack_pack_uint64(&pk, seq);
	return fwd_qframe_end(b, &fr, err);
}

/* Receivers' side. */

int rawcap_stream_hello(void *buf, size_t cap, const char *stream_id, bool resume,
			uint64_t resume_seq)
{
	struct fwd_frame fr;
	msgpack_packer pk;
	int err = fwd_frame_begin(&fr, &pk, buf, cap);

	if (err)
		return -ENOSPC;
	if (!stream_id)
		stream_id = "";
	if (strlen(stream_id) >= sizeof(((struct rawcap_stream_frame *)0)->stream_id))
		return -EINVAL;
	err |= msgpack_pack_array(&pk, 3);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_HELLO);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_VERSION);
	err |= msgpack_pack_map(&pk, resume ? 2 : 1);
	err |= pack_key_str(&pk, "stream", stream_id);
	if (resume)
		err |= pack_key_u64(&pk, "resume", resume_seq);
	err = fwd_frame_end(&fr, err);
	return err < 0 ? -ENOSPC : err;
}

int rawcap_stream_ack(void *buf, size_t cap, uint64_t seq)
{
	struct fwd_frame fr;
	msgpack_packer pk;
	int err = fwd_frame_begin(&fr, &pk, buf, cap);

	if (err)
		return -ENOSPC;
	err |= msgpack_pack_array(&pk, 2);
	err |= msgpack_pack_uint32(&pk, RAWCAP_STREAM_ACK);
	err |= msgpack_pack_uint64(&pk, seq);
	err = fwd_frame_end(&fr, err);
	return err < 0 ? -ENOSPC : err;
}
