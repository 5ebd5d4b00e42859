// SPDX-License-Identifier: MIT
/*
 * forward_server.c - rawcap_forward's create and event loop: feed every
 * receiver from its own cursor, write what each socket takes, pause and
 * resume on request, drop receivers that are done. Where receivers come
 * from (listen, accept, connect, admission) is forward_peers.c.
 *
 * One thread, one poll(2) loop. rawcap_wait() sleeps on the ring's futex,
 * which cannot be polled beside sockets, so when every receiver has caught
 * up we poll the sockets with a short timeout (FWD_IDLE_MS) and then drain
 * cursors again; while data flows the loop never sleeps. This keeps all
 * receiver state in one thread (no locks) and bounds the added latency to
 * the idle timeout; see docs/ARCHITECTURE.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "forward_int.h"

#define FWD_IDLE_MS	     10
#define FWD_DRAIN_TIMEOUT_MS 5000
#define FWD_DEF_CLIENT_BUF   (4u << 20)
#define FWD_DEF_MAX_CLIENTS  16
#define FWD_MAX_POLL	     256 /* most receivers at once */
#define FWD_DEF_SEND_TIMEOUT 30000
#define FWD_LOG_BURST	     20 /* lines a second about peers dropped before authentication */

void fwd_set_err(struct rawcap_forward *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

bool fwd_ack_lookup(struct rawcap_forward *f, const char *id, uint64_t *seq)
{
	for (int i = 0; i < FWD_ACK_TABLE; i++)
		if (f->acks[i].used && !strcmp(f->acks[i].id, id)) {
			*seq = f->acks[i].seq;
			return true;
		}
	return false;
}

void fwd_ack_store(struct rawcap_forward *f, const char *id, uint64_t seq)
{
	int free_slot = -1;

	for (int i = 0; i < FWD_ACK_TABLE; i++) {
		if (f->acks[i].used && !strcmp(f->acks[i].id, id)) {
			f->acks[i].seq = seq;
			return;
		}
		if (!f->acks[i].used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		free_slot = (int)(seq % FWD_ACK_TABLE); /* full: forget one */
	snprintf(f->acks[free_slot].id, sizeof(f->acks[free_slot].id), "%s", id);
	f->acks[free_slot].seq = seq;
	f->acks[free_slot].used = true;
}

static int fwd_create(const struct rawcap_forward_opts *o, struct rawcap_forward **out)
{
	struct rawcap_forward *f;
	struct rawcap_cursor *probe;
	struct rawcap_filter *filter = NULL;
	struct rawcap_open_opts oo;
	char why[256] = "";
	int err;

	*out = NULL;
	if (!o || o->sz < sizeof(*o) || !o->listen == !o->connect || o->format > RAWCAP_FWD_MSGPACK)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	*out = f; /* so that rawcap_forward_create() can copy f->err */
	f->o = *o;
	f->lfd = -1;
	if (!f->o.client_buf)
		f->o.client_buf = FWD_DEF_CLIENT_BUF;
	if (f->o.client_buf < 2 * (RAWCAP_REC_MAX + FWD_RECORD_SLACK))
		f->o.client_buf = 2 * (RAWCAP_REC_MAX + FWD_RECORD_SLACK);
	if (!f->o.max_clients)
		f->o.max_clients = FWD_DEF_MAX_CLIENTS;
	if (!f->o.send_timeout_ms)
		f->o.send_timeout_ms = FWD_DEF_SEND_TIMEOUT;
	if (f->o.max_clients > FWD_MAX_POLL)
		f->o.max_clients = FWD_MAX_POLL;
	f->paused = o->paused;
	atomic_store(&f->want_paused, o->paused);
	fwd_control_init(f);
	err = fwd_check_client_auth(f);
	if (err)
		return err;
	/* Fail now, not per receiver, when the source cannot be read. */
	oo = (struct rawcap_open_opts){.sz = sizeof(oo),
				       .ring = o->ring,
				       .storage_dir = o->storage_dir,
				       .snapshot = o->snapshot};
	err = rawcap_open_opts(&oo, &probe);
	if (err && o->snapshot) {
		fwd_set_err(f, "opening snapshot %s: %s", o->snapshot, strerror(-err));
		return err;
	}
	if (err) {
		fwd_set_err(f, "opening ring %s: %s", o->ring ? o->ring : "default",
			    rawcap_ring_explain(o->ring, err, why, sizeof(why)));
		return err;
	}
	rawcap_close(probe);
	/* Checked here; each receiver's window compiles its own. */
	if (o->filter && (err = rawcap_filter_new(o->filter, &filter, why, sizeof(why)))) {
		fwd_set_err(f, "filter \"%s\": %s", o->filter, why);
		return err;
	}
	rawcap_filter_free(filter);
	if (!o->plain) {
		f->tls = fwd_tls_ctx(o, !!o->listen, why, sizeof(why));
		if (!f->tls) {
			fwd_set_err(f, "TLS: %s", why);
			return -EIO;
		}
	}
	return fwd_endpoint_open(f);
}

/* Peers dropped before authentication: at most FWD_LOG_BURST lines a second, the rest counted. */
static void fwd_report_pending(struct rawcap_forward *f, const struct fwd_client *c,
			       const char *why)
{
	uint64_t sec = clock_mono_ms() / 1000;

	if (sec != f->log_sec) {
		if (f->log_suppressed)
			fprintf(stderr,
				"rawcap-forward: %u more peers dropped before authentication (not "
				"logged)\n",
				f->log_suppressed);
		f->log_sec = sec;
		f->log_lines = f->log_suppressed = 0;
	}
	if (f->log_lines++ < FWD_LOG_BURST)
		fprintf(stderr, "rawcap-forward: %s: %s\n", c->peer, why);
	else
		f->log_suppressed++;
}

static void fwd_drop(struct rawcap_forward *f, unsigned i, const char *why)
{
	struct fwd_client *c = f->clients[i];

	if (c->state == FWD_C_HANDSHAKE)
		f->st.clients_rejected++;
	if (fwd_client_pending(c))
		fwd_report_pending(f, c, why);
	else
		fwd_client_report(c, why);
	if (f->o.connect && c->state == FWD_C_DRAIN)
		f->finished = true; /* a bounded window was delivered */
	else if (f->o.connect)
		f->next_connect_ms = clock_mono_ms() + 100;
	fwd_client_free(c);
	f->clients[i] = f->clients[--f->nclients];
}

/* Why a receiver is dropped, for a -errno from its reads, handshake or sends. */
static const char *fwd_conn_why(int err)
{
	switch (err) {
	case -ECONNRESET:
	case -EPIPE:
		return "receiver closed the connection";
	case -ECONNREFUSED:
		return "TLS handshake failed";
	case -EPROTO:
	case -EBADMSG:
		return "protocol error";
	case -EUSERS:
		return "refused: every receiver slot is in use";
	default:
		return strerror(-err);
	}
}

/* Work for one receiver this turn; true if it has more ready to go at once. */
static bool fwd_service(struct rawcap_forward *f, struct fwd_client *c)
{
	uint64_t now;
	ssize_t w;
	int n;

	if (fwd_client_pending(c) || c->why)
		return false; /* nothing is read or sent before the peer is authenticated */
	n = fwd_client_fill(c);
	if (n < 0) {
		c->why = strerror(-n);
		return false;
	}
	w = fwd_conn_flush(&c->conn, &c->out);
	if (w < 0) {
		c->why = fwd_conn_why((int)w);
		return false;
	}
	now = clock_mono_ms();
	c->bytes += (uint64_t)w;
	f->st.bytes += (uint64_t)w;
	/*
	 * pcap: closing ends the capture file; msgpack: the receiver closes after
	 * END (or had half-closed). Delivered: nothing queued, nothing left in
	 * TLS's write buffer.
	 */
	if (c->state == FWD_C_DRAIN && !c->out.len && !c->conn.want_write &&
	    (c->pw || c->conn.rd_closed))
		c->why = "window delivered";
	if (c->state == FWD_C_DRAIN && !c->out.len && !c->conn.want_write && !c->drain_ms)
		c->drain_ms = now;
	return n > 0 && fwd_client_room(c) >= RAWCAP_REC_MAX + FWD_RECORD_SLACK;
}

static void fwd_sync_pause(struct rawcap_forward *f)
{
	bool want = atomic_load(&f->want_paused);

	if (want == f->paused)
		return;
	f->paused = want;
	fprintf(stderr, "rawcap-forward: forwarding %s\n",
		want					? "paused"
		: f->o.resume == RAWCAP_FWD_RESUME_LIVE ? "resumed (live)"
							: "resumed (backlog)");
	for (unsigned i = 0; i < f->nclients; i++)
		fwd_client_pause(f->clients[i], want);
}

static int fwd_timeout(struct rawcap_forward *f, bool busy)
{
	int t = busy ? 0 : FWD_IDLE_MS;

	for (unsigned i = 0; i < f->nclients; i++) {
		int p = fwd_client_pace_wait(f->clients[i]);

		if (p >= 0 && p < t)
			t = p;
	}
	return t;
}

/* Drop receivers that are gone, failed, or overstayed a handshake, a send or a drain. */
static void fwd_reap(struct rawcap_forward *f)
{
	uint64_t now = clock_mono_ms();

	for (unsigned i = f->nclients; i-- > 0;) {
		struct fwd_client *c = f->clients[i];

		/* An authenticated peer waiting for a descriptor gets as long as a send. */
		if (!c->why && fwd_client_pending(c) &&
		    now - c->started_ms >
			    (c->retry_ms ? f->o.send_timeout_ms : FWD_HELLO_TIMEOUT)) {
			c->why = "no handshake in time";
			f->st.timed_out++;
		}
		fwd_client_probe(c, now, false);
		if (!c->why && fwd_client_blocked_ms(c, now) > f->o.send_timeout_ms) {
			c->why = "it took no data in time (not reading)";
			f->st.timed_out++;
		}
		if (!c->why && c->state == FWD_C_DRAIN && c->drain_ms &&
		    now - c->drain_ms > FWD_DRAIN_TIMEOUT_MS)
			c->why = "window delivered";
		if (c->why || c->state == FWD_C_DEAD)
			fwd_drop(f, i, c->why ? c->why : "closed");
	}
}

/* After a poll: read what peers sent, and give a slot to plain peers not reset by then. */
static void fwd_inputs(struct rawcap_forward *f, const struct pollfd *pfd)
{
	for (unsigned i = 0; i < f->nclients; i++) {
		struct fwd_client *c = f->clients[i];
		int err = 0;

		if (c->why)
			continue;
		if (c->conn.rd_closed && (pfd[i].revents & (POLLHUP | POLLERR)))
			err = fwd_conn_error(&c->conn); /* half-closed, then reset or closed */
		else if (c->conn.rd_closed)
			; /* half-closed: nothing more to read, not polled for it */
		else if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
			 (c->state == FWD_C_HANDSHAKE && (pfd[i].revents & POLLOUT)))
			err = fwd_client_input(c);
		if (!err && c->state == FWD_C_ADMIT && c->polled && clock_mono_ms() >= c->retry_ms)
			err = fwd_admit(f, c);
		if (err)
			c->why = fwd_conn_why(err);
		c->polled = true;
	}
}

static int fwd_turn(struct rawcap_forward *f)
{
	struct pollfd pfd[1 + FWD_MAX_POLL + FWD_MAX_PENDING];
	uint64_t now;
	unsigned n;
	bool busy = false, listening = false;
	int t;

	fwd_control_poll(f);
	fwd_sync_pause(f);
	fwd_status_poll(f);
	if (f->o.connect && !f->nclients && clock_mono_ms() >= f->next_connect_ms)
		fwd_connect(f);
	for (unsigned i = 0; i < f->nclients; i++) {
		struct fwd_client *c = f->clients[i];

		busy |= fwd_service(f, c);
		/* A half-closed socket stays readable (EOF): polling it for input would spin. */
		pfd[i] =
			(struct pollfd){.fd = c->conn.fd, .events = c->conn.rd_closed ? 0 : POLLIN};
		if ((c->out.len && !fwd_client_pending(c)) || c->conn.want_write)
			pfd[i].events |= POLLOUT;
	}
	n = f->nclients;
	t = fwd_timeout(f, busy);
	now = clock_mono_ms();
	listening = f->lfd >= 0 && now >= f->accept_resume_ms;
	if (listening)
		pfd[n++] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
	else if (f->lfd >= 0 && f->accept_resume_ms - now < (uint64_t)t)
		t = (int)(f->accept_resume_ms - now);
	if (poll(pfd, n, t) < 0 && errno != EINTR)
		return -errno;
	fwd_inputs(f, pfd);
	fwd_reap(f);
	if (listening && (pfd[n - 1].revents & POLLIN))
		fwd_accept(f);
	return 0;
}

static int fwd_run(struct rawcap_forward *f)
{
	int err = 0;

	while (!atomic_load(&f->stop) && !f->finished) {
		err = fwd_turn(f);
		if (err) {
			fwd_set_err(f, "polling sockets: %s", strerror(-err));
			break;
		}
	}
	/* Stopping: one last non-blocking write of what is queued, then close. */
	for (unsigned i = 0; i < f->nclients; i++) {
		struct fwd_client *c = f->clients[i];

		if (c->pw)
			rawcap_pcap_flush(c->pw);
		if (!fwd_client_pending(c))
			fwd_conn_flush(&c->conn, &c->out);
	}
	while (f->nclients)
		fwd_drop(f, f->nclients - 1, "stopping");
	return err;
}

void rawcap_forward_stop(struct rawcap_forward *f)
{
	atomic_store(&f->stop, 1);
}

void rawcap_forward_pause(struct rawcap_forward *f, bool paused)
{
	atomic_store(&f->want_paused, paused);
}

void rawcap_forward_get_stats(const struct rawcap_forward *f, struct rawcap_forward_stats *out)
{
	*out = f->st;
	out->clients = f->nclients;
	out->paused = f->paused;
}

int rawcap_forward_port(const struct rawcap_forward *f)
{
	return f->port;
}

/* The one line saying why f failed (err: its errno, when f has no text or is NULL). */
static void fwd_why(const struct rawcap_forward *f, int err, char *why, size_t whylen)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", f && f->err[0] ? f->err : strerror(-err));
}

int rawcap_forward_create(const struct rawcap_forward_opts *o, struct rawcap_forward **out,
			  char *why, size_t whylen)
{
	int err = fwd_create(o, out);

	if (why && whylen)
		*why = '\0';
	if (!err)
		return 0;
	fwd_why(*out, err, why, whylen);
	rawcap_forward_destroy(*out);
	*out = NULL;
	return err;
}

int rawcap_forward_run(struct rawcap_forward *f, char *why, size_t whylen)
{
	int err = fwd_run(f);

	if (why && whylen)
		*why = '\0';
	if (err)
		fwd_why(f, err, why, whylen);
	return err;
}

void rawcap_forward_destroy(struct rawcap_forward *f)
{
	if (!f)
		return;
	while (f->nclients)
		fwd_drop(f, f->nclients - 1, "stopping");
	free(f->clients);
	if (f->lfd >= 0)
		close(f->lfd);
	if (f->tls)
		fwd_tls_ctx_free(f->tls);
	free(f->connect_host);
	free(f);
}
