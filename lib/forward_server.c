// SPDX-License-Identifier: MIT
/*
 * forward_server.c - rawcap_forward's event loop: accept (or connect out),
 * feed every receiver from its own cursor, write what each socket takes,
 * pause and resume on request.
 *
 * One thread, one poll(2) loop. rawcap_wait() sleeps on the ring's futex,
 * which cannot be polled beside sockets, so when every receiver has caught
 * up we poll the sockets with a short timeout (FWD_IDLE_MS) and then drain
 * cursors again; while data flows the loop never sleeps. This keeps all
 * receiver state in one thread (no locks) and bounds the added latency to
 * the idle timeout; see docs/ARCHITECTURE.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "clock.h"
#include "forward_int.h"

#define FWD_IDLE_MS	     10
#define FWD_DRAIN_TIMEOUT_MS 5000
#define FWD_RECONNECT_MAX_MS 5000
#define FWD_DEF_CLIENT_BUF   (4u << 20)
#define FWD_DEF_MAX_CLIENTS  16
#define FWD_MAX_POLL	     256 /* most receivers at once */
#define FWD_DEF_SEND_TIMEOUT 30000
#define FWD_EVICT_MS	     2000 /* took nothing this long: may make room for a new receiver */
#define FWD_ACCEPT_PAUSE_MIN 50	  /* ms: first pause after accept(2) ran out of resources */
#define FWD_ACCEPT_PAUSE_MAX 1000
#define FWD_ACCEPTS_PER_TURN 64
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

/* Split "host:port" / "[v6]:port" and resolve it. */
static int fwd_resolve(const char *spec, bool passive, struct addrinfo **out, char *host,
		       size_t hostlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
	const char *colon = strrchr(spec, ':');
	size_t hl;

	if (!colon || !colon[1])
		return -EINVAL;
	/* getaddrinfo takes "99999" and wraps it to port 34463: a number must be a port. */
	if (!colon[1 + strspn(colon + 1, "0123456789")] && strtoul(colon + 1, NULL, 10) > 65535)
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']')
		spec++, hl -= 2;
	if (hl >= hostlen)
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (getaddrinfo(hl ? host : NULL, colon + 1, &hints, out))
		return -EADDRNOTAVAIL;
	return 0;
}

static bool fwd_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* TLS where others can reach us authenticates the client, unless told otherwise. */
static int fwd_check_client_auth(struct rawcap_forward *f)
{
	struct addrinfo *ai;
	char host[256];
	bool loopback;
	int err;

	if (!f->o.listen || f->o.plain || f->o.tls_ca || f->o.tls_any_client)
		return 0;
	err = fwd_resolve(f->o.listen, true, &ai, host, sizeof(host));
	if (err) {
		fwd_set_err(f, "resolving listen address %s: %s", f->o.listen, strerror(-err));
		return err;
	}
	loopback = fwd_loopback(ai->ai_addr);
	freeaddrinfo(ai);
	if (loopback)
		return 0;
	fwd_set_err(f,
		    "--listen %s is not a loopback address: TLS there requires client "
		    "certificates (--tls-ca FILE); to let any TLS client connect, say so with "
		    "--tls-any-client",
		    f->o.listen);
	return -EINVAL;
}

static int fwd_listen(struct rawcap_forward *f)
{
	struct addrinfo *ai;
	char host[256];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, err = fwd_resolve(f->o.listen, true, &ai, host, sizeof(host));

	if (err) {
		fwd_set_err(f, "resolving listen address %s: %s", f->o.listen, strerror(-err));
		return err;
	}
	f->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(f->lfd, ai->ai_addr, ai->ai_addrlen) || listen(f->lfd, 16)) {
		err = -errno;
		fwd_set_err(f, "listening on %s: %s", f->o.listen, strerror(errno));
	}
	freeaddrinfo(ai);
	if (err)
		return err;
	if (!getsockname(f->lfd, (struct sockaddr *)&ss, &sl))
		f->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void fwd_peer_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
	}
	snprintf(buf, len, "%s:%d", a, port);
}

