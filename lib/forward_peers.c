// SPDX-License-Identifier: MIT
/*
 * forward_peers.c - where rawcap_forward's receivers come from: the
 * listener (or the --connect peer, redialled with backoff), accepting
 * without spinning when descriptors run out, and admission: the pool of
 * peers still in their handshake, the receiver slots and the eviction of a
 * receiver that takes nothing when a new one finds them all used. The poll
 * loop that serves admitted receivers is forward_server.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "clock.h"
#include "forward_int.h"

#define FWD_RECONNECT_MAX_MS 5000
#define FWD_EVICT_MS	     2000 /* took nothing this long: may make room for a new receiver */
#define FWD_ACCEPT_PAUSE_MIN 50	  /* ms: first pause after accept(2) ran out of resources */
#define FWD_ACCEPT_PAUSE_MAX 1000
#define FWD_ACCEPTS_PER_TURN 64

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
int fwd_check_client_auth(struct rawcap_forward *f)
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

void fwd_accept(struct rawcap_forward *f)
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
void fwd_connect(struct rawcap_forward *f)
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

/* The listener, or the --connect host resolved once (TLS checks that name). */
int fwd_endpoint_open(struct rawcap_forward *f)
{
	char host[256];
	struct addrinfo *ai;
	int err;

	if (!f->o.connect)
		return fwd_listen(f);
	f->connect_host = strdup(f->o.connect);
	err = f->connect_host ? fwd_resolve(f->o.connect, false, &ai, host, sizeof(host)) : -ENOMEM;
	if (err) {
		fwd_set_err(f, "resolving %s: %s", f->o.connect, strerror(-err));
		return err;
	}
	freeaddrinfo(ai);
	strcpy(f->connect_host, host);
	return 0;
}
