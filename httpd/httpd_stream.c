// SPDX-License-Identifier: MIT
/*
 * httpd_stream.c - a body written by one thread and sent by the
 * connection's own thread (thread_per_conn), through a bounded ring buffer.
 *
 * MHD pulls the body with a content reader callback on the connection's
 * thread; the callback blocks until the writer has put something in the
 * buffer (thread_per_conn is the one MHD mode where a blocking reader holds
 * up nobody else). The writer blocks while the buffer is full. When the
 * client goes, MHD destroys the response: its free callback marks the
 * stream gone, which wakes the writer with -EPIPE and raises the stop flag.
 * Writer and response each hold a reference; the last one frees the
 * stream, so neither side touches memory the other freed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd_int.h"

#define HTTPD_STREAM_BLOCK   (256 * 1024)
#define HTTPD_STREAM_WAIT_MS 500 /* how often a waiting reader looks at httpd_stop() */

struct httpd_stream {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct httpd *h; /* read only from the connection's thread */
	char *buf;
	size_t cap, rd, fill; /* ring buffer: fill bytes from rd */
	int refs;
	unsigned waiting; /* threads waiting on cond: whoever changes fill wakes them */
	bool ended, complete, gone;
	volatile sig_atomic_t stop;
};

static void httpd_stream_unref_locked(struct httpd_stream *s)
{
	bool last = --s->refs == 0;

	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->buf);
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
	s->waiting++;
	pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	s->waiting--;
}

/* Wake the other side if it waits: most hand-overs find it busy and cost no syscall. */
static void httpd_stream_wake(struct httpd_stream *s)
{
	if (s->waiting)
		pthread_cond_broadcast(&s->cond);
}

/* MHD's content reader: the next bytes of the body, blocking until there are some. */
static ssize_t httpd_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct httpd_stream *s = cls;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	while (!s->fill && !s->ended) {
		if (httpd_stopping(s->h)) {
			pthread_mutex_unlock(&s->lock);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		httpd_stream_wait(s);
	}
	if (!s->fill) {
		pthread_mutex_unlock(&s->lock);
		return s->complete ? MHD_CONTENT_READER_END_OF_STREAM
				   : MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = s->fill < max ? s->fill : max;
	if (n > s->cap - s->rd)
		n = s->cap - s->rd;
	memcpy(out, s->buf + s->rd, n);
	s->rd = (s->rd + n) % s->cap;
	s->fill -= n;
	httpd_stream_wake(s);
	pthread_mutex_unlock(&s->lock);
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
	pthread_cond_broadcast(&s->cond);
	httpd_stream_unref_locked(s);
}

struct MHD_Response *httpd_stream_response(struct httpd *h, size_t buf_size,
					   struct httpd_stream **out)
{
	struct httpd_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	pthread_condattr_t ca;

	*out = NULL;
	if (!s || !(s->buf = malloc(buf_size ? buf_size : 1))) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->h = h;
	s->cap = buf_size ? buf_size : 1;
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

int httpd_reply_stream(struct httpd_req *req, unsigned status, const char *type, size_t buf_size,
		       struct httpd_stream **out)
{
	struct MHD_Response *resp;
	int err;

	*out = NULL;
	if (!req->h->o.thread_per_conn)
		return -EINVAL;
	resp = httpd_stream_response(req->h, buf_size, out);
	if (!resp)
		return -ENOMEM;
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

	pthread_mutex_lock(&s->lock);
	while (len && !s->gone) {
		size_t at = (s->rd + s->fill) % s->cap, n = s->cap - s->fill;

		if (!n) {
			s->waiting++;
			pthread_cond_wait(&s->cond, &s->lock);
			s->waiting--;
			continue;
		}
		if (n > s->cap - at)
			n = s->cap - at;
		if (n > len)
			n = len;
		memcpy(s->buf + at, p, n);
		s->fill += n;
		p += n;
		len -= n;
		httpd_stream_wake(s);
	}
	pthread_mutex_unlock(&s->lock);
	return len ? -EPIPE : 0;
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
	pthread_cond_broadcast(&s->cond);
	httpd_stream_unref_locked(s);
}
