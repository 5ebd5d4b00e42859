// SPDX-License-Identifier: MIT
/*
 * forward_client.c - one receiver of rawcap_forward: a window of the shared
 * reader loop (rawcap/window.h) stepped from the forwarder's poll loop, its
 * sink (the shared pcap/pcapng sink, or msgpack frames), and the msgpack
 * HELLO/ACK exchange.
 *
 * The window reads the records, cuts --from/--to, filters, joins pods,
 * describes interfaces, paces (--pace) and finds sequence gaps; this file
 * only encodes into the receiver's bounded queue. A receiver is stepped
 * only while its queue has room for a whole record, and its hooks pause
 * the step once it has not, so a stalled receiver simply stops reading its
 * window; capd overwrites what it did not read, and the next record shows a
 * sequence gap. That gap is what we report (drop count + comment in
 * pcapng, a GAP frame in msgpack): the same mechanism covers being lapped,
 * torn records, damaged blocks, and a resume position that was recycled
 * while the receiver was away.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/meta.h>
#include <rawcap/window.h>

#include "clock.h"

#include "forward_int.h"

#define FWD_NEED (RAWCAP_REC_MAX + FWD_RECORD_SLACK) /* queue room to read one more record */

/*
 * The pcap writer's output: straight from its buffer to the socket while
 * nothing is queued before it, the rest into the receiver's bounded queue.
 */
static int fwd_client_pcap_out(void *arg, const void *buf, size_t len)
{
	struct fwd_client *c = arg;
	ssize_t w = fwd_conn_write(&c->conn, &c->out, buf, len);

	if (w < 0)
		return (int)w;
	c->bytes += (uint64_t)w;
	c->f->st.bytes += (uint64_t)w;
	return 0;
}

size_t fwd_client_room(const struct fwd_client *c)
{
	size_t room = fwd_buf_room(&c->out), held = c->pw ? rawcap_pcap_pending(c->pw) : 0;

	return room > held ? room - held : 0;
}

/* Back-pressure: a hook that queued bytes pauses the step once a whole record no longer fits. */
static int fwd_client_more(const struct fwd_client *c, int err)
{
	return err ? err : fwd_client_room(c) >= FWD_NEED ? 0 : RAWCAP_SINK_PAUSE;
}

/* Every sink hook gets &c->ps (the pcap sink's own context). */
static struct fwd_client *fwd_sink_client(void *ctx)
{
	return (struct fwd_client *)((char *)ctx - offsetof(struct fwd_client, ps));
}

/* pcap: the shared sink wrote the record; msgpack: the record as it is, in a frame. */
static int fwd_client_record(void *ctx, const struct rawcap_rec *rec)
{
	struct fwd_client *c = fwd_sink_client(ctx);
	int err = 0;

	if (c->pw)
		return fwd_client_more(c, 0);
	switch (rec->type) {
	case RAWCAP_REC_IFACE:
		if (rec->len < sizeof(struct rawcap_iface))
			return 0;
		break;
	case RAWCAP_REC_LOSS:
		if (rec->len < sizeof(struct rawcap_loss))
			return 0;
		break;
	case RAWCAP_REC_PACKET:
	case RAWCAP_REC_META:
		break;
	default:
		return 0;
	}
	err = fwd_stream_record(&c->out, rec, c->f->o.snaplen);
	return fwd_client_more(c, err);
}

/* msgpack: an interface a packet is about to use, or the ring's at the start. */
static int fwd_client_iface(void *ctx, const struct rawcap_iface *ifc)
{
	struct fwd_client *c = fwd_sink_client(ctx);

	return fwd_client_more(c, fwd_stream_iface(&c->out, 0, 0, ifc));
}

/*
 * The window missed count records from first_seq on: count them, and in
 * msgpack say so in a GAP frame (the pcap sink gets them as reader loss).
 * What a filtered snapshot or a live resume skipped on purpose is no loss.
 */
static int fwd_client_gap(void *arg, uint64_t first_seq, uint64_t count, uint32_t reason)
{
	struct fwd_client *c = arg;
	struct rawcap_forward *f = c->f;

	if (reason != RAWCAP_STREAM_GAP_SKIPPED) {
		c->lost += count;
		c->gaps++;
		c->unsaid += count;
		c->unsaid_reason = reason;
		f->st.records_lost += count;
		f->st.gaps++;
	}
	if (c->pw)
		return 0;
	return fwd_client_more(c, fwd_stream_gap(&c->out, first_seq, count, reason));
}

static int fwd_client_meta(void *arg, const struct rawcap_rec *rec)
{
	struct fwd_client *c = arg;

	return rawcap_meta_index_add_rec(c->ix, rec);
}

