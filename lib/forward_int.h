/* SPDX-License-Identifier: MIT */
/*
 * forward_int.h - the state of rawcap_forward, shared by its files:
 * forward_conn.c (bounded buffers, plain and TLS non-blocking I/O),
 * forward_tls.c (all of its OpenSSL calls), forward_stream.c (msgpack frames),
 * forward_client.c (one receiver: a window of the shared reader loop
 * and its sink) and
 * forward_server.c (listen/connect, the poll loop, pause/resume).
 */
#ifndef RAWCAP_LIB_FORWARD_INT_H
#define RAWCAP_LIB_FORWARD_INT_H

#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>

/* OpenSSL's objects, opaque here: only forward_tls.c calls OpenSSL. */
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

#include <rawcap/filter.h>
#include <rawcap/forward.h>
#include <rawcap/pcap.h>
#include <rawcap/window.h>

#define FWD_ACK_TABLE	  64   /* msgpack streams whose acked position we remember */
#define FWD_HELLO_TIMEOUT 5000 /* ms a peer has to finish its TLS handshake and HELLO */
#define FWD_RECORD_SLACK  4096 /* framing a record may add (pcapng blocks, IDB, msgpack) */
#define FWD_BATCH	  1024 /* records read per receiver per loop turn (rawcap_window_step) */
#define FWD_MAX_PENDING	  64   /* peers still in their handshake, beside max_clients */
#define FWD_TLS_WBUF	  (256 << 10) /* TLS records gathered into one write(2) (forward_tls.c) */

/* A bounded byte queue: what has been encoded but not yet written. */
struct fwd_buf {
	uint8_t *p;
	size_t off, len, cap;
};

int fwd_buf_init(struct fwd_buf *b, size_t cap);
void fwd_buf_free(struct fwd_buf *b);
static inline size_t fwd_buf_room(const struct fwd_buf *b) /* checked once per record */
{
	return b->cap - b->len;
}

/* Append n bytes; -ENOBUFS if they do not fit (never grows past cap). */
int fwd_buf_put(struct fwd_buf *b, const void *p, size_t n);
/* Make n contiguous bytes writable at the end; NULL if they do not fit. */
uint8_t *fwd_buf_tail(struct fwd_buf *b, size_t n);
void fwd_buf_consume(struct fwd_buf *b, size_t n);

/* One transport: a non-blocking socket, with or without TLS. */
struct fwd_conn {
	int fd;
	SSL *ssl;
	bool handshaken;
	bool want_write; /* TLS needs the socket writable to make progress */
	bool eof;	 /* the connection is gone: no close_notify on close */
	bool rd_closed;	 /* the peer half-closed: it sends nothing more, we still send */
};

/* 1 handshake done, 0 in progress, -errno failed (peer rejected, bad certificate). */
int fwd_conn_handshake(struct fwd_conn *c);
/*
 * Bytes read (> 0), 0 would block or the peer half-closed (c->rd_closed set:
 * stop polling it for input, keep sending), -ECONNRESET / -EPIPE on close,
 * -errno on error.
 */
ssize_t fwd_conn_read(struct fwd_conn *c, void *buf, size_t len);
/* A closed or reset socket's pending error as -errno; -ECONNRESET if none. */
int fwd_conn_error(const struct fwd_conn *c);
/*
 * Write n bytes at p behind what b holds: straight to the socket when b is
 * empty (no copy into the queue), the rest queued in b. Bytes written to
 * the socket, or -ENOBUFS when the rest does not fit in b. A failed write
 * queues everything; the next fwd_conn_flush() reports the error.
 */
ssize_t fwd_conn_write(struct fwd_conn *c, struct fwd_buf *b, const void *p, size_t n);
/* Write from b as much as the socket takes: bytes written, or -errno. */
ssize_t fwd_conn_flush(struct fwd_conn *c, struct fwd_buf *b);
/*
 * What the peer has taken: TCP bytes it acknowledged (TCP_INFO), and whether
 * the kernel still holds bytes for it (SIOCOUTQ). written: bytes given to
 * the socket so far, for kernels without tcpi_bytes_acked. 0 or -errno.
 */
int fwd_conn_acked(const struct fwd_conn *c, uint64_t written, uint64_t *acked, bool *holding);
void fwd_conn_close(struct fwd_conn *c);

/*
 * TLS (forward_tls.c; in librawcap.so through the OpenSSL module, whose
 * loading can fail: fwd_tls_ctx() then says why in err).
 */
