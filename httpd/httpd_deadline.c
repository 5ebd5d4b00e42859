// SPDX-License-Identifier: MIT
/*
 * httpd_deadline.c - a request, headers and body, must arrive within
 * httpd_opts.header_timeout_s of the connection's start or of the end of
 * its previous request (or be refused by then: a refusal at the headers
 * reads no body).
 *
 * MHD's own timeout is one of silence: a client that sends a byte of its
 * headers every few seconds (slowloris) holds its connection, and in
 * thread-per-connection mode a thread and one of max_conns, for ever,
 * without ever presenting credentials (they are checked once the headers
 * are in); one that trickles its body, or an endless chunked one that
 * httpd.c reads to its end to answer 413, does the same. A watchdog
 * thread closes such connections: it shuts their socket down, which wakes
 * the connection's own thread, and MHD closes it. With the caller's loop
 * (capd's /healthz: no thread to spare) httpd_run() sweeps instead, on the
 * loop's thread, at least once a second. An entry leaves the list when MHD
 * reports the connection closed, which MHD does before it closes the
 * socket, so a shutdown under the list's lock never reaches a reused
 * descriptor.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "httpd_int.h"

struct httpd_watch {
	struct httpd_watch *prev, *next;
	struct MHD_Connection *conn;
	uint64_t deadline_ns; /* 0: its request's headers are in */
};

static uint64_t httpd_deadline_from_now(const struct httpd *h)
{
	return clock_ns(CLOCK_MONOTONIC) + (uint64_t)h->o.header_timeout_s * 1000000000ull;
}

void httpd_deadline_opened(struct httpd *h, struct MHD_Connection *conn, void **ctx)
{
	struct httpd_watch *w;

	if (!h->o.header_timeout_s || !(w = calloc(1, sizeof(*w))))
		return; /* without an entry, MHD's idle timeout still applies */
	w->conn = conn;
	pthread_mutex_lock(&h->wlock);
	w->deadline_ns = httpd_deadline_from_now(h);
	w->next = h->watch;
	if (w->next)
		w->next->prev = w;
	h->watch = w;
	pthread_mutex_unlock(&h->wlock);
	*ctx = w;
}

void httpd_deadline_closed(struct httpd *h, void **ctx)
{
	struct httpd_watch *w = *ctx;

	if (!w)
		return;
	pthread_mutex_lock(&h->wlock);
	if (w->prev)
		w->prev->next = w->next;
	else
		h->watch = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&h->wlock);
	free(w);
	*ctx = NULL;
}

/* The connection's request is in or refused (met), or it ended: the next one's clock. */
void httpd_deadline_set(struct httpd *h, struct MHD_Connection *conn, bool met)
{
	const union MHD_ConnectionInfo *i;
	struct httpd_watch *w;

	if (!h->o.header_timeout_s ||
	    !(i = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT)) ||
	    !(w = i->socket_context))
		return;
	pthread_mutex_lock(&h->wlock);
	w->deadline_ns = met ? 0 : httpd_deadline_from_now(h);
	pthread_mutex_unlock(&h->wlock);
}

/* Shut down every connection past its deadline; h->wlock held. How many. */
static unsigned httpd_deadline_sweep(struct httpd *h)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	unsigned n = 0;

	for (struct httpd_watch *w = h->watch; w; w = w->next) {
		const union MHD_ConnectionInfo *i;

		if (!w->deadline_ns || w->deadline_ns > now)
			continue;
		w->deadline_ns = 0;
		i = MHD_get_connection_info(w->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (i && i->connect_fd >= 0) {
			shutdown(i->connect_fd, SHUT_RDWR);
			httpd_stat_add(&h->st.timed_out, 1);
			n++;
		}
	}
	return n;
}

unsigned httpd_deadline_run(struct httpd *h)
{
	unsigned n;

	if (!h->o.header_timeout_s || h->wrunning)
		return 0;
	pthread_mutex_lock(&h->wlock);
	n = httpd_deadline_sweep(h);
	pthread_mutex_unlock(&h->wlock);
	return n;
}

static void *httpd_deadline_main(void *arg)
{
	struct httpd *h = arg;
	struct timespec ts;

	pthread_mutex_lock(&h->wlock);
	while (!h->wstop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&h->wcond, &h->wlock, &ts);
		httpd_deadline_sweep(h);
	}
	pthread_mutex_unlock(&h->wlock);
	return NULL;
}

int httpd_deadline_start(struct httpd *h)
{
	pthread_condattr_t ca;
	int err;

	pthread_mutex_init(&h->wlock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wcond, &ca);
	pthread_condattr_destroy(&ca);
	if (!h->o.header_timeout_s || !h->o.own_thread)
		return 0; /* the caller's loop sweeps (httpd_deadline_run) */
	err = -pthread_create(&h->wthread, NULL, httpd_deadline_main, h);
	h->wrunning = !err;
	return err;
}

void httpd_deadline_stop(struct httpd *h)
{
	if (h->wrunning) {
		pthread_mutex_lock(&h->wlock);
		h->wstop = true;
		pthread_cond_signal(&h->wcond);
		pthread_mutex_unlock(&h->wlock);
		pthread_join(h->wthread, NULL);
		h->wrunning = false;
	}
}
