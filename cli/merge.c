// SPDX-License-Identifier: MIT
/*
 * merge.c - the streaming k-way merge (see merge.h).
 *
 * Inputs with a packet waiting sit in a binary heap keyed by (timestamp,
 * input order); a packet is written only while no running input is
 * without one. Every (node, interface) becomes output interface number
 * g + 1, dense from 1, which is also its index in gifs[].
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merge.h"
#include "pcapng_read.h"

#define NOTES_MAX 16000 /* section header comment text; an option holds at most 65535 */

/* One interface of the output: a node's interface. */
struct gif {
	struct merge_in *in;
	struct rawcap_iface ifc;
	char *name, *desc;
	uint64_t epb_drops, isb_drops; /* drops seen in drop counts / in statistics blocks */
	bool declared;
};

struct merge_in {
	struct merge *m;
	unsigned idx;
	char *node;
	struct pcapng_rd *rd;
	struct pcapng_ev head;
	bool has_head, eof, done, sections, failed;
	char why[256];
	uint32_t *map; /* interface id in the current section -> gif index */
	size_t map_len, map_cap;
	char *late; /* notes that came after the file started */
	struct merge_in_stats st;
};

struct merge {
	struct merge_opts o;
	struct rawcap_pcap *w;
	int err;
	struct merge_in **ins;
	size_t nins;
	struct gif *gifs;
	size_t ngifs, gifs_cap;
	unsigned *heap; /* input indexes with a head */
	size_t nheap;
	char *notes; /* for the section header, before the file starts */
	bool paced;
	uint64_t wall0, ts0;
};

int merge_new(const struct merge_opts *o, struct merge **out)
{
	struct merge *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->o = *o;
	m->notes = strdup(o->comment ? o->comment : "");
	if (!m->notes) {
		free(m);
		return -ENOMEM;
	}
	m->o.comment = NULL;
	*out = m;
	return 0;
}

int merge_add(struct merge *m, const char *node, struct merge_in **out)
{
	struct merge_in **nins = realloc(m->ins, (m->nins + 1) * sizeof(*nins));
	unsigned *nheap = realloc(m->heap, (m->nins + 1) * sizeof(*nheap));
	struct merge_in *in;

	if (nins)
		m->ins = nins;
	if (nheap)
		m->heap = nheap;
	in = nins && nheap ? calloc(1, sizeof(*in)) : NULL;
	if (!in)
		return -ENOMEM;
	in->node = strdup(node);
	if (!in->node || pcapng_rd_new(&in->rd)) {
		free(in->node);
		free(in);
		return -ENOMEM;
	}
	in->m = m;
	in->idx = (unsigned)m->nins;
	m->ins[m->nins++] = in;
	*out = in;
	return 0;
}

const char *merge_in_node(const struct merge_in *in)
{
	return in->node;
}

int merge_feed(struct merge_in *in, const void *data, size_t len)
{
	if (in->done || in->eof)
		return 0; /* a failed input takes and drops whatever still comes */
	return pcapng_rd_feed(in->rd, data, len) == -ENOBUFS ? -ENOBUFS : 0;
}

uint8_t *merge_wbuf(struct merge_in *in, size_t *room)
{
	if (in->done || in->eof) {
		*room = 0;
		return NULL;
	}
	return pcapng_rd_wbuf(in->rd, room);
}

void merge_commit(struct merge_in *in, size_t n)
{
	pcapng_rd_commit(in->rd, n);
}

void merge_end(struct merge_in *in, const char *why)
{
	if (why && !in->why[0])
		snprintf(in->why, sizeof(in->why), "%s", why);
	in->eof = true;
}

void merge_fail(struct merge_in *in, const char *why)
{
	merge_end(in, why ? why : "failed");
	in->failed = true;
}

bool merge_wants(const struct merge_in *in)
{
	return !in->has_head && !in->done && !in->eof;
}

/* Append "sep text" to *s, keeping it under max bytes. */
static int append(char **s, const char *sep, const char *text, size_t max)
{
	size_t have = strlen(*s), add = strlen(sep) + strlen(text);
	char *n;

	if (have + add >= max)
		return 0; /* the note still reaches stderr through the caller */
	n = realloc(*s, have + add + 1);
	if (!n)
		return -ENOMEM;
	snprintf(n + have, add + 1, "%s%s", have ? sep : "", text);
	*s = n;
	return 0;
}

