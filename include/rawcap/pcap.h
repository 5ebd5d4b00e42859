/* SPDX-License-Identifier: MIT */
/*
 * rawcap/pcap.h - write packets as pcapng or classic pcap to a file
 * descriptor, buffered, with explicit flushes for streaming.
 *
 * pcapng: a section header (OS, application), one interface description
 * block per interface, written the first time a packet of that interface is
 * written (name, description, if_tsresol = nanoseconds, the capture filter),
 * enhanced packet blocks with direction/reception flags, a drop count when
 * loss was noted on the interface since its previous packet, an optional
 * comment, and interface statistics blocks on close.
 *
 * Classic pcap: nanosecond magic.
 *
 * One link type per file, in both formats (RAWCAP_PCAP_LT_AUTO): libpcap,
 * and so tcpdump, tcpreplay and every tool built on it, refuses a pcapng
 * whose interfaces differ in link type ("an interface has a type ...
 * different from the type of the first interface"). The link type is fixed
 * before the first packet, from the interfaces declared so far: when they
 * all share one it is used as is (bytes unchanged), otherwise
 * LINKTYPE_LINUX_SLL, so that direction, protocol and source address survive
 * (pcapng also keeps each interface's own block; SLL rather than SLL2
 * because tcpreplay 4.4 refuses SLL2; force RAWCAP_LINKTYPE_SLL2 to keep the
 * ifindex in classic pcap). A packet that cannot be represented in the
 * chosen link type is skipped and counted.
 * RAWCAP_PCAP_LT_NATIVE keeps each pcapng interface's own link type (what
 * Wireshark reads, libpcap does not when they differ).
 *
 * Every file opens in libpcap, also when nothing was written: an empty
 * pcapng still gets an interface description block (libpcap refuses a
 * section without one), an empty pcap its file header. Loss noted after the
 * last packet goes into the interface statistics block (isb_ifdrop and a
 * comment).
 *
 *	struct rawcap_pcap_opts o = { .sz = sizeof(o), .format = RAWCAP_PCAP_PCAPNG };
 *	rawcap_pcap_open(1, &o, &w);
 *	rawcap_pcap_add_iface(w, &iface);
 *	rawcap_pcap_write(w, &pkt);
 *	rawcap_pcap_close(w);
 */
#ifndef RAWCAP_PCAP_H
#define RAWCAP_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/rawcap.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RAWCAP_LINKTYPE_ETHERNET 1
#define RAWCAP_LINKTYPE_RAW	 101
#define RAWCAP_LINKTYPE_SLL	 113
#define RAWCAP_LINKTYPE_IPV4	 228
#define RAWCAP_LINKTYPE_IPV6	 229
#define RAWCAP_LINKTYPE_SLL2	 276

enum rawcap_pcap_format {
	RAWCAP_PCAP_PCAPNG = 0,
	RAWCAP_PCAP_CLASSIC = 1, /* nanosecond pcap */
};

#define RAWCAP_PCAP_LT_AUTO   0	     /* opts.linktype: one per file, SLL when they differ */
#define RAWCAP_PCAP_LT_NATIVE 0xFFFF /* opts.linktype: pcapng, each interface its own */
/*
 * opts.linktype: the first packet's link type, whatever the declared
 * interfaces; a later packet of another link type is not written and
 * rawcap_pcap_write() returns -EXDEV, so that a caller that can rewind its
 * output (a regular file) starts over with LINUX_SLL. A window whose packets
 * share a link type then keeps it, even when idle interfaces differ.
 */
#define RAWCAP_PCAP_LT_FIRST 0xFFFE
/*
 * The --linktype words every tool takes: "auto" (RAWCAP_PCAP_LT_AUTO),
 * "native" (RAWCAP_PCAP_LT_NATIVE), "sll", "sll2". 0, or -EINVAL.
 */
RAWCAP_API int rawcap_pcap_parse_linktype(const char *word, uint16_t *out);

struct rawcap_pcap_opts {
	size_t sz; /* sizeof(struct rawcap_pcap_opts) */
	enum rawcap_pcap_format format;
	/*
	 * Truncate packets to this many bytes; 0: 262144. Files announce it, or
	 * the interface's own (rawcap_iface_snaplen()) when capd kept less; a
	 * cooked (SLL, SLL2) file keeps its header and a byte whatever this is.
	 */
	uint32_t snaplen;
	uint16_t linktype;   /* force this link type (e.g. SLL2), or RAWCAP_PCAP_LT_* */
	const char *appl;    /* pcapng shb_userappl; NULL: "rawcap <version>" */
	const char *comment; /* pcapng section comment, may be NULL */
	size_t buf_size;     /* output buffer; 0: 256 KiB */
	/*
	 * Instead of write(2) to fd (pass fd -1): hand each flushed span to
	 * write_fn, which takes all of it or returns a negative errno (sticky).
	 * rawcap-forward queues into per-receiver buffers this way.
	 */
	int (*write_fn)(void *arg, const void *buf, size_t len);
	void *write_arg;
};

