// SPDX-License-Identifier: MIT
/*
 * pcap_iface.c - a pcap/pcapng writer's interface table (rawcap/pcap.h):
 * interfaces met in packets or described by the caller, their labels and
 * statistics-block comments, loss noted for an interface's next packet (or
 * the next packet's comment), and each interface's statistics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_int.h"

struct pw_iface *pw_iface_find(struct rawcap_pcap *w, uint32_t ifindex)
{
	/* Callers that number interfaces 1..n (a merge of nodes) find theirs at once. */
	if (ifindex && ifindex <= w->nifs && w->ifs[ifindex - 1].ifc.ifindex == ifindex)
		return &w->ifs[ifindex - 1];
	for (size_t i = 0; i < w->nifs; i++)
		if (w->ifs[i].ifc.ifindex == ifindex)
			return &w->ifs[i];
	return NULL;
}

struct pw_iface *pw_iface_add(struct rawcap_pcap *w, uint32_t ifindex)
{
	struct pw_iface *pi;

	if (w->nifs == w->ifs_cap) {
		size_t ncap = w->ifs_cap ? w->ifs_cap * 2 : 8;
		struct pw_iface *n = realloc(w->ifs, ncap * sizeof(*n));

		if (!n)
			return NULL;
		w->ifs = n;
		w->ifs_cap = ncap;
	}
	pi = &w->ifs[w->nifs++];
	memset(pi, 0, sizeof(*pi));
	pi->ifc.ifindex = ifindex;
	pi->id = -1;
	return pi;
}

int rawcap_pcap_add_iface(struct rawcap_pcap *w, const struct rawcap_iface *ifc)
{
	struct pw_iface *pi = pw_iface_find(w, ifc->ifindex);

	if (!pi)
		pi = pw_iface_add(w, ifc->ifindex);
	if (!pi)
		return -ENOMEM;
	/* Once its IDB is written an interface's link type is fixed in the file. */
	if (pi->id >= 0 && pi->ifc.linktype != ifc->linktype)
		return 0;
	pi->ifc = *ifc;
	pi->ifc.name[RAWCAP_IFNAMSIZ - 1] = '\0';
	pi->ifc.filter[RAWCAP_FILTER_MAX - 1] = '\0';
	pi->known = true;
	return 0;
}

static struct pw_iface *pw_iface_get(struct rawcap_pcap *w, uint32_t ifindex)
{
	struct pw_iface *pi = pw_iface_find(w, ifindex);

	return pi ? pi : pw_iface_add(w, ifindex);
}

/* Replace *slot with a copy of text cut at RAWCAP_PCAP_LABEL_MAX bytes (NULL: keep). */
static int set_label(char **slot, const char *text)
{
	char *copy;

	if (!text)
		return 0;
	copy = strndup(text, RAWCAP_PCAP_LABEL_MAX);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

int rawcap_pcap_iface_label(struct rawcap_pcap *w, uint32_t ifindex, const char *name,
			    const char *desc)
{
	struct pw_iface *pi = pw_iface_get(w, ifindex);

	if (!pi)
		return -ENOMEM;
	return set_label(&pi->label_name, name) ?: set_label(&pi->label_desc, desc);
}

int rawcap_pcap_iface_comment(struct rawcap_pcap *w, uint32_t ifindex, const char *comment)
{
	struct pw_iface *pi = pw_iface_get(w, ifindex);

	return pi ? set_label(&pi->isb_comment, comment) : -ENOMEM;
}

void rawcap_pcap_note_loss(struct rawcap_pcap *w, uint32_t ifindex, uint64_t count)
{
	struct pw_iface *pi = ifindex ? pw_iface_find(w, ifindex) : NULL;

	if (ifindex && !pi)
		pi = pw_iface_add(w, ifindex);
	if (pi) {
		pi->pending_drops += count;
		pi->st.drops += count;
	} else {
		w->pending_any += count;
	}
}

void rawcap_pcap_note_comment(struct rawcap_pcap *w, const char *text)
{
	size_t len = strlen(w->note);

	if (text && *text && len < sizeof(w->note) - 1)
		snprintf(w->note + len, sizeof(w->note) - len, "%s%s", len ? "; " : "", text);
}

int rawcap_pcap_ifstats(const struct rawcap_pcap *w, uint32_t ifindex,
			struct rawcap_pcap_ifstats *out)
{
	for (size_t i = 0; i < w->nifs; i++) {
		if (w->ifs[i].ifc.ifindex == ifindex) {
			*out = w->ifs[i].st;
			return 0;
		}
	}
	return -ENOENT;
}
