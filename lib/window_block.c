// SPDX-License-Identifier: MIT
/*
 * window_block.c - whole disk blocks for the snapshot sink
 * (window_block.h): whether the window loop would hand every record of the
 * block a record opens to the sink's record hook, unchanged and in order,
 * so the sink may copy the block at once; and lending the history reader a
 * buffer for the next blocks.
 */
#include <rawcap/window.h>

#include "cursor.h"
#include "seg_read.h"
#include "window_block.h"
#include "window_cut.h"
#include "window_int.h"

/* Would window_one hand r to the sink's record hook with no other hook called first? */
static bool window_passes_whole(const struct rawcap_window *w, const struct rawcap_rec_hdr *r)
{
	const struct rawcap_pkt *p = (const void *)(r + 1);

	if ((r->flags & RAWCAP_REC_F_SYNTH) ||
	    window_place(r->ts_ns, w->res->from_ns, w->res->to_ns) != WINDOW_INSIDE)
		return false;
	if (r->type == RAWCAP_REC_IFACE)
		return false; /* may describe an interface first: left to the record path */
	if (r->type != RAWCAP_REC_PACKET)
		return true;
	if (r->len < sizeof(*r) + sizeof(*p))
		return false; /* not a packet to the loop: dropped */
	for (size_t i = 0; i < w->nifaces; i++)
		if (w->ifaces[i].ifindex == p->ifindex)
			return true;
	/* Known to be described nowhere, and never forgotten while the list has room. */
	for (unsigned i = 0; i < w->nundescribed && w->nundescribed < WINDOW_UNDESCRIBED; i++)
		if (w->undescribed[i] == p->ifindex)
			return true;
	return false; /* the loop would look its interface up first */
}

bool window_whole_block(const struct rawcap_window *w, const struct rawcap_rec *rec,
			struct window_block *b)
{
	const struct rawcap_window_opts *o = w->o;
	const struct rawcap_rec_hdr *r;
	uint64_t seq;
	uint32_t off = 0;

	/*
	 * Not o->stop: a stop can end the window inside a whole block, which
	 * only the snapshot sink takes, and a stopped snapshot is cancelled
	 * (discarded), never sealed.
	 */
	if (!w->c->in_history || rec->source == RAWCAP_SOURCE_RING || w->filter || o->select ||
	    o->meta || o->gap || o->context || o->pace > 0 || o->flush_ms > 0 || w->has_held ||
	    w->priming)
		return false;
	b->hdr = history_block(w->c->hist, rec);
	if (!b->hdr || b->hdr->first_seq != rec->seq)
		return false;
	b->max_ts = b->bytes = 0;
	for (seq = rec->seq; seg_blk_rec(b->hdr, &off, &r); seq++) {
		if (r->seq != seq || !window_passes_whole(w, r))
			return false;
		if (r->ts_ns > b->max_ts)
			b->max_ts = r->ts_ns;
		b->bytes += r->len;
	}
	return seq - 1 == b->hdr->last_seq;
}

void window_lend(const struct rawcap_window *w, void *buf)
{
	if (w->c->hist)
		history_lend(w->c->hist, buf);
}
