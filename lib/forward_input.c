// SPDX-License-Identifier: MIT
/*
 * forward_input.c - what a receiver sends back: the TLS handshake, and in
 * msgpack mode its HELLO (stream id, where to resume) and ACKs (how far it
 * has safely processed). pcap receivers (tshark, dumpcap) send nothing we
 * need; their bytes are read and dropped so that a close is noticed.
 *
 * A receiver that half-closes (FIN, or close_notify in TLS 1.3) sends
 * nothing more but still reads: it is no longer polled for input and keeps
 * its stream; msgpack ACKs stop (only the resume point stops moving), a
 * HELLO can no longer come (dropped as closed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forward_int.h"

#define FWD_READS_PER_TURN 16

/* HELLO: start where the receiver (or our memory of its stream id) says. */
static int fwd_input_hello(struct fwd_client *c, const struct rawcap_stream_frame *fr)
{
	if (c->state != FWD_C_HELLO || fr->count < 1)
		return -EPROTO;
	memcpy(c->stream_id, fr->stream_id, sizeof(c->stream_id));
	c->resume = fr->has_resume;
	if (c->resume)
		c->resume_seq = fr->resume_seq;
	else if (c->stream_id[0])
		c->resume = fwd_ack_lookup(c->f, c->stream_id, &c->resume_seq);
	c->state = FWD_C_ADMIT;
	return fwd_admit(c->f, c);
}

static int fwd_input_frame(struct fwd_client *c, const struct rawcap_stream_frame *fr)
{
	switch (fr->type) {
	case RAWCAP_STREAM_HELLO:
		return fwd_input_hello(c, fr);
	case RAWCAP_STREAM_ACK:
		if (c->state == FWD_C_HELLO)
			return -EPROTO;
		if (!c->has_acked || fr->seq > c->acked) {
			c->acked = fr->seq;
			c->has_acked = true;
			if (c->stream_id[0])
				fwd_ack_store(c->f, c->stream_id, fr->seq);
		}
		return 0;
	}
	return 0; /* unknown frame types from newer receivers are ignored */
}

static int fwd_input_frames(struct fwd_client *c)
{
	struct rawcap_stream_frame fr;
	size_t off = 0;
	int n;

	while ((n = rawcap_stream_decode(c->in + off, c->in_len - off, &fr)) > 0) {
		int err = fwd_input_frame(c, &fr);

		if (err)
			return err;
		off += (size_t)n;
	}
	if (n < 0)
		return -EBADMSG;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	/* Receivers only send small frames: a full buffer is a protocol error. */
	return c->in_len == sizeof(c->in) ? -EBADMSG : 0;
}

static int fwd_input_handshake(struct fwd_client *c)
{
	int ret = fwd_conn_handshake(&c->conn);

	if (ret <= 0)
		return ret < 0 ? -ECONNREFUSED : 0;
	c->state = c->f->o.format == RAWCAP_FWD_MSGPACK ? FWD_C_HELLO : FWD_C_ADMIT;
	if (c->state == FWD_C_HELLO)
		return 1;
	ret = fwd_admit(c->f, c);
	return ret ? ret : 1;
}

int fwd_client_input(struct fwd_client *c)
{
	for (int i = 0; i < FWD_READS_PER_TURN; i++) {
		ssize_t n;
		int err;

		if (c->state == FWD_C_HANDSHAKE) {
			err = fwd_input_handshake(c);
			if (err <= 0)
				return err;
		}
		n = fwd_conn_read(&c->conn, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0 && c->conn.rd_closed && c->state == FWD_C_HELLO)
			return -ECONNRESET; /* half-closed before its HELLO: it never will */
		if (n <= 0)
			return (int)n;
		if (c->f->o.format != RAWCAP_FWD_MSGPACK)
			continue; /* pcap receivers have nothing to say */
		c->in_len += (size_t)n;
		err = fwd_input_frames(c);
		if (err)
			return err;
	}
	return 0;
}