struct rawcap_pcap;

/* Packet to write; pkt and data point at a validated record's payload. */
struct rawcap_pcap_pkt {
	uint64_t ts_ns;
	const struct rawcap_pkt *pkt;
	const uint8_t *data;
	uint32_t caplen;
	const char *comment; /* per-packet comment (pcapng), NULL or "" for none */
};

/* Per-interface figures, as written into the interface statistics block. */
struct rawcap_pcap_ifstats {
	uint64_t first_ns, last_ns; /* timestamps of the first and last packet written */
	uint64_t packets;	    /* packets written */
	uint64_t drops;		    /* loss noted with rawcap_pcap_note_loss() */
};

/* The descriptor stays the caller's: close() flushes but does not close it. */
RAWCAP_API int rawcap_pcap_open(int fd, const struct rawcap_pcap_opts *o, struct rawcap_pcap **out);
/* Declare (or update) an interface. Cheap; nothing is written until a packet uses it. */
RAWCAP_API int rawcap_pcap_add_iface(struct rawcap_pcap *w, const struct rawcap_iface *ifc);
/*
 * Name and describe interface ifindex in its interface description block
 * (pcapng if_name, if_description) with text longer than struct
 * rawcap_iface holds, e.g. "node-1/eth0" when merging nodes; each is cut at
 * RAWCAP_PCAP_LABEL_MAX bytes, NULL keeps the default. Takes effect if
 * called before the interface's first packet. 0 or -ENOMEM.
 */
#define RAWCAP_PCAP_LABEL_MAX 1024
RAWCAP_API int rawcap_pcap_iface_label(struct rawcap_pcap *w, uint32_t ifindex, const char *name,
				       const char *desc);
/*
 * A comment for interface ifindex's interface statistics block (pcapng,
 * written by close), e.g. why its packets end early; replaces an earlier
 * one, cut at RAWCAP_PCAP_LABEL_MAX bytes. 0 or -ENOMEM.
 */
RAWCAP_API int rawcap_pcap_iface_comment(struct rawcap_pcap *w, uint32_t ifindex,
					 const char *comment);
/*
 * Note count units lost on ifindex (0: not tied to one); attached to its
 * next packet (epb_dropcount), or to the interface statistics at close.
 */
RAWCAP_API void rawcap_pcap_note_loss(struct rawcap_pcap *w, uint32_t ifindex, uint64_t count);
/*
 * Note a comment (pcapng) for the next packet written, e.g. what a loss was;
 * notes accumulate ("; " between them, up to 1 KiB). Notes left at close go
 * into the statistics block's comment, so loss after the last packet is
 * still said in the file.
 */
RAWCAP_API void rawcap_pcap_note_comment(struct rawcap_pcap *w, const char *text);
/*
 * Write one packet. 0, 1 if skipped (unrepresentable in the file's link
 * type), or -errno (e.g. -EPIPE; -EXDEV with RAWCAP_PCAP_LT_FIRST).
 */
RAWCAP_API int rawcap_pcap_write(struct rawcap_pcap *w, const struct rawcap_pcap_pkt *p);
/* Write out the buffer (a short write is retried; EINTR handled). */
RAWCAP_API int rawcap_pcap_flush(struct rawcap_pcap *w);
/* Bytes buffered but not yet written. */
RAWCAP_API size_t rawcap_pcap_pending(const struct rawcap_pcap *w);
RAWCAP_API int rawcap_pcap_ifstats(const struct rawcap_pcap *w, uint32_t ifindex,
				   struct rawcap_pcap_ifstats *out);
/* Packets skipped because the file's link type could not represent them. */
RAWCAP_API uint64_t rawcap_pcap_skipped(const struct rawcap_pcap *w);
/*
 * The export failed before it began (its source could not be read): if no
 * byte has reached the output yet, none will (the buffer is dropped and
 * rawcap_pcap_close() writes nothing, as tcpdump writes nothing when it
 * cannot open its interface) and 0 is returned; otherwise -EALREADY (bytes
 * were written) or the output's own error, and the writer is unchanged.
 */
RAWCAP_API int rawcap_pcap_abandon(struct rawcap_pcap *w);
/*
 * Finish the file (pcapng: an interface block if none was written, statistics
 * blocks; classic: the header if no packet was written), flush, free.
 * Returns the first error seen.
 */
RAWCAP_API int rawcap_pcap_close(struct rawcap_pcap *w);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_PCAP_H */