/* Pods are resolved at each packet's time, from the metadata the window fed the index. */
static bool fwd_client_select(void *arg, const struct rawcap_rec *rec, const struct rawcap_pkt *pkt)
{
	struct fwd_client *c = arg;

	(void)pkt;
	return rawcap_meta_sel_match(c->f->o.pods, c->ix, rec) > 0;
}

/*
 * The receiver's window: --from/--to, live at the newest record when
 * neither --from nor a snapshot says where, or after a msgpack resume point.
 */
static int fwd_client_window(struct fwd_client *c)
{
	const struct rawcap_forward_opts *o = &c->f->o;
	struct rawcap_window_opts wo = {
		.sz = sizeof(wo),
		.ring = o->ring,
		.storage_dir = o->storage_dir,
		.snapshot = o->snapshot,
		.from_ns = o->from_ns,
		.to_ns = o->to_ns,
		.follow = !o->to_ns && !o->snapshot,
		.filter = o->filter,
		.why = c->werr,
		.whylen = sizeof(c->werr),
		.gap = fwd_client_gap,
		.gap_arg = c,
		.start = c->resume		       ? RAWCAP_WINDOW_START_SEQ
			 : !o->from_ns && !o->snapshot ? RAWCAP_WINDOW_START_NEWEST
						       : RAWCAP_WINDOW_START_FROM,
		.start_seq = c->resume_seq + 1,
		.pace = o->pace,
	};
	struct rawcap_sink sink = {
		.ctx = &c->ps,
		.iface = fwd_client_iface,
		.record = fwd_client_record,
	};

	if (c->ix) {
		wo.meta = fwd_client_meta;
		wo.select = fwd_client_select;
		wo.meta_arg = c;
		wo.meta_lookback_ns = RAWCAP_META_LOOKBACK_NS;
	}
	if (c->pw) {
		rawcap_pcap_sink(&c->ps, c->pw, &sink);
		sink.record = fwd_client_record;
	}
	return rawcap_window_open(&wo, &sink, &c->w, c->werr, sizeof(c->werr));
}

/* The stream's first bytes: the capture file header, or the msgpack HELLO. */
static int fwd_client_announce(struct fwd_client *c)
{
	const struct rawcap_forward_opts *o = &c->f->o;
	struct rawcap_pcap_opts po = {
		.sz = sizeof(po),
		.format = o->format == RAWCAP_FWD_PCAP ? RAWCAP_PCAP_CLASSIC : RAWCAP_PCAP_PCAPNG,
		.snaplen = o->snaplen,
		.appl = "rawcap-forward",
		.buf_size = 64 * 1024,
		.write_fn = fwd_client_pcap_out,
		.write_arg = c,
	};

	if (o->format == RAWCAP_FWD_MSGPACK)
		return fwd_stream_hello(&c->out, c->f, c->resume ? c->resume_seq + 1 : 0);
	return rawcap_pcap_open(-1, &po, &c->pw);
}

int fwd_client_new(struct rawcap_forward *f, int fd, SSL *ssl, const char *peer,
		   struct fwd_client **out)
{
	struct fwd_client *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->f = f;
	c->conn.fd = fd;
	c->conn.ssl = ssl;
	c->started_ms = clock_mono_ms();
	c->pause_seen = f->paused;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if (ssl)
		c->state = FWD_C_HANDSHAKE;
	else
		c->state = f->o.format == RAWCAP_FWD_MSGPACK ? FWD_C_HELLO : FWD_C_ADMIT;
	*out = c;
	return 0;
}

int fwd_client_begin(struct fwd_client *c)
{
	const struct rawcap_forward_opts *o = &c->f->o;
	int err;

	/* Idempotent: admission is retried after running out of descriptors. */
	if (!c->out.p && (err = fwd_buf_init(&c->out, o->client_buf)))
		return err;
	if (!c->ix && !rawcap_meta_sel_empty(o->pods) && (err = rawcap_meta_index_new(&c->ix)))
		return err;
	err = fwd_client_announce(c);
	if (!err)
		err = fwd_client_window(c); /* the ring's interfaces go out now */
	if (!err && c->pw)
		err = rawcap_pcap_flush(c->pw);
	if (err) {
		if (c->pw)
			rawcap_pcap_close(c->pw);
		c->pw = NULL;
		c->out.off = c->out.len = 0; /* nothing was sent: a retry starts afresh */
		return err;
	}
	if (c->resume) {
		c->acked = c->resume_seq;
		c->has_acked = true;
	}
	c->f->st.streams++;
	c->state = FWD_C_STREAM;
	c->progress_ms = clock_mono_ms();
	return 0;
}

