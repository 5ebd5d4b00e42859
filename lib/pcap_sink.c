// SPDX-License-Identifier: MIT
/*
 * pcap_sink.c - the pcap/pcapng writer as a window sink: interfaces become
 * interface blocks, loss becomes the next packet's drop count plus a
 * comment that says what was lost and why (or, after the last packet, the
 * interface statistics' drop count and comment); and the export that runs a
 * window into it, shared by rawcap-pcap and rawcap-server.
 */
#include <stdio.h>
#include <string.h>

#include <rawcap/pcap.h>
#include <rawcap/window.h>

#include "pcap_int.h"

/* A cause's text for pcapng comments and messages; "unknown" for a cause this build lacks. */
static const char *loss_cause_name(uint32_t cause)
{
	const char *text = rawcap_loss_cause_text(cause);

	return text ? text : "unknown";
}

static int sink_iface(void *ctx, const struct rawcap_iface *ifc)
{
	struct rawcap_pcap_sink_state *st = ctx;

	return rawcap_pcap_add_iface(st->w, ifc);
}

static int sink_loss(void *ctx, uint32_t ifindex, uint64_t count, uint32_t cause)
{
	struct rawcap_pcap_sink_state *st = ctx;

	if (!rawcap_loss_units(cause, count)) {
		snprintf(st->comment, sizeof(st->comment), "%s %llu times", loss_cause_name(cause),
			 (unsigned long long)count);
		rawcap_pcap_note_comment(st->w, st->comment);
		return 0;
	}
	rawcap_pcap_note_loss(st->w, ifindex, count);
	snprintf(st->comment, sizeof(st->comment), "%llu %s lost: %s", (unsigned long long)count,
		 cause == RAWCAP_LOSS_READER || cause == RAWCAP_LOSS_CORRUPT ? "records"
									     : "packets",
		 loss_cause_name(cause));
	rawcap_pcap_note_comment(st->w, st->comment);
	return 0;
}

static int sink_packet(void *ctx, const struct rawcap_window_pkt *p)
{
	struct rawcap_pcap_sink_state *st = ctx;
	struct rawcap_pcap_pkt pp = {
		.ts_ns = p->rec->ts_ns,
		.pkt = p->pkt,
		.data = p->data,
		.caplen = p->caplen,
		.comment = p->comment,
	};
	int err = rawcap_pcap_write(st->w, &pp);

	return err < 0 ? err : 0;
}

static int sink_flush(void *ctx)
{
	struct rawcap_pcap_sink_state *st = ctx;

	return rawcap_pcap_flush(st->w);
}

void rawcap_pcap_sink(struct rawcap_pcap_sink_state *st, struct rawcap_pcap *w,
		      struct rawcap_sink *out)
{
	memset(st, 0, sizeof(*st));
	st->w = w;
	*out = (struct rawcap_sink){
		.ctx = st,
		.iface = sink_iface,
		.packet = sink_packet,
		.loss = sink_loss,
		.flush = sink_flush,
	};
}

int rawcap_pcap_export(const struct rawcap_window_opts *o, int fd,
		       const struct rawcap_pcap_opts *po, struct rawcap_pcap **w,
		       struct rawcap_window_result *res)
{
	struct rawcap_pcap_sink_state st;
	struct rawcap_sink sink;
	int err;

	memset(res, 0, sizeof(*res));
	err = rawcap_pcap_open(fd, po, w);
	if (err) {
		*w = NULL;
		return err;
	}
	rawcap_pcap_sink(&st, *w, &sink);
	err = rawcap_window_run(o, &sink, res);
	/*
	 * The statistics cover the window: stamping them with its end rather
	 * than the time of closing makes the same window give the same bytes.
	 */
	if (res->to_ns && res->to_ns != UINT64_MAX)
		(*w)->stats_ts_ns = res->to_ns;
	return err;
}