int merge_note(struct merge_in *in, const char *note)
{
	char line[512];

	if (in->m->w) {
		if (!in->late && !(in->late = strdup("")))
			return -ENOMEM;
		return append(&in->late, "; ", note, RAWCAP_PCAP_LABEL_MAX);
	}
	snprintf(line, sizeof(line), "node %s: %s", in->node, note);
	return append(&in->m->notes, "; ", line, NOTES_MAX);
}

/* ---- the heap: inputs with a packet waiting, earliest (then first added) on top ---- */

static bool earlier(const struct merge *m, unsigned a, unsigned b)
{
	uint64_t ta = m->ins[a]->head.ts_ns, tb = m->ins[b]->head.ts_ns;

	return ta < tb || (ta == tb && a < b);
}

static void heap_swap(struct merge *m, size_t i, size_t j)
{
	unsigned t = m->heap[i];

	m->heap[i] = m->heap[j];
	m->heap[j] = t;
}

static void heap_push(struct merge *m, unsigned idx)
{
	size_t i = m->nheap++;

	m->heap[i] = idx;
	while (i && earlier(m, m->heap[i], m->heap[(i - 1) / 2])) {
		heap_swap(m, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_pop(struct merge *m)
{
	size_t i = 0;

	m->heap[0] = m->heap[--m->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;

		if (l < m->nheap && earlier(m, m->heap[l], m->heap[min]))
			min = l;
		if (r < m->nheap && earlier(m, m->heap[r], m->heap[min]))
			min = r;
		if (min == i)
			return;
		heap_swap(m, i, min);
		i = min;
	}
}

/* ---- interfaces ---- */

static int add_gif(struct merge_in *in, const struct pcapng_ev *ev)
{
	struct merge *m = in->m;
	const struct pcapng_iface *pi = ev->iface;
	char name[RAWCAP_PCAP_LABEL_MAX], desc[RAWCAP_PCAP_LABEL_MAX];
	struct gif *g;

	if (m->ngifs == m->gifs_cap) {
		size_t ncap = m->gifs_cap ? m->gifs_cap * 2 : 16;
		struct gif *n = realloc(m->gifs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->gifs = n;
		m->gifs_cap = ncap;
	}
	if (in->map_len == in->map_cap) {
		size_t ncap = in->map_cap ? in->map_cap * 2 : 8;
		uint32_t *n = realloc(in->map, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		in->map = n;
		in->map_cap = ncap;
	}
	if (pi->name[0])
		snprintf(name, sizeof(name), "%s/%s", in->node, pi->name);
	else
		snprintf(name, sizeof(name), "%s/if%u", in->node, ev->if_id);
	snprintf(desc, sizeof(desc), "node %s%s%s", in->node, pi->desc[0] ? ": " : "", pi->desc);
	g = &m->gifs[m->ngifs];
	memset(g, 0, sizeof(*g));
	g->in = in;
	g->ifc.ifindex = (uint32_t)m->ngifs + 1;
	g->ifc.linktype = pi->linktype;
	snprintf(g->ifc.name, sizeof(g->ifc.name), "%s", pi->name);
	snprintf(g->ifc.filter, sizeof(g->ifc.filter), "%s", pi->filter);
	g->name = strdup(name);
	g->desc = strdup(desc);
	if (!g->name || !g->desc) {
		free(g->name);
		free(g->desc);
		return -ENOMEM;
	}
	in->map[in->map_len++] = (uint32_t)m->ngifs++;
	return 0;
}

static int declare(struct merge *m, struct gif *g)
{
	int err = rawcap_pcap_add_iface(m->w, &g->ifc);

	if (!err)
		err = rawcap_pcap_iface_label(m->w, g->ifc.ifindex, g->name, g->desc);
	g->declared = !err;
	return err;
}

static int open_writer(struct merge *m)
{
	struct rawcap_pcap_opts po = {
		.sz = sizeof(po),
		.format = m->o.format,
		.snaplen = m->o.snaplen,
		.linktype = m->o.linktype,
		.comment = m->notes[0] ? m->notes : NULL,
		.write_fn = m->o.write_fn,
		.write_arg = m->o.write_arg,
	};
	int err = rawcap_pcap_open(m->o.write_fn ? -1 : m->o.fd, &po, &m->w);

	for (size_t i = 0; !err && i < m->ngifs; i++)
		err = declare(m, &m->gifs[i]);
	return err ? (m->err = err) : 0;
}

/* ---- inputs ---- */

static void input_done(struct merge_in *in, enum merge_in_state state, const char *why)
{
	in->done = true;
	in->st.state = state;
	if (why && why != in->why)
		snprintf(in->why, sizeof(in->why), "%s", why);
	if (state != MERGE_IN_COMPLETE)
		merge_note(in, in->why);
}

/* The stream ended: was it whole? */
static void input_eof(struct merge_in *in)
{
	size_t left = pcapng_rd_pending(in->rd);
	char why[256];

	if (!in->sections || in->failed) {
		input_done(in, MERGE_IN_FAILED, in->why[0] ? in->why : "no pcapng data");
	} else if (in->why[0]) {
		input_done(in, MERGE_IN_TRUNCATED, in->why);
	} else if (left) {
		snprintf(why, sizeof(why), "stream ended inside a block (%zu bytes left over)",
			 left);
		input_done(in, MERGE_IN_TRUNCATED, why);
	} else {
		input_done(in, MERGE_IN_COMPLETE, NULL);
	}
}

static int input_event(struct merge_in *in, const struct pcapng_ev *ev)
{
	struct gif *g;

	switch (ev->type) {
	case PCAPNG_EV_SECTION:
		in->sections = true;
		in->map_len = 0;
		return 0;
	case PCAPNG_EV_IFACE:
		return add_gif(in, ev);
	case PCAPNG_EV_STATS:
		g = &in->m->gifs[in->map[ev->if_id]];
		if (ev->has_ifdrop && ev->ifdrop > g->isb_drops)
			g->isb_drops = ev->ifdrop;
		return 0;
	case PCAPNG_EV_PACKET:
		in->head = *ev;
		in->has_head = true;
		heap_push(in->m, in->idx);
		return 0;
	}
	return 0;
}

/* Parse until the input has a packet waiting, needs bytes, or is done. */
static void pump(struct merge_in *in)
{
	struct pcapng_ev ev;
	char why[256];
	int n;

	while (!in->has_head && !in->done) {
		n = pcapng_rd_next(in->rd, &ev);
		if (n == 0) {
			if (in->eof)
				input_eof(in);
			return;
		}
		if (n < 0) {
			snprintf(why, sizeof(why), "not a valid pcapng stream: %s",
				 pcapng_rd_error(in->rd));
			input_done(in, MERGE_IN_FAILED, why);
			return;
		}
		if (input_event(in, &ev)) {
			input_done(in, MERGE_IN_FAILED, "out of memory");
			return;
		}
	}
}

/* epb_flags back to a direction: bits 0-1 inbound/outbound, bits 2-4 reception type. */
static uint8_t flags_dir(const struct pcapng_ev *ev)
{
	static const uint8_t by_type[8] = {
		RAWCAP_DIR_HOST,      RAWCAP_DIR_HOST, RAWCAP_DIR_MULTICAST, RAWCAP_DIR_BROADCAST,
		RAWCAP_DIR_OTHERHOST, RAWCAP_DIR_HOST, RAWCAP_DIR_HOST,	     RAWCAP_DIR_HOST,
	};

	if (!ev->has_flags)
		return RAWCAP_DIR_HOST;
	if ((ev->flags & 3) == 2)
		return RAWCAP_DIR_OUTGOING;
	return by_type[(ev->flags >> 2) & 7];
}

static int write_head(struct merge *m, struct merge_in *in)
{
	const struct pcapng_ev *ev = &in->head;
	struct gif *g = &m->gifs[in->map[ev->if_id]];
	struct rawcap_pkt pk = {
		.ifindex = g->ifc.ifindex,
		.orig_len = ev->origlen,
		.linktype = g->ifc.linktype,
		.dir = flags_dir(ev),
	};
	struct rawcap_pcap_pkt pp = {.ts_ns = ev->ts_ns,
				     .pkt = &pk,
				     .data = ev->data,
				     .caplen = ev->caplen,
				     .comment = ev->comment};
	int rc;

	if (!g->declared && (rc = declare(m, g)))
		return m->err = rc;
	if (ev->has_drops && ev->drops) {
		rawcap_pcap_note_loss(m->w, g->ifc.ifindex, ev->drops);
		g->epb_drops += ev->drops;
		in->st.drops += ev->drops;
	}
	rc = rawcap_pcap_write(m->w, &pp);
	if (rc < 0)
		return m->err = rc;
	if (rc == 1) {
		in->st.skipped++;
		return 0;
	}
	if (!in->st.packets)
		in->st.first_ns = ev->ts_ns;
	in->st.last_ns = ev->ts_ns;
	in->st.packets++;
	in->st.bytes += ev->caplen;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* With pace: is the packet stamped ts due? If not, *wake (monotonic ns) says when. */
static bool pace_due(struct merge *m, uint64_t ts, uint64_t *wake)
{
	uint64_t now = mono_ns(), due;

	if (!m->paced) {
		m->paced = true;
		m->wall0 = now;
		m->ts0 = ts;
		return true;
	}
	due = m->wall0 + (ts > m->ts0 ? (uint64_t)((double)(ts - m->ts0) / m->o.pace) : 0);
	if (now >= due)
		return true;
	if (wake)
		*wake = due;
	return false;
}

int merge_run(struct merge *m, uint64_t *wake_ns)
{
	size_t waiting = 0;
	int err;

	if (m->err)
		return m->err;
	for (size_t i = 0; i < m->nins; i++) {
		pump(m->ins[i]);
		waiting += !m->ins[i]->has_head && !m->ins[i]->done;
	}
	while (!waiting && m->nheap) {
		struct merge_in *in = m->ins[m->heap[0]];

		if (!m->w && open_writer(m))
			return m->err;
		if (m->o.pace > 0 && !pace_due(m, in->head.ts_ns, wake_ns))
			return merge_flush(m);
		if ((err = write_head(m, in)))
			return err;
		heap_pop(m);
		in->has_head = false;
		pump(in);
		if (in->has_head)
			continue;
		waiting += !in->done;
	}
	return waiting ? 0 : 1;
}

int merge_flush(struct merge *m)
{
	if (m->err)
		return m->err;
	return m->w ? (m->err = rawcap_pcap_flush(m->w)) : 0;
}

void merge_in_stats(const struct merge_in *in, struct merge_in_stats *out)
{
	*out = in->st;
	out->why = in->why[0] ? in->why : NULL;
}

size_t merge_footprint(const struct merge *m)
{
	size_t n = m->gifs_cap * sizeof(*m->gifs);

	for (size_t i = 0; i < m->nins; i++)
		n += pcapng_rd_footprint(m->ins[i]->rd) + m->ins[i]->map_cap * 4;
	return n;
}

/* Drops a node counted in statistics blocks beyond its drop counts; late notes. */
static void finish_ifaces(struct merge *m)
{
	for (size_t i = 0; i < m->ngifs; i++) {
		struct gif *g = &m->gifs[i];

		if (!g->declared)
			continue;
		if (g->isb_drops > g->epb_drops) {
			rawcap_pcap_note_loss(m->w, g->ifc.ifindex, g->isb_drops - g->epb_drops);
			g->in->st.drops += g->isb_drops - g->epb_drops;
		}
		if (g->in->late)
			rawcap_pcap_iface_comment(m->w, g->ifc.ifindex, g->in->late);
	}
}

int merge_finish(struct merge *m)
{
	int err;

	if (!m->w && !m->err)
		open_writer(m);
	if (!m->w)
		return m->err;
	finish_ifaces(m);
	err = rawcap_pcap_close(m->w);
	m->w = NULL;
	if (!m->err)
		m->err = err;
	return m->err;
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	if (m->w)
		rawcap_pcap_close(m->w);
	for (size_t i = 0; i < m->nins; i++) {
		pcapng_rd_free(m->ins[i]->rd);
		free(m->ins[i]->node);
		free(m->ins[i]->map);
		free(m->ins[i]->late);
		free(m->ins[i]);
	}
	for (size_t i = 0; i < m->ngifs; i++) {
		free(m->gifs[i].name);
		free(m->gifs[i].desc);
	}
	free(m->gifs);
	free(m->ins);
	free(m->heap);
	free(m->notes);
	free(m);
}
