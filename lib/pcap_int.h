/* SPDX-License-Identifier: MIT */
/*
 * pcap_int.h - the state of a pcap/pcapng writer, shared by the files that
 * implement it: pcap_writer.c (buffering, interfaces, classic pcap) and
 * pcap_ng.c (pcapng blocks).
 */
#ifndef RAWCAP_LIB_PCAP_INT_H
#define RAWCAP_LIB_PCAP_INT_H

#include <rawcap/pcap.h>

struct pcap_if {
	struct rawcap_iface ifc;
	bool known;		/* description from the caller (else a placeholder) */
	int32_t id;		/* pcapng interface id, -1 until its IDB is written */
	uint64_t pending_drops; /* noted since its previous packet */
	struct rawcap_pcap_ifstats st;
	char *label_name, *label_desc; /* rawcap_pcap_iface_label(), or NULL */
	char *isb_comment;	       /* rawcap_pcap_iface_comment(), or NULL */
};

struct rawcap_pcap {
	int fd;
	int (*write_fn)(void *arg, const void *buf, size_t len); /* instead of fd, if set */
	void *write_arg;
	enum rawcap_pcap_format format;
	uint32_t snaplen;
	uint16_t linktype; /* classic: chosen link type, 0 until the header is written */
	uint16_t force_linktype;
	bool header_done;
	int err; /* first write error, sticky */
	uint8_t *buf;
	size_t len, cap;
	struct pcap_if *ifs;
	size_t nifs, ifs_cap;
	int32_t next_id;
	uint64_t pending_any; /* loss not tied to an interface */
	uint64_t skipped;
	char appl[64];
	char *comment;
};

/* Make room for n more bytes (flushing when full). Returns a pointer or NULL (w->err set). */
uint8_t *pcap_reserve(struct rawcap_pcap *w, size_t n);
struct pcap_if *pcap_if_find(struct rawcap_pcap *w, uint32_t ifindex);

int pcapng_write_shb(struct rawcap_pcap *w);
int pcapng_write_idb(struct rawcap_pcap *w, struct pcap_if *pi);
int pcapng_write_epb(struct rawcap_pcap *w, struct pcap_if *pi, const struct rawcap_pcap_pkt *p,
		     uint32_t caplen, uint64_t drops);
int pcapng_write_isb(struct rawcap_pcap *w, struct pcap_if *pi);

#endif
