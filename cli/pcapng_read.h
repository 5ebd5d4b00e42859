/* SPDX-License-Identifier: MIT */
/*
 * pcapng_read.h - a pcapng block reader for untrusted bytes that arrive in
 * pieces (a node's HTTP stream as libcurl delivers it, or a file read in
 * chunks), after draft-ietf-opsawg-pcapng.
 *
 * The caller pushes bytes in (pcapng_rd_feed) and pulls events out
 * (pcapng_rd_next): a section starts, an interface is described, a packet
 * (enhanced or obsolete packet block), interface statistics. Other blocks
 * (name resolution, decryption secrets, custom, unknown) are skipped and
 * counted. Either byte order, several sections per stream, if_tsresol and
 * if_tsoffset are handled; timestamps come out in nanoseconds since the
 * epoch.
 *
 * Memory is bounded: the buffer holds at most one block of up to
 * PCAPNG_RD_BLOCK_MAX bytes plus slack, and a section may describe at most
 * PCAPNG_RD_IFACES_MAX interfaces with PCAPNG_RD_TEXT_TOTAL bytes of text. A packet event's
 * pointers stay valid until the next pcapng_rd_next() call; while it is held, feed() may refuse
 * bytes it has no room for (-ENOBUFS: pause the source, offer them again
 * after the next pcapng_rd_next()).
 *
 * Every length and offset is checked before use; a block that breaks the
 * format makes pcapng_rd_next() return -EBADMSG for good, with what was wrong
 * in pcapng_rd_error().
 */
#ifndef RAWCAP_CLI_PCAPNG_READ_H
#define RAWCAP_CLI_PCAPNG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPNG_RD_BLOCK_MAX  (4u << 20) /* largest block accepted */
#define PCAPNG_RD_IFACES_MAX 65536	/* interfaces per section */
#define PCAPNG_RD_TEXT_MAX   1024	/* bytes kept of an interface's name, description, filter */
#define PCAPNG_RD_TEXT_TOTAL (16u << 20) /* interface text held per section, bytes */

enum pcapng_ev_type {
	PCAPNG_EV_SECTION = 1, /* a section header: interface ids start again at 0 */
	PCAPNG_EV_IFACE = 2,   /* an interface description: ev.iface, ev.if_id */
	PCAPNG_EV_PACKET = 3,  /* an enhanced (or obsolete) packet block */
	PCAPNG_EV_STATS = 4,   /* an interface statistics block */
};

struct pcapng_iface {
	uint16_t linktype;
	uint32_t snaplen;
	/* NUL terminated, "" if absent; if_filter only of the libpcap kind */
	const char *name, *desc, *filter;
	/* timestamp units to nanoseconds: units * mul / div, or (units * 1e9) >> shift */
	uint64_t mul, div;
	int shift;	    /* >= 0 for binary if_tsresol, else -1 */
	int64_t tsoffset_s; /* if_tsoffset, seconds */
};

struct pcapng_ev {
	enum pcapng_ev_type type;
	uint32_t section;		  /* 1 for the first section */
	uint32_t if_id;			  /* IFACE, PACKET, STATS: interface id in the section */
	const struct pcapng_iface *iface; /* IFACE, PACKET, STATS */
	uint64_t ts_ns;			  /* PACKET, STATS */
	/* PACKET */
	const uint8_t *data;
	uint32_t caplen, origlen;
	bool has_flags, has_drops;
	uint32_t flags;	     /* epb_flags */
	uint64_t drops;	     /* epb_dropcount (obsolete block: its drops count) */
	const char *comment; /* opt_comment(s), NUL terminated and joined by "; "; NULL: none */
	/* STATS: isb_ifdrop and isb_usrdeliv when present */
	bool has_ifdrop, has_usrdeliv;
	uint64_t ifdrop, usrdeliv;
};

struct pcapng_rd_stats {
	uint64_t bytes;	  /* bytes consumed as blocks */
	uint64_t blocks;  /* blocks parsed */
	uint64_t packets; /* packet events */
	uint64_t skipped; /* blocks skipped: other types, or simple packet blocks */
};

struct pcapng_rd;

int pcapng_rd_new(struct pcapng_rd **out);
void pcapng_rd_free(struct pcapng_rd *r);
/*
 * Take len bytes of the stream: 0, -ENOBUFS if there is no room for them
 * now (nothing taken; a packet event is held), -EBADMSG after a format error.
 */
int pcapng_rd_feed(struct pcapng_rd *r, const void *data, size_t len);
/* Room to read into directly: a pointer and *room bytes (0 if none now); then commit. */
uint8_t *pcapng_rd_wbuf(struct pcapng_rd *r, size_t *room);
void pcapng_rd_commit(struct pcapng_rd *r, size_t n);
/*
 * The next event: 1 with *ev filled, 0 if more bytes are needed, or
 * -EBADMSG (see pcapng_rd_error()). Releases the previous event.
 */
int pcapng_rd_next(struct pcapng_rd *r, struct pcapng_ev *ev);
/* Bytes fed but not yet consumed as whole blocks (non-zero at the end: truncated). */
size_t pcapng_rd_pending(const struct pcapng_rd *r);
const char *pcapng_rd_error(const struct pcapng_rd *r);
void pcapng_rd_get_stats(const struct pcapng_rd *r, struct pcapng_rd_stats *out);
/* Bytes of memory the reader holds now (buffer and interface table). */
size_t pcapng_rd_footprint(const struct pcapng_rd *r);

#endif
