// SPDX-License-Identifier: MIT
/*
 * httpd_stream.c - a body written by one thread and sent by the
 * connection's own thread (thread_per_conn), handed over without a buffer
 * of its own.
 *
 * Each byte is copied once, from the writer's buffer into the connection's
 * send buffer, with no buffer in between and nothing held per stream but
 * pointers. MHD's content reader, on the connection's thread, blocks until
 * a write comes (thread_per_conn is the one MHD mode where a blocking
 * reader holds up nobody else) and parks MHD's buffer in the stream while
 * it waits: a write that finds it parked copies straight into it, wakes
 * the reader and returns without sleeping (the usual case: the export is
 * slower than the send). A write that finds MHD busy sending lends its
 * bytes and sleeps until the reader has copied them. Either way the writer
 * goes on with its next span while MHD sends the one it took, so work and
 * send overlap on two threads. When the client goes, MHD destroys the
 * response: its free callback marks the stream gone, which wakes the writer
 * with -EPIPE and raises the stop flag. Writer and response each hold a
 * reference; the last one frees the stream, so neither side touches memory
 * the other freed, and a write never returns while the reader may still
 * read its bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "httpd_int.h"

#define HTTPD_STREAM_BLOCK   (256 * 1024)
#define HTTPD_STREAM_WAIT_MS 500 /* how often a waiting reader looks at httpd_stop() */

struct httpd_stream {
	pthread_mutex_t lock;
	pthread_cond_t readable; /* the reader waits for a write or the end */
	pthread_cond_t taken;	 /* the writer waits for its bytes to be taken */
	struct httpd *h;	 /* read only from the connection's thread */
	struct MHD_Connection *conn; /* its idle timer restarts after a long wait (touch) */
	const char *span;	 /* the bytes of the write in progress not yet taken */
	size_t left;
	char *out;	     /* MHD's buffer, parked while the reader waits; or NULL */
	size_t out_max, got; /* its size, and how much a write put in it */
	int refs;
	bool writer_waits; /* the writer must be woken when left reaches 0 */
	uint64_t wait_ms, took_ms; /* monotonic: the writer began waiting; bytes last taken */
	bool ended, complete, gone;
	volatile sig_atomic_t stop;
};

static void httpd_stream_unref_locked(struct httpd_stream *s)
{
	bool last = --s->refs == 0;

	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	pthread_cond_destroy(&s->readable);
	pthread_cond_destroy(&s->taken);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool httpd_stopping(const struct httpd *h)
{
	return __atomic_load_n(&h->stopping, __ATOMIC_SEQ_CST);
}

static void httpd_stream_wait(struct httpd_stream *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += HTTPD_STREAM_WAIT_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&s->readable, &s->lock, &ts);
}

/*
 * Unlock, then wake the other side if it waits. Waking after the unlock
 * spares the woken thread a second sleep on the lock the waker still held
 * (three futex calls a hand-over instead of one); a side that is busy costs
 * no system call at all. The caller's reference keeps s alive.
 */
static void httpd_stream_unlock_wake(struct httpd_stream *s, pthread_cond_t *c, bool wake)
{
	pthread_mutex_unlock(&s->lock);
	if (wake)
		pthread_cond_signal(c);
}

/*
 * MHD counts a connection idle from its last send and cannot tell a client
 * that reads nothing from an export slow to find its next bytes (a quiet
 * window, a filter that matches little, a window reaching into the future):
 * after a long wait for the writer, restart the idle timer as the bytes are
 * handed over (a timeout set from 0 restarts it). A client that stops
 * reading still times out: its bytes are never sent.
 */
