// SPDX-License-Identifier: MIT
/*
 * forward_client.c - one receiver of rawcap_forward: its own cursor, its
 * encoder (the shared pcap/pcapng sink, or msgpack frames), gap reporting,
 * pacing and the msgpack HELLO/ACK exchange.
 *
 * A receiver is fed only while its queue has room for a whole record, so
 * a stalled receiver simply stops reading its cursor; capd overwrites what
 * it did not read, and the cursor's next record shows a sequence gap. That
 * gap is what we report (drop count + comment in pcapng, a GAP frame in
 * msgpack): the same mechanism covers being lapped, torn records, and a
 * resume position that was recycled while the receiver was away.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rawcap/filter.h>
#include <rawcap/meta.h>
#include <rawcap/window.h>

#include "clock.h"

#include "forward_int.h"
#include "snapshot_int.h"
#include "window_cut.h"


/* The pcap writer's output goes into the receiver's bounded queue. */
static int fwd_client_pcap_out(void *arg, const void *buf, size_t len)
{
	struct fwd_client *c = arg;

	return fwd_buf_put(&c->out, buf, len);
}

/* Where the stream starts: --from, the newest record, or a msgpack resume point. */
static int fwd_client_position(struct fwd_client *c)
{
	const struct rawcap_forward_opts *o = &c->f->o;
	int err = 0;

	if (c->resume) {
		err = rawcap_seek(c->cur, RAWCAP_SEEK_SEQ, c->resume_seq + 1);
		c->expect_seq = c->resume_seq + 1;
		c->has_expect = true;
		c->gap_reason = RAWCAP_STREAM_GAP_RECYCLED;
		c->acked = c->resume_seq;
		c->has_acked = true;
		c->last_sent_seq = c->resume_seq;
	} else if (o->from_ns) {
		err = rawcap_seek(c->cur, RAWCAP_SEEK_TIME, o->from_ns);
	} else if (!o->snapshot) {
		err = rawcap_seek(c->cur, RAWCAP_SEEK_NEWEST, 0);
	}
	return err == -ENOENT ? 0 : err;
}

static int fwd_client_open_pcap(struct fwd_client *c)
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
	struct rawcap_iface ifs[FWD_MAX_IFACES];
	int err = rawcap_pcap_open(-1, &po, &c->pw), n;

	if (err)
		return err;
	rawcap_pcap_sink(&c->ps, c->pw, &c->sink);
	/* Declare what the ring knows now, so classic pcap picks the right link type. */
	n = rawcap_iface_list(c->cur, ifs, FWD_MAX_IFACES);
	for (int i = 0; i < n; i++)
		fwd_client_iface(c, &ifs[i]);
	return rawcap_pcap_flush(c->pw);
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

/* Positioned and primed: announce the stream (pcap header or HELLO) and start forwarding. */
static int fwd_client_ready(struct fwd_client *c)
{
	int err = fwd_client_position(c);

	if (!err && c->f->o.format != RAWCAP_FWD_MSGPACK)
		err = fwd_client_open_pcap(c);
	else if (!err)
		err = fwd_stream_hello(&c->out, c->f, c->resume ? c->resume_seq + 1 : 0);
	if (err)
		return err;
	c->state = FWD_C_STREAM;
	c->progress_ms = clock_mono_ms();
	return 0;
}

