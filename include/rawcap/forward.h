/* SPDX-License-Identifier: MIT */
/*
 * rawcap/forward.h - forward a node's capture to remote dissectors.
 *
 * rawcap_forward_* is the engine behind rawcap-forward: a TCP or TLS server
 * (or client) that streams records to any number of receivers, each with
 * its own cursor, as pcapng, classic pcap or the rawcap msgpack stream
 * (docs/FORWARD.md). Every receiver has a bounded output buffer and
 * non-blocking writes: a slow or stalled receiver stops reading its own
 * cursor, gets lapped by the ring writer, and is told about the gap in its
 * stream; it never slows capd or another receiver.
 *
 * rawcap_stream_* encodes and decodes the msgpack stream's frames, for
 * receivers written in C (tests/forward/msgpack_sink.c is one).
 *
 *	struct rawcap_forward_opts o = { .sz = sizeof(o), .ring = "default",
 *		.listen = "0.0.0.0:57012", .plain = true };
 *	struct rawcap_forward *f;
 *	int err = rawcap_forward_create(&o, &f, why, sizeof(why));
 *	if (!err) err = rawcap_forward_run(f, why, sizeof(why)); // until rawcap_forward_stop()
 *	rawcap_forward_destroy(f);
 */
#ifndef RAWCAP_FORWARD_H
#define RAWCAP_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawcap/rawcap.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rawcap_forward_format {
	RAWCAP_FWD_PCAPNG = 0,
	RAWCAP_FWD_PCAP = 1,	/* classic pcap, nanosecond timestamps */
	RAWCAP_FWD_MSGPACK = 2, /* docs/FORWARD.md */
};

/* What a resume after a pause does (see rawcap_forward_pause()). */
enum rawcap_forward_resume {
	RAWCAP_FWD_RESUME_LIVE = 0,    /* skip what was captured while paused */
	RAWCAP_FWD_RESUME_BACKLOG = 1, /* continue at the pause point while it is still held */
};

struct rawcap_forward_opts {
	size_t sz;		 /* sizeof(struct rawcap_forward_opts) */
	const char *ring;	 /* ring name; NULL: "default" */
	const char *storage_dir; /* disk FIFO to replay from, NULL: ring only */
	const char *snapshot;	 /* replay this snapshot instead of ring and disk */
	uint64_t from_ns;	 /* 0: live (start at the newest record) */
	uint64_t to_ns;		 /* 0: no end */
	const char *filter;	 /* BPF expression applied to packets, NULL: all */
	const char *listen;	 /* "ADDR:PORT" (IPv6 as "[::1]:PORT"); or */
	const char *connect;	 /* "HOST:PORT": connect out, reconnect on loss */
	enum rawcap_forward_format format;
	double pace; /* 0: full speed; 1: real time; N: N times real time */
	enum rawcap_forward_resume resume;
	bool paused;	      /* start paused */
	bool plain;	      /* plain TCP: must be asked for, else TLS is required */
	const char *tls_cert; /* our certificate (PEM), required with TLS on a server */
	const char *tls_key;  /* its private key (PEM) */
	const char *tls_ca;   /* server: require client certificates signed by it (mTLS);
				 client: verify the server against it */
	size_t client_buf;    /* bytes buffered per receiver before it is lapped; 0: 4 MiB */
	unsigned max_clients; /* 0: 16 */
	uint32_t snaplen;     /* truncate packets; 0: whole records */
	/*
	 * Forward only packets to or from the pods it selects (rawcap/meta.h,
	 * --pod/--namespace/--label), or NULL: each receiver resolves pods from
	 * the metadata along its own cursor. Must outlive the forwarder.
	 */
	const struct rawcap_meta_sel *pods;
	/*
	 * A receiver that acknowledges none of the bytes queued for it (by us
	 * or by the kernel) for this long is dropped: it does not read. While
	 * every slot is taken, one that took nothing for 2 s makes room for a
	 * new receiver. 0: 30 s.
	 */
	uint32_t send_timeout_ms;
	/*
	 * A TLS server on a non-loopback address requires client certificates
	 * (tls_ca): rawcap_forward_create() fails with -EINVAL without one,
	 * unless this says that any TLS client may connect.
	 */
	bool tls_any_client;
	/*
	 * Follow the dissection switch in this directory (rawcap_dissection_load()):
	 * read at create, where it overrides paused and resume, then checked at
	 * most once a second while running (by inode, size and mtime). A missing
	 * file leaves the state as it is; a bad one is reported once and ignored.
	 * NULL: no switch file.
	 */
	const char *control_dir;
};

