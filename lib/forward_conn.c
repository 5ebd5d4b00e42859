// SPDX-License-Identifier: MIT
/*
 * forward_conn.c - a receiver's transport: a bounded output queue and
 * non-blocking reads and writes over plain TCP or TLS (forward_tls.c).
 *
 * Nothing here ever blocks: a write takes what the socket accepts now and
 * leaves the rest queued; the queue never grows past its bound, so a stalled
 * receiver costs a fixed amount of memory and then stops being fed (its
 * cursor falls behind and is lapped) instead of holding anything up.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "forward_int.h"

int fwd_buf_init(struct fwd_buf *b, size_t cap)
{
	b->p = malloc(cap);
	if (!b->p)
		return -ENOMEM;
	b->off = b->len = 0;
	b->cap = cap;
	return 0;
}

void fwd_buf_free(struct fwd_buf *b)
{
	free(b->p);
	b->p = NULL;
}

uint8_t *fwd_buf_tail(struct fwd_buf *b, size_t n)
{
	if (n > b->cap - b->len)
		return NULL;
	if (b->off + b->len + n > b->cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	return b->p + b->off + b->len;
}

int fwd_buf_put(struct fwd_buf *b, const void *p, size_t n)
{
	uint8_t *t = fwd_buf_tail(b, n);

	if (!t)
		return -ENOBUFS;
	memcpy(t, p, n);
	b->len += n;
	return 0;
}

void fwd_buf_consume(struct fwd_buf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (!b->len)
		b->off = 0;
}

int fwd_conn_handshake(struct fwd_conn *c)
{
	return !c->ssl || c->handshaken ? 1 : fwd_tls_handshake(c);
}

ssize_t fwd_conn_read(struct fwd_conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl)
		return fwd_tls_read(c, buf, len);
	n = recv(c->fd, buf, len, MSG_DONTWAIT);
	if (n > 0)
		return n;
	if (n == 0) {
		c->rd_closed = true; /* a FIN: it may half-close and keep reading */
		return 0;
	}
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

int fwd_conn_error(const struct fwd_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return err ? -err : -ECONNRESET;
}

static ssize_t fwd_conn_send(struct fwd_conn *c, const void *p, size_t n)
{
	ssize_t w;

	if (c->ssl)
		return fwd_tls_send(c, p, n);
	w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w >= 0)
		return w;
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

ssize_t fwd_conn_write(struct fwd_conn *c, struct fwd_buf *b, const void *p, size_t n)
{
	ssize_t w = 0;

	if (!b->len && !c->want_write && (w = fwd_conn_send(c, p, n)) < 0)
		w = 0; /* queued below; the next flush meets the error again and reports it */
	if (fwd_buf_put(b, (const uint8_t *)p + w, n - (size_t)w))
		return -ENOBUFS;
	return w;
}

ssize_t fwd_conn_flush(struct fwd_conn *c, struct fwd_buf *b)
{
	ssize_t total = 0;
	int err = c->ssl ? fwd_tls_flush(c) : 1;

	if (err <= 0)
		return err; /* records TLS made are not all out yet: nothing more before them */
	while (b->len) {
		ssize_t n = fwd_conn_send(c, b->p + b->off, b->len);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		fwd_buf_consume(b, (size_t)n);
		total += n;
	}
	return total;
}

int fwd_conn_acked(const struct fwd_conn *c, uint64_t written, uint64_t *acked, bool *holding)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int outq = 0;

	if (ioctl(c->fd, SIOCOUTQ, &outq))
		return -errno;
	*holding = outq > 0;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	if (len >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
		*acked = ti.tcpi_bytes_acked;
	else /* before Linux 4.2: what we wrote less what the kernel still holds */
		*acked = written - (uint64_t)outq;
	return 0;
}

void fwd_conn_close(struct fwd_conn *c)
{
	if (c->ssl)
		fwd_tls_close(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