int fwd_client_begin(struct fwd_client *c)
{
	const struct rawcap_forward_opts *o = &c->f->o;
	struct rawcap_open_opts oo = {
		.sz = sizeof(oo),
		.ring = o->ring,
		.storage_dir = o->storage_dir,
		.snapshot = o->snapshot,
	};
	struct snap_manifest m;
	int err;

	/* Idempotent up to the cursor: admission is retried after running out of descriptors. */
	if (!c->held && !(c->held = malloc(RAWCAP_REC_MAX)))
		return -ENOMEM;
	if (!c->out.p && (err = fwd_buf_init(&c->out, o->client_buf)))
		return err;
	if (!c->ix && !rawcap_meta_sel_empty(o->pods) && (err = rawcap_meta_index_new(&c->ix)))
		return err;
	err = rawcap_open_opts(&oo, &c->cur);
	if (err)
		return err;
	c->f->st.streams++;
	if (o->snapshot && snap_manifest_load(o->snapshot, &m) == 0) {
		/* A filtered snapshot's sequence gaps are what the filter left out, not loss. */
		c->gaps_by_design = m.info.filter[0] != '\0';
		snap_manifest_free(&m);
	}
	/* Pods are resolved at each packet's time: read the metadata before the start first. */
	if (c->ix && (o->from_ns || !o->snapshot)) {
		c->prime_to_ns = o->from_ns ? o->from_ns : rawcap_now_ns();
		err = rawcap_meta_index_prime_begin(c->ix, c->cur, c->prime_to_ns, 0);
		if (err > 0) {
			c->state = FWD_C_PRIME;
			return 0;
		}
		if (err && err != -ENOENT)
			return err;
	}
	return fwd_client_ready(c);
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

/* One bounded step of priming; the stream starts when it is done. */
static int fwd_client_prime(struct fwd_client *c)
{
	int err = rawcap_meta_index_prime_step(c->ix, c->cur, c->prime_to_ns, c->held,
					       RAWCAP_REC_MAX, FWD_PRIME_BUDGET);

	if (err > 0)
		return 0;
	if (err && err != -ENOENT)
		return err;
	return fwd_client_ready(c);
}

void fwd_client_free(struct fwd_client *c)
{
	if (!c)
		return;
	if (c->pw)
		rawcap_pcap_close(c->pw); /* its last flush may fail once the queue is gone: fine */
	fwd_conn_close(&c->conn);
	rawcap_close(c->cur);
	rawcap_meta_index_free(c->ix);
	fwd_buf_free(&c->out);
	free(c->held);
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

/* Remember an interface this receiver was told about; false if it was already. */
static bool fwd_client_iface_new(struct fwd_client *c, uint32_t ifindex)
{
	for (unsigned i = 0; i < c->nifaces; i++)
		if (c->ifaces[i] == ifindex)
			return false;
	if (c->nifaces < FWD_MAX_IFACES)
		c->ifaces[c->nifaces++] = ifindex;
	return true;
}

int fwd_client_iface(struct fwd_client *c, const struct rawcap_iface *ifc)
{
	fwd_client_iface_new(c, ifc->ifindex);
	if (c->pw)
		return c->sink.iface(c->sink.ctx, ifc);
	return fwd_stream_iface(&c->out, 0, 0, ifc);
}

/* The receiver missed count records from first_seq on: say so in its stream. */
static int fwd_client_gap(struct fwd_client *c, uint64_t first_seq, uint64_t count)
{
	struct rawcap_forward *f = c->f;
	uint32_t reason = c->gap_reason ? c->gap_reason : RAWCAP_STREAM_GAP_LAPPED;
	struct rawcap_stats cs;
	const char *why;
	bool damaged;

	rawcap_get_stats(c->cur, &cs);
	damaged = cs.corrupt > c->corrupt_seen; /* history skipped a damaged block */
	c->corrupt_seen = cs.corrupt;
	if (c->gaps_by_design && !damaged)
		reason = RAWCAP_STREAM_GAP_SKIPPED; /* what the snapshot's filter left out */
	c->gap_reason = 0;
	why = reason == RAWCAP_STREAM_GAP_LAPPED ? "lapped: receiver too slow"
						 : "recycled before resume";
	if (reason != RAWCAP_STREAM_GAP_SKIPPED) {
		if (!c->gaps || damaged)
			fprintf(stderr,
				"rawcap-forward: %s: %llu records lost (%s), reported in its "
				"stream\n",
				c->peer, (unsigned long long)count,
				damaged ? "damaged block skipped" : why);
		c->lost += count;
		c->gaps++;
		f->st.records_lost += count;
		f->st.gaps++;
	}
	if (c->pw)
		return reason == RAWCAP_STREAM_GAP_SKIPPED
			       ? 0
			       : c->sink.loss(c->sink.ctx, 0, count,
					      damaged ? RAWCAP_LOSS_CORRUPT : RAWCAP_LOSS_READER);
	return fwd_stream_gap(&c->out, first_seq, count, reason);
}

/* The end of the window: --to, or never. */
static uint64_t fwd_client_to(const struct rawcap_forward_opts *o)
{
	return o->to_ns ? o->to_ns : UINT64_MAX;
}

static int fwd_client_packet(struct fwd_client *c, const struct rawcap_rec *rec)
{
	struct rawcap_window_pkt wp = {.rec = rec, .comment = ""};
	struct rawcap_iface ifc;
	char why[320];
	int match;

	wp.pkt = rawcap_rec_pkt(rec, &wp.data, &wp.caplen);
	if (!wp.pkt ||
	    window_place(rec->ts_ns, c->f->o.from_ns, fwd_client_to(&c->f->o)) != WINDOW_INSIDE)
		return 0;
	match = c->f->filter ? rawcap_filter_match(c->f->filter, wp.pkt, wp.data, wp.caplen, why,
						   sizeof(why))
			     : 1;
	if (match < 0) {
		fwd_set_err(c->f, "%s", why);
		return match;
	}
	if (!match || (c->ix && rawcap_meta_sel_match(c->f->o.pods, c->ix, rec) <= 0)) {
		c->f->st.filtered++;
		return 0;
	}
	if (fwd_client_iface_new(c, wp.pkt->ifindex) &&
	    rawcap_iface_get(c->cur, wp.pkt->ifindex, &ifc) == 0) {
		int err = c->pw ? c->sink.iface(c->sink.ctx, &ifc)
				: fwd_stream_iface(&c->out, 0, 0, &ifc);

		if (err)
			return err;
	}
	c->packets++;
	c->f->st.packets++;
	if (c->pw)
		return c->sink.packet(c->sink.ctx, &wp);
	return fwd_stream_record(&c->out, rec, c->f->o.snaplen);
}

static int fwd_client_encode(struct fwd_client *c, const struct rawcap_rec *rec)
{
	const struct rawcap_loss *l = rec->payload;

	switch (rec->type) {
	case RAWCAP_REC_PACKET:
		return fwd_client_packet(c, rec);
	case RAWCAP_REC_IFACE:
		if (rec->len < sizeof(struct rawcap_iface))
			return 0;
		fwd_client_iface_new(c, ((const struct rawcap_iface *)rec->payload)->ifindex);
		if (c->pw)
			return c->sink.iface(c->sink.ctx, rec->payload);
		return fwd_stream_record(&c->out, rec, c->f->o.snaplen);
	case RAWCAP_REC_LOSS:
		if (rec->len < sizeof(*l))
			return 0;
		c->f->st.lost_upstream += rawcap_loss_units(l->cause, l->count);
		if (c->pw)
			return c->sink.loss(c->sink.ctx, l->ifindex, l->count, l->cause);
		return fwd_stream_record(&c->out, rec, c->f->o.snaplen);
	case RAWCAP_REC_META:
		if (c->ix)
			rawcap_meta_index_add_rec(c->ix, rec); /* a copy: rawcap_next_copy() */
		return c->pw ? 0 : fwd_stream_record(&c->out, rec, c->f->o.snaplen);
	}
	return 0;
}

/* With --pace: is rec due yet? Keeps it held (it is already in c->held) if not. */
static bool fwd_client_due(struct fwd_client *c, const struct rawcap_rec *rec)
{
	double pace = c->f->o.pace;
	uint64_t now = clock_mono_ns(), due;

	if (pace <= 0)
		return true;
	if (!c->pace_mono0) {
		c->pace_mono0 = now;
		c->pace_ts0 = rec->ts_ns;
	}
	due = c->pace_mono0 + (rec->ts_ns > c->pace_ts0
				       ? (uint64_t)((double)(rec->ts_ns - c->pace_ts0) / pace)
				       : 0);
	if (now >= due)
		return true;
	c->held_rec = *rec;
	c->has_held = true;
	c->held_due = due;
	return false;
}

int fwd_client_pace_wait(const struct fwd_client *c)
{
	uint64_t now;

	if (!c->has_held)
		return -1;
	now = clock_mono_ns();
	return c->held_due <= now ? 0 : (int)((c->held_due - now) / 1000000 + 1);
}

/* Next record: the held one, or a validated copy from the cursor. */
static int fwd_client_next(struct fwd_client *c, struct rawcap_rec *rec)
{
	int ret;

	if (c->has_held) {
		c->has_held = false;
		*rec = c->held_rec;
		return 1;
	}
	do
		ret = rawcap_next_copy(c->cur, rec, c->held, RAWCAP_REC_MAX);
	while (ret == -EBADMSG || ret == -EMSGSIZE);
	return ret;
}

static int fwd_client_one(struct fwd_client *c, const struct rawcap_rec *rec)
{
	int err = 0;

	if (c->has_expect && rec->seq > c->expect_seq)
		err = fwd_client_gap(c, c->expect_seq, rec->seq - c->expect_seq);
	c->gap_reason = 0;
	if (!c->has_expect || rec->seq >= c->expect_seq) {
		c->expect_seq = rec->seq + 1;
		c->has_expect = true;
	}
	if (!err)
		err = fwd_client_encode(c, rec);
	c->last_sent_seq = rec->seq;
	return err;
}

size_t fwd_client_room(const struct fwd_client *c)
{
	size_t room = fwd_buf_room(&c->out), held = c->pw ? rawcap_pcap_pending(c->pw) : 0;

	return room > held ? room - held : 0;
}

int fwd_client_fill(struct fwd_client *c)
{
	const struct rawcap_forward_opts *o = &c->f->o;
	size_t need = RAWCAP_REC_MAX + FWD_RECORD_SLACK;
	struct rawcap_rec rec;
	int n = 0, ret = 0, err;

	if (c->state == FWD_C_PRIME && (err = fwd_client_prime(c)) < 0)
		return err;
	if (c->state != FWD_C_STREAM || c->f->paused || c->done)
		return 0;
	while (n < FWD_BATCH && fwd_client_room(c) >= need) {
		ret = fwd_client_next(c, &rec);
		if (ret <= 0)
			break;
		/* Only packets end the window: other records may carry other clocks. */
		if (rec.type == RAWCAP_REC_PACKET &&
		    window_place(rec.ts_ns, o->from_ns, fwd_client_to(o)) == WINDOW_END) {
			c->done = true;
			break;
		}
		if (!fwd_client_due(c, &rec))
			break;
		err = fwd_client_one(c, &rec);
		if (err < 0)
			return err;
		n++;
	}
	if (ret == -ENODATA ||
	    (ret == 0 && !c->has_held && window_settled(rawcap_now_ns(), fwd_client_to(o))))
		c->done = true;
	else if (ret < 0)
		return ret;
	if (c->pw && (ret = rawcap_pcap_flush(c->pw)) < 0)
		return ret;
	if (c->done) {
		if (!c->pw && (ret = fwd_stream_end(&c->out, c->last_sent_seq)) < 0)
			return ret;
		c->state = FWD_C_DRAIN;
	}
	return n;
}

void fwd_client_pause(struct fwd_client *c, bool paused)
{
	if (c->pause_seen == paused)
		return;
	c->pause_seen = paused;
	if (c->state != FWD_C_STREAM)
		return; /* not streaming yet: it starts in the state of the moment */
	if (!c->pw)
		fwd_stream_pause(&c->out, paused, c->last_sent_seq);
	if (paused)
		return;
	c->pace_mono0 = 0; /* pacing restarts from the resume point */
	if (c->f->o.resume == RAWCAP_FWD_RESUME_LIVE && !c->f->o.to_ns && !c->f->o.snapshot) {
		c->has_held = false;
		rawcap_seek(c->cur, RAWCAP_SEEK_NEWEST, 0);
		c->gap_reason = RAWCAP_STREAM_GAP_SKIPPED;
	}
}