SSL_CTX *fwd_tls_ctx(const struct rawcap_forward_opts *o, bool server, char *err, size_t errlen);
void fwd_tls_ctx_free(SSL_CTX *ctx);
/* A TLS session on fd, accepting (server) or connecting to host (SNI, name checked); or NULL. */
SSL *fwd_tls_new(SSL_CTX *ctx, int fd, bool server, const char *host);
/* As fwd_conn_handshake(), fwd_conn_read() and one send, for a connection with c->ssl. */
int fwd_tls_handshake(struct fwd_conn *c);
ssize_t fwd_tls_read(struct fwd_conn *c, void *buf, size_t len);
ssize_t fwd_tls_send(struct fwd_conn *c, const void *p, size_t n);
/*
 * Write out what the session's write buffer holds (fwd_tls_send() leaves
 * bytes there only when the socket is full): 1 all out, 0 the rest waits
 * for POLLOUT (c->want_write), -errno.
 */
int fwd_tls_flush(struct fwd_conn *c);
/* close_notify if the session is up, then free c->ssl. */
void fwd_tls_close(struct fwd_conn *c);

/*
 * A peer costs a socket and this struct until it is authenticated (TLS
 * handshake done; msgpack HELLO received; a plain pcap peer still connected
 * after one poll). Only then does it get its queue, window and pod index.
 */
enum fwd_client_state {
	FWD_C_HANDSHAKE, /* TLS handshake in progress */
	FWD_C_HELLO,	 /* msgpack: waiting for the receiver's HELLO */
	FWD_C_ADMIT,	 /* authenticated, waiting for a slot (plain pcap: until its first poll) */
	FWD_C_STREAM,	 /* forwarding */
	FWD_C_DRAIN,	 /* bounded replay done: flush, then close */
	FWD_C_DEAD,
};

struct fwd_client {
	struct rawcap_forward *f;
	struct fwd_conn conn;
	enum fwd_client_state state;
	char peer[80];
	uint64_t started_ms;
	/* Does it read? Probed at most once a second (fwd_client_probe()). */
	uint64_t progress_ms; /* last probe that found it acknowledging bytes, or holding none */
	uint64_t probe_ms, acked_bytes;
	bool holding;	      /* bytes queued for it, by us or by the kernel */
	bool polled;	      /* went through one poll since it was accepted */
	uint64_t retry_ms;    /* FWD_C_ADMIT: out of descriptors, try again then */
	const char *why;      /* set: drop it at the end of this turn, for this reason */
	bool resume;	      /* msgpack HELLO: continue after resume_seq */
	uint64_t resume_seq;
	struct rawcap_window *w;	  /* the shared reader loop, stepped each turn */
	struct rawcap_window_result seen; /* its figures already counted in f->st */
	char werr[256];			  /* why the window failed */
	struct rawcap_meta_index *ix;	  /* pods along this window; NULL without a selection */
	struct fwd_buf out;
	uint8_t in[512];
	size_t in_len;
	struct rawcap_pcap *pw;		  /* pcap/pcapng encoder, NULL for msgpack */
	struct rawcap_pcap_sink_state ps; /* the shared pcap sink (every hook's context) */
	bool pause_seen;		  /* paused state this receiver was last told about */
	char stream_id[64];		  /* msgpack */
	uint64_t drain_ms;		  /* when the last byte after END was written */
	uint64_t unsaid;		  /* records lost in this step, not yet said on stderr */
	uint32_t unsaid_reason;
	bool said; /* the first loss was said */
	/* figures */
	uint64_t packets, bytes, lost, gaps, acked;
	bool has_acked;
};

struct fwd_ack {
	char id[64];
	uint64_t seq;
	bool used;
};

/* What was last published in the status file (forward_status.c). */
struct fwd_status {
	uint64_t next_ms;  /* next periodic rewrite; 0: at once */
	uint64_t since_ns; /* CLOCK_REALTIME the current state began; 0: not yet known */
	uint32_t receivers;
	bool paused;
	bool warned; /* the last write failed and was reported */
};

/* What tells one version of the control file from another (forward_control.c). */
struct fwd_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_s, mtime_ns;
};

struct rawcap_forward {
	struct rawcap_forward_opts o;
	int lfd;
	int port;
	SSL_CTX *tls;
	char *connect_host; /* for TLS name verification */
	struct fwd_client **clients;
	unsigned nclients;
	atomic_int stop;
	atomic_int want_paused;
	bool paused;
	struct fwd_ack acks[FWD_ACK_TABLE];
	uint64_t next_connect_ms;
	unsigned connect_fails;
	uint64_t accept_resume_ms; /* accept(2) failed for lack of resources: pause until then */
	unsigned accept_backoff_ms;
	uint64_t log_sec; /* rate limit of the lines about peers dropped before authentication */
	unsigned log_lines, log_suppressed;
	bool finished;		       /* connect mode: bounded window delivered */
	struct fwd_file_id control_id; /* the dissection switch file last read */
	uint64_t control_check_ms;     /* next look at it */
	bool control_warned;	       /* its bad content was reported */
	struct rawcap_forward_stats st;
	char err[256];
	struct fwd_status status; /* the status file in o.control_dir */
};