static int fwd_add_client(struct rawcap_forward *f, int fd, const char *peer, bool server)
{
	struct fwd_client *c, **grown;
	SSL *ssl = NULL;
	int one = 1, err;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (f->tls) {
		ssl = fwd_tls_new(f->tls, fd, server, f->connect_host);
		if (!ssl) {
			close(fd);
			return -ENOMEM;
		}
	}
	grown = realloc(f->clients, sizeof(*grown) * (f->nclients + 1));
	if (grown)
		f->clients = grown;
	err = grown ? fwd_client_new(f, fd, ssl, peer, &c) : -ENOMEM;
	if (err) {
		if (ssl) {
			struct fwd_conn tmp = {.fd = -1, .ssl = ssl};

			fwd_tls_close(&tmp);
		}
		close(fd);
		return err;
	}
	f->clients[f->nclients++] = c;
	f->st.clients_accepted++;
	return 0;
}

static bool fwd_client_streams(const struct fwd_client *c)
{
	return !fwd_client_pending(c) && !c->why && c->state != FWD_C_DEAD;
}

/* The receiver that has acknowledged nothing for longest, if for at least min_ms. */
static struct fwd_client *fwd_most_blocked(struct rawcap_forward *f, uint64_t min_ms)
{
	struct fwd_client *worst = NULL;
	uint64_t now = clock_mono_ms(), most = min_ms;

	for (unsigned i = 0; i < f->nclients; i++) {
		struct fwd_client *c = f->clients[i];
		uint64_t b;

		if (!fwd_client_streams(c))
			continue;
		fwd_client_probe(c, now, true);
		b = fwd_client_blocked_ms(c, now);
		if (b >= most) {
			most = b;
			worst = c;
		}
	}
	return worst;
}

/* accept(2) ran out of a resource (fds, buffers): stop polling the listener for a while. */
static void fwd_accept_pause(struct rawcap_forward *f, int err)
{
	unsigned ms = f->accept_backoff_ms ? 2 * f->accept_backoff_ms : FWD_ACCEPT_PAUSE_MIN;

	f->accept_backoff_ms = ms < FWD_ACCEPT_PAUSE_MAX ? ms : FWD_ACCEPT_PAUSE_MAX;
	f->accept_resume_ms = clock_mono_ms() + f->accept_backoff_ms;
	f->st.accept_errors++;
	if (ms == FWD_ACCEPT_PAUSE_MIN) /* once per episode, not per retry */
		fprintf(stderr,
			"rawcap-forward: accepting a receiver: %s; retrying with backoff (up to "
			"%d ms)\n",
			strerror(err), FWD_ACCEPT_PAUSE_MAX);
}

int fwd_admit(struct rawcap_forward *f, struct fwd_client *c)
{
	struct fwd_client *victim;
	unsigned streams = 0;
	int err;

	for (unsigned i = 0; i < f->nclients; i++)
		streams += fwd_client_streams(f->clients[i]);
	if (streams >= f->o.max_clients) {
		victim = fwd_most_blocked(f, FWD_EVICT_MS); /* probes each: only when full */
		if (!victim) {
			fprintf(stderr, "rawcap-forward: %s: refused, %u receivers already\n",
				c->peer, streams);
			f->st.clients_rejected++;
			return -EUSERS;
		}
		victim->why = "evicted: it took no data while every receiver slot was in use";
		f->st.evicted++;
	}
	err = fwd_client_begin(c);
	if (err == -EMFILE || err == -ENFILE) {
		/* Out of descriptors: stop accepting, keep this peer, try again after the pause. */
		fwd_accept_pause(f, -err);
		c->state = FWD_C_ADMIT;
		c->retry_ms = f->accept_resume_ms;
		return 0;
	}
	if (err) {
		fprintf(stderr, "rawcap-forward: %s: opening a cursor for it: %s\n", c->peer,
			strerror(-err));
		return err;
	}
	fprintf(stderr, "rawcap-forward: %s: connected%s\n", c->peer, f->paused ? " (paused)" : "");
	return 0;
}

/* Peers still in their handshake have a pool of their own: the oldest makes room. */
static void fwd_limit_pending(struct rawcap_forward *f)
{
	struct fwd_client *oldest = NULL;
	unsigned n = 0;

	for (unsigned i = 0; i < f->nclients; i++) {
		struct fwd_client *c = f->clients[i];

		if (!fwd_client_pending(c) || c->why)
			continue;
		n++;
		if (!oldest || c->started_ms < oldest->started_ms)
			oldest = c;
	}
	if (n >= FWD_MAX_PENDING && oldest) {
		oldest->why = "evicted: too many peers in their handshake";
		f->st.timed_out++;
	}
}