void fwd_client_probe(struct fwd_client *c, uint64_t now_ms, bool force)
{
	uint64_t acked;
	bool holding;

	if (fwd_client_pending(c) || (!force && now_ms - c->probe_ms < 1000))
		return;
	c->probe_ms = now_ms;
	if (fwd_conn_acked(&c->conn, c->bytes, &acked, &holding))
		return; /* the next read or write reports what went wrong */
	c->holding = holding || c->out.len;
	if (!c->holding || acked != c->acked_bytes)
		c->progress_ms = now_ms;
	c->acked_bytes = acked;
}

uint64_t fwd_client_blocked_ms(const struct fwd_client *c, uint64_t now_ms)
{
	if (fwd_client_pending(c) || !c->holding || now_ms < c->progress_ms)
		return 0;
	return now_ms - c->progress_ms;
}

void fwd_client_free(struct fwd_client *c)
{
	if (!c)
		return;
	if (c->pw)
		rawcap_pcap_close(c->pw); /* its last flush may fail once the queue is gone: fine */
	fwd_conn_close(&c->conn);
	rawcap_window_close(c->w);
	rawcap_meta_index_free(c->ix);
	fwd_buf_free(&c->out);
	free(c);
}

void fwd_client_report(const struct fwd_client *c, const char *why)
{
	fprintf(stderr,
		"rawcap-forward: %s: %s: %llu packets, %llu bytes sent, %llu records lost in %llu "
		"gaps\n",
		c->peer, why, (unsigned long long)c->packets, (unsigned long long)c->bytes,
		(unsigned long long)c->lost, (unsigned long long)c->gaps);
}

/* The sequence number of the last record read (for END and PAUSE frames); 0: none. */
static uint64_t fwd_client_last_seq(const struct fwd_client *c)
{
	uint64_t seq = 0;

	rawcap_window_last_seq(c->w, &seq);
	return seq;
}

/* After a step: the window's figures into the forwarder's, and loss said once. */
static void fwd_client_count(struct fwd_client *c)
{
	const struct rawcap_window_result *r = rawcap_window_result(c->w);
	struct rawcap_forward_stats *st = &c->f->st;
	bool damaged = r->damaged_blocks > c->seen.damaged_blocks;

	c->packets += r->packets - c->seen.packets;
	st->packets += r->packets - c->seen.packets;
	st->filtered += r->filtered + r->unselected - c->seen.filtered - c->seen.unselected;
	st->lost_upstream += r->lost_upstream - c->seen.lost_upstream;
	c->seen = *r;
	if (c->unsaid && (damaged || !c->said))
		fprintf(stderr,
			"rawcap-forward: %s: %llu records lost (%s), reported in its stream\n",
			c->peer, (unsigned long long)c->unsaid,
			damaged					       ? "damaged block skipped"
			: c->unsaid_reason == RAWCAP_STREAM_GAP_LAPPED ? "lapped: receiver too slow"
								       : "recycled before resume");
	c->said |= c->unsaid > 0;
	c->unsaid = 0;
}

/*
 * Step the window while the queue has room for a whole record. Returns 1
 * when it may have more to send at once (it spent its budget, or the queue
 * had no room: the flush that follows may make it), 0 when it waits (caught
 * up, paced, paused, done), or a negative errno.
 */
int fwd_client_fill(struct fwd_client *c)
{
	bool done = false, room;
	int n = 0, err;

	if (c->state != FWD_C_STREAM || c->f->paused)
		return 0;
	room = fwd_client_room(c) >= FWD_NEED;
	if (room)
		n = rawcap_window_step(c->w, FWD_BATCH, &done);
	fwd_client_count(c);
	if (n < 0 && n != -EAGAIN) {
		if (c->werr[0])
			fwd_set_err(c->f, "%s", c->werr);
		return n;
	}
	if (c->pw && (err = rawcap_pcap_flush(c->pw)) < 0)
		return err;
	if (!done) /* no room is not "caught up": the caller's flush may make room at once */
		return !room || n >= 0;
	if (!c->pw && (err = fwd_stream_end(&c->out, fwd_client_last_seq(c))) < 0)
		return err;
	c->state = FWD_C_DRAIN;
	return 0;
}

int fwd_client_pace_wait(const struct fwd_client *c)
{
	return c->state == FWD_C_STREAM ? rawcap_window_due_ms(c->w) : -1;
}

void fwd_client_pause(struct fwd_client *c, bool paused)
{
	const struct rawcap_forward_opts *o = &c->f->o;

	if (c->pause_seen == paused)
		return;
	c->pause_seen = paused;
	if (c->state != FWD_C_STREAM)
		return; /* not streaming yet: it starts in the state of the moment */
	if (!c->pw)
		fwd_stream_pause(&c->out, paused, fwd_client_last_seq(c));
	if (!paused) /* live: go on at the newest record, the rest a SKIPPED gap */
		rawcap_window_resume(c->w, o->resume == RAWCAP_FWD_RESUME_LIVE && !o->to_ns &&
						   !o->snapshot);
}