static void httpd_stream_touch(struct httpd_stream *s, uint64_t waited_from_ms)
{
	if (!s->conn || clock_mono_ms() - waited_from_ms < 1000)
		return;
	MHD_set_connection_option(s->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	MHD_set_connection_option(s->conn, MHD_CONNECTION_OPTION_TIMEOUT,
				  s->h->o.idle_timeout_s);
}

/* MHD's content reader: the next bytes of the body, blocking until there are some. */
static ssize_t httpd_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct httpd_stream *s = cls;
	bool wake;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	if (!s->left && !s->ended) { /* park out for the next write and wait */
		uint64_t from_ms = clock_mono_ms();

		s->out = out;
		s->out_max = max;
		s->got = 0;
		while (!s->got && !s->left && !s->ended && !httpd_stopping(s->h))
			httpd_stream_wait(s);
		s->out = NULL;
		n = s->got;
		httpd_stream_touch(s, from_ms);
		if (n || (!s->left && !s->ended)) { /* filled, or the server stops */
			pthread_mutex_unlock(&s->lock);
			httpd_stat_add(&s->h->st.streamed_bytes, (int64_t)n);
			return n ? (ssize_t)n : MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	if (!s->left) {
		pthread_mutex_unlock(&s->lock);
		return s->complete ? MHD_CONTENT_READER_END_OF_STREAM
				   : MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = s->left < max ? s->left : max;
	memcpy(out, s->span, n);
	s->took_ms = clock_mono_ms();
	s->span += n;
	s->left -= n;
	wake = !s->left && s->writer_waits;
	httpd_stream_unlock_wake(s, &s->taken, wake);
	httpd_stat_add(&s->h->st.streamed_bytes, (int64_t)n);
	return (ssize_t)n;
}

/* MHD's free callback: the response is gone, with or without its client. */
static void httpd_stream_release(void *cls)
{
	struct httpd_stream *s = cls;

	httpd_stat_add(&s->h->st.streams, -1);
	pthread_mutex_lock(&s->lock);
	s->gone = true;
	s->stop = 1;
	pthread_cond_broadcast(&s->taken);
	httpd_stream_unref_locked(s);
}

struct MHD_Response *httpd_stream_response(struct httpd *h, struct httpd_stream **out)
{
	struct httpd_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	pthread_condattr_t ca;

	*out = NULL;
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->readable, &ca);
	pthread_cond_init(&s->taken, NULL);
	pthread_condattr_destroy(&ca);
	s->h = h;
	s->refs = 2; /* the writer, the response */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTPD_STREAM_BLOCK,
						 httpd_stream_read, s, httpd_stream_release);
	if (!resp) {
		pthread_mutex_lock(&s->lock);
		s->refs = 1;
		httpd_stream_unref_locked(s);
		return NULL;
	}
	httpd_stat_add(&h->st.streams, 1);
	*out = s;
	return resp;
}

int httpd_reply_stream(struct httpd_req *req, unsigned status, const char *type,
		       struct httpd_stream **out)
{
	struct MHD_Response *resp;
	int err;

	*out = NULL;
	if (!req->h->o.thread_per_conn)
		return -EINVAL;
	resp = httpd_stream_response(req->h, out);
	if (!resp)
		return -ENOMEM;
	(*out)->conn = req->conn;
	err = httpd_queue(req, status, type, resp); /* on failure the release ran */
	if (err) {
		httpd_stream_end(*out, false);
		*out = NULL;
	}
	return err;
}

int httpd_stream_write(struct httpd_stream *s, const void *buf, size_t len)
{
	const char *p = buf;
	bool filled = false;
	int err;

	pthread_mutex_lock(&s->lock);
	if (s->out && !s->got && len && !s->gone) { /* the reader waits: fill its buffer */
		size_t n = len < s->out_max ? len : s->out_max;

		memcpy(s->out, p, n);
		s->got = n;
		p += n;
		len -= n;
		filled = true;
	}
	s->span = p;
	s->left = s->gone ? 0 : len;
	httpd_stream_unlock_wake(s, &s->readable, filled);
	if (!len)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->wait_ms = clock_mono_ms();
	while (s->left && !s->gone) {
		s->writer_waits = true;
		pthread_cond_wait(&s->taken, &s->lock);
		s->writer_waits = false;
	}
	err = len && s->gone ? -EPIPE : 0; /* bytes are left untaken only then */
	s->span = NULL;
	s->left = 0;
	pthread_mutex_unlock(&s->lock);
	return err;
}

uint64_t httpd_stream_stalled_ms(struct httpd_stream *s)
{
	uint64_t now = clock_mono_ms(), since, ms = 0;

	pthread_mutex_lock(&s->lock);
	since = s->took_ms > s->wait_ms ? s->took_ms : s->wait_ms;
	if (s->writer_waits && !s->gone && now > since)
		ms = now - since;
	pthread_mutex_unlock(&s->lock);
	return ms;
}

void httpd_stream_abort(struct httpd_stream *s)
{
	pthread_mutex_lock(&s->lock);
	s->gone = true;
	s->stop = 1;
	pthread_cond_broadcast(&s->taken);
	pthread_mutex_unlock(&s->lock);
}

volatile sig_atomic_t *httpd_stream_stop_flag(struct httpd_stream *s)
{
	return &s->stop;
}

void httpd_stream_end(struct httpd_stream *s, bool complete)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->ended = true;
	s->complete = complete;
	pthread_cond_broadcast(&s->readable);
	httpd_stream_unref_locked(s);
}