static void fwd_accept(struct rawcap_forward *f)
{
	for (int n = 0; n < FWD_ACCEPTS_PER_TURN; n++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[80];
		int fd = accept4(f->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO ||
			    errno == EPERM)
				continue; /* that connection only */
			fwd_accept_pause(f, errno);
			return;
		}
		if (f->accept_backoff_ms) {
			fprintf(stderr, "rawcap-forward: accepting receivers again\n");
			f->accept_backoff_ms = 0;
		}
		fwd_peer_name(&ss, peer, sizeof(peer));
		fwd_limit_pending(f);
		fwd_add_client(f, fd, peer, true);
	}
}

/* Connect out (blocking, bounded by a timeout), then go non-blocking. */
static void fwd_connect(struct rawcap_forward *f)
{
	struct timeval tv = {.tv_sec = 3};
	struct addrinfo *ai;
	char host[256];
	int fd = -1;

	if (fwd_resolve(f->o.connect, false, &ai, host, sizeof(host)) == 0) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
				connect(fd, ai->ai_addr, ai->ai_addrlen))) {
			close(fd);
			fd = -1;
		}
		freeaddrinfo(ai);
	}
	if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) ||
	    fwd_add_client(f, fd, f->o.connect, false)) {
		uint64_t backoff = 100ull << (f->connect_fails < 6 ? f->connect_fails : 6);

		if (fd >= 0)
			close(fd);
		if (!f->connect_fails)
			fprintf(stderr, "rawcap-forward: connecting to %s failed, retrying\n",
				f->o.connect);
		f->connect_fails++;
		f->next_connect_ms =
			clock_mono_ms() +
			(backoff < FWD_RECONNECT_MAX_MS ? backoff : FWD_RECONNECT_MAX_MS);
		return;
	}
	f->connect_fails = 0;
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
	if (err) {
		fwd_set_err(f, "opening %s %s: %s", o->snapshot ? "snapshot" : "ring",
			    o->snapshot ? o->snapshot
			    : o->ring	? o->ring
					: "default",
			    strerror(-err));
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
	if (o->connect) {
		char host[256];
		struct addrinfo *ai;

		f->connect_host = strdup(o->connect);
		err = f->connect_host ? fwd_resolve(o->connect, false, &ai, host, sizeof(host))
				      : -ENOMEM;
		if (err) {
			fwd_set_err(f, "resolving %s: %s", o->connect, strerror(-err));
			return err;
		}
		freeaddrinfo(ai);
		strcpy(f->connect_host, host);
		return 0;
	}
	return fwd_listen(f);
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
		c->why = "connection closed";
		return false;
	}
	now = clock_mono_ms();
	c->bytes += (uint64_t)w;
	f->st.bytes += (uint64_t)w;
	/* pcap: closing ends the capture file; msgpack: the receiver closes after END. */
	if (c->state == FWD_C_DRAIN && !c->out.len && c->pw)
		c->why = "window delivered";
	if (c->state == FWD_C_DRAIN && !c->out.len && !c->drain_ms)
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

static const char *fwd_input_error(int err)
{
	switch (err) {
	case -ECONNRESET:
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

/* After a poll: read what peers sent, and give a slot to plain peers still connected. */
static void fwd_inputs(struct rawcap_forward *f, const struct pollfd *pfd)
{
	for (unsigned i = 0; i < f->nclients; i++) {
		struct fwd_client *c = f->clients[i];
		int err = 0;

		if (c->why)
			continue;
		if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
		    (c->state == FWD_C_HANDSHAKE && (pfd[i].revents & POLLOUT)))
			err = fwd_client_input(c);
		if (!err && c->state == FWD_C_ADMIT && c->polled && clock_mono_ms() >= c->retry_ms)
			err = fwd_admit(f, c);
		if (err)
			c->why = fwd_input_error(err);
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
		pfd[i] = (struct pollfd){.fd = c->conn.fd, .events = POLLIN};
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