struct rawcap_forward;
struct rawcap_meta_sel;

/* Per-receiver and total figures. */
struct rawcap_forward_stats {
	uint64_t clients_accepted;
	uint64_t clients_rejected; /* failed TLS handshake / protocol / over max_clients */
	uint64_t packets;	   /* packets sent (into receivers' buffers) */
	uint64_t bytes;		   /* stream bytes written to sockets */
	uint64_t records_lost;	   /* gaps reported to receivers, in records */
	uint64_t gaps;		   /* gap notices sent */
	uint64_t filtered;	   /* packets the filter rejected */
	uint32_t clients;	   /* connected now */
	uint32_t paused;
	uint64_t streams;	/* receivers authenticated and given a cursor */
	uint64_t timed_out;	/* dropped: no handshake in time, or took no byte in time */
	uint64_t evicted;	/* dropped to make room: took no byte while all slots were used */
	uint64_t accept_errors; /* accept(2) failures (EMFILE...), each followed by a pause */
	uint64_t lost_upstream; /* units the loss records sent said were lost (kernel drops...) */
};

/*
 * Check o, open the source once (to fail now, not per receiver), compile the
 * filter, set up TLS and the listening socket or the peer's address.
 * Returns 0 and the forwarder in *out, or a negative errno with *out NULL
 * and one line in why (whylen bytes, NUL terminated; why may be NULL)
 * saying what was attempted and why it failed: -EINVAL for bad options or
 * a bad filter, the errno of opening the ring or binding, -EIO for TLS.
 */
RAWCAP_API int rawcap_forward_create(const struct rawcap_forward_opts *o,
				     struct rawcap_forward **out, char *why, size_t whylen);
/*
 * Serve until rawcap_forward_stop() (or, when connecting out with a bounded
 * window, until the window was delivered). Returns 0, or a negative errno
 * with one line in why (as rawcap_forward_create()).
 */
RAWCAP_API int rawcap_forward_run(struct rawcap_forward *f, char *why, size_t whylen);
/* Async-signal-safe: may be called from a signal handler. */
RAWCAP_API void rawcap_forward_stop(struct rawcap_forward *f);
RAWCAP_API void rawcap_forward_pause(struct rawcap_forward *f, bool paused);
RAWCAP_API void rawcap_forward_get_stats(const struct rawcap_forward *f,
					 struct rawcap_forward_stats *out);
/* The port actually bound (for --listen ADDR:0). */
RAWCAP_API int rawcap_forward_port(const struct rawcap_forward *f);
RAWCAP_API void rawcap_forward_destroy(struct rawcap_forward *f);

/*
 * The msgpack stream (docs/FORWARD.md). A frame is a 4-byte big-endian
 * length and one msgpack array whose first element is the frame type.
 */
#define RAWCAP_STREAM_VERSION	1
#define RAWCAP_STREAM_FRAME_MAX (RAWCAP_REC_MAX + 4096)

enum rawcap_stream_frame_type {
	RAWCAP_STREAM_HELLO = 0, /* both ways: version, then a map */
	RAWCAP_STREAM_PACKET =
		1,		 /* seq ts ifindex orig_len linktype dir flags cgroup cookie data */
	RAWCAP_STREAM_META = 2,	 /* seq ts kind map */
	RAWCAP_STREAM_IFACE = 3, /* seq ts map */
	RAWCAP_STREAM_LOSS = 4,	 /* seq ts cause count ifindex first_seq: loss upstream */
	RAWCAP_STREAM_GAP = 5,	 /* first_seq count reason: records this receiver missed */
	RAWCAP_STREAM_END = 6,	 /* last_seq: a bounded replay is complete */
	RAWCAP_STREAM_ACK = 7,	 /* receiver to forwarder: seq */
	RAWCAP_STREAM_PAUSE = 8, /* paused(bool) seq: forwarding paused / resumed */
};

enum rawcap_stream_gap_reason {
	RAWCAP_STREAM_GAP_LAPPED = 1,	/* the receiver was too slow; the ring overtook it */
	RAWCAP_STREAM_GAP_RECYCLED = 2, /* resumed position no longer held */
	RAWCAP_STREAM_GAP_SKIPPED = 3,	/* resumed live after a pause: skipped on purpose */
};