void fwd_set_err(struct rawcap_forward *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* forward_control.c: the dissection switch in o.control_dir, read at create and polled. */
void fwd_control_init(struct rawcap_forward *f);
void fwd_control_poll(struct rawcap_forward *f);
/* forward_status.c: publish what the forwarder does in o.control_dir (each turn). */
void fwd_status_poll(struct rawcap_forward *f);
/* The file's text: its length, or -ENOSPC. And back (text is cut up): 0 or -EINVAL. */
int fwd_status_format(const struct rawcap_forward_status *st, char *buf, size_t len);
int fwd_status_parse(char *text, struct rawcap_forward_status *st);

/* forward_client.c */
int fwd_client_new(struct rawcap_forward *f, int fd, SSL *ssl, const char *peer,
		   struct fwd_client **out);
void fwd_client_free(struct fwd_client *c);
/* The peer is authenticated: give it its queue, pod index and window; announce the stream. */
int fwd_client_begin(struct fwd_client *c);
/* Still before authentication, or waiting for a slot: no queue, no window yet. */
static inline bool fwd_client_pending(const struct fwd_client *c)
{
	return c->state <= FWD_C_ADMIT;
}
/* Check whether the receiver reads; force: even if it was checked less than a second ago. */
void fwd_client_probe(struct fwd_client *c, uint64_t now_ms, bool force);
/* ms the receiver has held bytes without acknowledging any (as of the last probe); 0: it reads. */
uint64_t fwd_client_blocked_ms(const struct fwd_client *c, uint64_t now_ms);
/* Read and act on what the receiver sent (HELLO, ACK); -errno when it must go. */
int fwd_client_input(struct fwd_client *c);
/* Bytes the queue can still take, less what the pcap encoder holds for it. */
size_t fwd_client_room(const struct fwd_client *c);
/*
 * Step the window while the queue has room: 1 when more may be ready at once
 * (the budget spent, or no room until the next flush), 0 when it waits,
 * -errno when the receiver must go.
 */
int fwd_client_fill(struct fwd_client *c);
/* Tell the receiver about a pause or resume (msgpack), reposition on a live resume. */
void fwd_client_pause(struct fwd_client *c, bool paused);
/* ms until a held (paced) record is due, or -1. */
int fwd_client_pace_wait(const struct fwd_client *c);
void fwd_client_report(const struct fwd_client *c, const char *why);

/* forward_stream.c: the forwarder's side of the msgpack stream. */
int fwd_stream_hello(struct fwd_buf *b, const struct rawcap_forward *f, uint64_t start_seq);
/* snaplen: truncate packet data to it (0: keep all). */
int fwd_stream_record(struct fwd_buf *b, const struct rawcap_rec *rec, uint32_t snaplen);
int fwd_stream_iface(struct fwd_buf *b, uint64_t seq, uint64_t ts, const struct rawcap_iface *i);
int fwd_stream_gap(struct fwd_buf *b, uint64_t first_seq, uint64_t count, uint32_t reason);
int fwd_stream_end(struct fwd_buf *b, uint64_t last_seq);
int fwd_stream_pause(struct fwd_buf *b, bool paused, uint64_t seq);

/* forward_server.c: the remembered acked positions of msgpack streams. */
bool fwd_ack_lookup(struct rawcap_forward *f, const char *id, uint64_t *seq);
void fwd_ack_store(struct rawcap_forward *f, const char *id, uint64_t seq);
/*
 * forward_peers.c. c is authenticated: take a receiver slot (making room by evicting a
 * receiver that takes no bytes, if all are used) and fwd_client_begin() it.
 * -EUSERS when every slot is held by a receiver that reads.
 */
int fwd_admit(struct rawcap_forward *f, struct fwd_client *c);
/* TLS where others can reach the listener needs --tls-ca or --tls-any-client: 0 or -EINVAL. */
int fwd_check_client_auth(struct rawcap_forward *f);
/* Listen (f->lfd, f->port), or resolve the --connect peer: 0 or -errno with f->err set. */
int fwd_endpoint_open(struct rawcap_forward *f);
/* Accept what the listener holds (at most a turn's worth), as pending peers. */
void fwd_accept(struct rawcap_forward *f);
/* Dial the --connect peer once; on failure the next attempt waits (f->next_connect_ms). */
void fwd_connect(struct rawcap_forward *f);

#endif
