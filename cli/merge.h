/* SPDX-License-Identifier: MIT */
/*
 * merge.h - the streaming k-way merge of nodes' pcapng streams into one
 * capture file, written with librawcap's pcap/pcapng writer.
 *
 * Each input is one node's stream, fed in pieces as it arrives. Packets
 * leave in timestamp order; equal timestamps leave in the order the inputs
 * were added (callers add them sorted by node name), and each node's own
 * packets keep their order. A packet is written only once every input still
 * running has a packet waiting, so at most one block per node is held:
 * memory grows with the number of nodes and interfaces, never with the
 * window.
 *
 * pcapng output has one interface description block per (node, interface),
 * named "NODE/IFACE" and described "node NODE: <the node's description>";
 * each node's drop counts, packet comments and interface statistics drops
 * are kept. Notes about a node (a recycled part of the window, a failure)
 * go into the section header comment while the file has not started, later
 * into the comments of that node's interface statistics blocks.
 *
 * Link types follow the writer's rule for a stream (linktype, as
 * rawcap-pcap's --linktype): by default one per file, so that libpcap reads
 * it (tcpdump -r, tcpreplay), decided when the first packet is written from
 * every interface described so far (each node's first ones): the one they
 * share, bytes unchanged, else LINKTYPE_LINUX_SLL. A packet the chosen link
 * type cannot hold (an interface that appears later with another link type)
 * is skipped and counted against its node. RAWCAP_PCAP_LT_NATIVE keeps every
 * interface's own (pcapng; what mergecap writes).
 */
#ifndef RAWCAP_CLI_MERGE_H
#define RAWCAP_CLI_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/pcap.h>

struct merge_opts {
	enum rawcap_pcap_format format;
	uint32_t snaplen; /* 0: the writer's default */
	uint16_t linktype; /* RAWCAP_PCAP_LT_AUTO (0), _NATIVE, or a link type to force */
	int fd;		  /* output descriptor, or -1 with write_fn */
	int (*write_fn)(void *arg, const void *buf, size_t len);
	void *write_arg;
	const char *comment; /* start of the section header comment, may be NULL */
	double pace;	     /* 0: as fast as possible; 1: at capture speed; N: N times it */
};

/* How one node's stream ended. */
enum merge_in_state {
	MERGE_IN_RUNNING = 0,
	MERGE_IN_COMPLETE = 1,	/* a clean end after whole blocks */
	MERGE_IN_TRUNCATED = 2, /* the stream stopped early; what came is merged */
	MERGE_IN_FAILED = 3,	/* no usable stream, or bytes that are not pcapng */
};

struct merge_in_stats {
	enum merge_in_state state;
	const char *why;	 /* for TRUNCATED and FAILED */
	uint64_t packets, bytes; /* written to the output (bytes: captured bytes) */
	uint64_t drops;		 /* drops the node reported (drop counts, statistics) */
	uint64_t skipped;	 /* packets the file's link type could not hold */
	uint64_t first_ns, last_ns;
};

struct merge;
struct merge_in;

int merge_new(const struct merge_opts *o, struct merge **out);
/* Add a node's input; ties between nodes go to the one added first. */
int merge_add(struct merge *m, const char *node, struct merge_in **out);
const char *merge_in_node(const struct merge_in *in);
/* Bytes of the stream: 0, or -ENOBUFS (nothing taken: offer them again later). */
int merge_feed(struct merge_in *in, const void *data, size_t len);
/* Read into the input directly: *room bytes at the pointer (0: none now), then commit. */
uint8_t *merge_wbuf(struct merge_in *in, size_t *room);
void merge_commit(struct merge_in *in, size_t n);
/* The stream ended: why NULL for a clean end, else what cut it (it is then partial). */
void merge_end(struct merge_in *in, const char *why);
/* The input failed before or instead of a stream (nothing more will come). */
void merge_fail(struct merge_in *in, const char *why);
/* A note about this node for the file (section header or statistics comments). */
int merge_note(struct merge_in *in, const char *note);
/* True if the merge waits for bytes of this input (so its source must not stay paused). */
bool merge_wants(const struct merge_in *in);
/*
 * Write every packet that can be written now. Returns 1 when every input
 * ended and all was written, 0 when waiting for input (or for pace: then
 * *wake_ns, if not NULL, is when to call again), or -errno writing.
 */
int merge_run(struct merge *m, uint64_t *wake_ns);
/* Write out what is buffered (streams: call before blocking). */
int merge_flush(struct merge *m);
void merge_in_stats(const struct merge_in *in, struct merge_in_stats *out);
/* Memory held by the inputs' buffers and tables now, bytes. */
size_t merge_footprint(const struct merge *m);
/* Finish the file (statistics blocks, flush). Returns the first write error. */
int merge_finish(struct merge *m);
/* Free everything (the output descriptor stays the caller's). */
void merge_free(struct merge *m);

#endif