/* A decoded frame. Pointers point into the buffer given to rawcap_stream_decode(). */
struct rawcap_stream_frame {
	uint32_t type; /* enum rawcap_stream_frame_type */
	uint64_t seq;  /* PACKET/META/IFACE/LOSS/ACK; GAP: first_seq; END: last_seq */
	uint64_t ts_ns;
	uint64_t count;	 /* LOSS, GAP */
	uint32_t reason; /* GAP: enum rawcap_stream_gap_reason; LOSS: cause; META: kind */
	uint32_t ifindex;
	uint32_t orig_len;
	uint16_t linktype;
	uint8_t dir, pkt_flags;
	uint64_t cgroup_id, sock_cookie;
	const uint8_t *data; /* PACKET: captured bytes; META/IFACE/HELLO: the msgpack map */
	uint32_t data_len;
	bool has_resume;     /* HELLO from a receiver */
	bool paused;	     /* PAUSE */
	uint64_t resume_seq; /* HELLO: continue after this sequence number */
	char stream_id[64];  /* HELLO: the receiver's stream id, "" if none */
};

/*
 * Find one frame in buf[0..len). Returns the bytes it spans (> 0) with *f
 * filled, 0 if more bytes are needed, -EBADMSG if the bytes are not a frame.
 */
RAWCAP_API int rawcap_stream_decode(const void *buf, size_t len, struct rawcap_stream_frame *f);
/* Encode a receiver's HELLO / ACK into buf (cap >= 128). Returns the length or -ENOSPC. */
RAWCAP_API int rawcap_stream_hello(void *buf, size_t cap, const char *stream_id, bool resume,
				   uint64_t resume_seq);
RAWCAP_API int rawcap_stream_ack(void *buf, size_t cap, uint64_t seq);

/*
 * The dissection switch (on/off and how to resume) that rawcap-server writes
 * and rawcap-forward follows: the file RAWCAP_DISSECTION_FILE in a directory
 * both can reach, "enabled=true|false\nresume=live|backlog\n".
 */
#define RAWCAP_DISSECTION_FILE "dissection"
struct rawcap_dissection {
	bool enabled;
	enum rawcap_forward_resume resume;
};
/*
 * Read DIR's switch into *st. 0; -ENOENT when there is none; -EINVAL when it
 * is a link, not a regular file, over 128 bytes or not in the format above;
 * -EPERM when it is owned by neither root nor this process's user; another
 * negative errno when it cannot be read.
 */
RAWCAP_API int rawcap_dissection_load(const char *dir, struct rawcap_dissection *st);
/*
 * Write *st as DIR's switch: a temporary file (mode 0640, fsynced) renamed
 * over the old one, so readers see the old state or the new one. 0 or a
 * negative errno.
 */
RAWCAP_API int rawcap_dissection_store(const char *dir, const struct rawcap_dissection *st);

/*
 * What rawcap-forward is doing, as it says itself: the file
 * RAWCAP_FORWARD_STATUS_FILE that a forwarder with a control directory
 * rewrites there (temporary file renamed over the old one) about once a
 * second and at once when it pauses, resumes, or a receiver comes or goes.
 * One "key=value" line each, in this order:
 *
 *   pid=1234			the forwarder's process id (in its namespace)
 *   state=paused|forwarding	what it does now
 *   resume=live|backlog	the resume mode in force
 *   since_ns=N			CLOCK_REALTIME ns it entered that state
 *   updated_ns=N		CLOCK_REALTIME ns of this write
 *   receivers=N		receivers connected now
 *   packets=N			packets sent since it started
 *   bytes=N			stream bytes written since it started
 *
 * A forwarder that stopped or was killed leaves the file behind, no longer
 * updated: a reader judges freshness by updated_ns.
 */
#define RAWCAP_FORWARD_STATUS_FILE "forwarder"
#define RAWCAP_FORWARD_STATUS_MAX  512 /* bytes; a larger file is refused */
struct rawcap_forward_status {
	int64_t pid;
	bool paused;
	enum rawcap_forward_resume resume;
	uint64_t since_ns;
	uint64_t updated_ns;
	uint32_t receivers;
	uint64_t packets;
	uint64_t bytes;
};
/*
 * Read DIR's forwarder status into *st, trusting nothing about the file:
 * opened without following links, a regular file owned by root or by this
 * process's user, at most RAWCAP_FORWARD_STATUS_MAX bytes, every line above
 * present once and nothing else. 0; -ENOENT when there is none; -EINVAL when
 * the content is not in that format; -ELOOP, -EBADFD, -EISDIR, -EPERM,
 * -EFBIG for a link, a special file, a directory, another owner, a file too
 * large; another negative errno when it cannot be read.
 */
RAWCAP_API int rawcap_forward_status_load(const char *dir, struct rawcap_forward_status *st);

#ifdef __cplusplus
}
#endif

#endif /* RAWCAP_FORWARD_H */
