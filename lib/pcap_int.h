/* SPDX-License-Identifier: MIT */
/*
 * pcap_int.h - the state of a pcap/pcapng writer, shared by the files that
 * implement it: pcap_writer.c (buffering, link type, classic pcap),
 * pcap_iface.c (the interface table) and pcap_ng.c (pcapng blocks).
 * Private names start with pw_ (pcap writer): pcap_ and PCAP_ belong to
 * libpcap, which librawcap also links.
 */
#ifndef RAWCAP_LIB_PCAP_INT_H
#define RAWCAP_LIB_PCAP_INT_H

#include <rawcap/pcap.h>

struct pw_iface {
	struct rawcap_iface ifc;
	bool known;		/* description from the caller (else a placeholder) */
	int32_t id;		/* pcapng interface id, -1 until its IDB is written */
	uint32_t snaplen;	/* announced in its IDB, once written */
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
	uint32_t snaplen;      /* the caller's; 262144 by default */
	uint32_t file_snaplen; /* classic: announced in the header, once written */
	uint16_t linktype;     /* the file's link type, 0 until chosen (and when native) */
	uint16_t force_linktype;
	bool native;	 /* pcapng: each interface keeps its own link type */
	bool first_only; /* the first packet's link type; another one is -EXDEV */
	bool header_done;
	bool wrote;	/* some bytes reached the output */
	bool abandoned; /* rawcap_pcap_abandon(): close writes nothing */
	int err; /* first write error, sticky */
	uint8_t *buf;
	size_t len, cap;
	struct pw_iface *ifs;
	size_t nifs, ifs_cap;
	int32_t next_id;
	uint64_t pending_any; /* loss not tied to an interface */
	uint64_t skipped;
	char appl[64];
	char *comment;
	char note[1024]; /* pending comment for the next packet (rawcap_pcap_note_comment) */
	uint64_t stats_ts_ns; /* timestamp of the statistics blocks; 0: when closed */
};

#define PW_SLL2_HDR_LEN 20

/* A packet as it goes into the file: an optional header, then data[skip..skip+caplen). */
struct pw_frame {
	uint8_t prefix[PW_SLL2_HDR_LEN];
	uint32_t prefix_len, skip, caplen, orig_len;
};

/* Make room for n more bytes (flushing when full). Returns a pointer or NULL (w->err set). */
uint8_t *pw_reserve(struct rawcap_pcap *w, size_t n);
struct pw_iface *pw_iface_find(struct rawcap_pcap *w, uint32_t ifindex);
/* A new entry for ifindex, not yet described (pcap_iface.c); NULL: out of memory. */
struct pw_iface *pw_iface_add(struct rawcap_pcap *w, uint32_t ifindex);
uint32_t pw_snaplen(const struct rawcap_pcap *w, const struct pw_iface *pi, uint16_t lt);

int pw_ng_write_shb(struct rawcap_pcap *w);
int pw_ng_write_idb(struct rawcap_pcap *w, struct pw_iface *pi);
int pw_ng_write_epb(struct rawcap_pcap *w, struct pw_iface *pi, const struct rawcap_pcap_pkt *p,
		    const struct pw_frame *f, uint64_t drops, const char *comment);
int pw_ng_write_isb(struct rawcap_pcap *w, struct pw_iface *pi, const char *comment);

#endif
