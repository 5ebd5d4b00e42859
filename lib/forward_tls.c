// SPDX-License-Identifier: MIT
/*
 * forward_tls.c - OpenSSL contexts for rawcap_forward.
 *
 * Forwarded traffic leaves the node, so TLS is the default: a server needs a
 * certificate and key, and with a CA it requires and verifies client
 * certificates (mutual TLS). A connecting forwarder verifies the server
 * against the CA and presents its own certificate when it has one. TLS 1.2
 * is the floor. Writes may be partial and retried from a moved buffer,
 * because the output queue compacts itself.
 *
 * This is the forwarder's one file that calls OpenSSL. librawcap.so does not
 * hold it: it reaches it through the OpenSSL module (ossl_module.h), so
 * readers that never use TLS do not load libssl.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "forward_int.h"
#include "safe_open.h"

static const char *fwd_tls_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (!e) {
		snprintf(buf, len, "unknown TLS error");
		return buf;
	}
	ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

#define FWD_TLS_FILE_MAX (1u << 20) /* a larger certificate, key or CA file is refused */

/*
 * A PEM file the user named, read whole first (safe_read_named: a FIFO or a
 * device under the name is refused, never blocked on) and handed to OpenSSL
 * from memory. NULL with err filled.
 */
static BIO *fwd_tls_pem(const char *what, const char *path, char **text, char *err, size_t errlen)
{
	char why[128];
	size_t len;
	BIO *b;

	if (safe_read_named(path, FWD_TLS_FILE_MAX, text, &len, why, sizeof(why))) {
		snprintf(err, errlen, "loading %s %s: %s", what, path, why);
		return NULL;
	}
	b = BIO_new_mem_buf(*text, (int)len);
	if (!b) {
		snprintf(err, errlen, "loading %s %s: out of memory", what, path);
		explicit_bzero(*text, len);
		free(*text);
	}
	return b;
}

static void fwd_tls_pem_free(BIO *b, char *text)
{
	BIO_free(b);
	explicit_bzero(text, strlen(text));
	free(text);
}

/* The chain's end of data: OpenSSL's "no start line" after the last block is no error. */
static bool fwd_tls_pem_end(void)
{
	unsigned long e = ERR_peek_last_error();

	if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		return false;
	ERR_clear_error();
	return true;
}

/* As SSL_CTX_use_certificate_chain_file: the first certificate, then its chain. */
static int fwd_tls_cert(SSL_CTX *ctx, BIO *b)
{
	X509 *x = PEM_read_bio_X509_AUX(b, NULL, SSL_CTX_get_default_passwd_cb(ctx),
					SSL_CTX_get_default_passwd_cb_userdata(ctx));
	int ok = x && SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_clear_chain_certs(ctx);

	X509_free(x);
	while (ok) {
		X509 *ca = PEM_read_bio_X509(b, NULL, SSL_CTX_get_default_passwd_cb(ctx),
					     SSL_CTX_get_default_passwd_cb_userdata(ctx));

		if (!ca)
			return fwd_tls_pem_end() ? 0 : -1;
		if (!SSL_CTX_add0_chain_cert(ctx, ca)) {
			X509_free(ca);
			ok = 0;
		}
	}
	return -1;
}

static int fwd_tls_key(SSL_CTX *ctx, BIO *b)
{
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, SSL_CTX_get_default_passwd_cb(ctx),
					      SSL_CTX_get_default_passwd_cb_userdata(ctx));
	int ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1;

	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

/* As SSL_CTX_load_verify_locations(ctx, file, NULL): every certificate and CRL of the file. */
static int fwd_tls_ca(SSL_CTX *ctx, BIO *b)
{
	STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	int n = 0, bad = 0;

	for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);

		if (info->x509)
			bad |= !X509_STORE_add_cert(store, info->x509), n++;
		if (info->crl)
			bad |= !X509_STORE_add_crl(store, info->crl), n++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (infos && !n)
		ERR_raise(ERR_LIB_X509, X509_R_NO_CERTIFICATE_OR_CRL_FOUND);
	return infos && n && !bad ? 0 : -1;
}

/* Load what --WHAT names with load(); errors say which file and why. */
static int fwd_tls_file(SSL_CTX *ctx, const char *what, const char *path,
			int (*load)(SSL_CTX *, BIO *), char *err, size_t errlen)
{
	char *text, why[160];
	BIO *b = fwd_tls_pem(what, path, &text, err, errlen);
	int r;

	if (!b)
		return -1;
	r = load(ctx, b);
	fwd_tls_pem_free(b, text);
	if (r)
		snprintf(err, errlen, "loading %s %s: %s", what, path,
			 fwd_tls_error(why, sizeof(why)));
	return r;
}

static int fwd_tls_load(SSL_CTX *ctx, const struct rawcap_forward_opts *o, char *err, size_t errlen)
{
	if (o->tls_cert && fwd_tls_file(ctx, "certificate", o->tls_cert, fwd_tls_cert, err, errlen))
		return -1;
	if (o->tls_key && fwd_tls_file(ctx, "key", o->tls_key, fwd_tls_key, err, errlen))
		return -1;
	if (o->tls_cert && o->tls_key && SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key %s does not match certificate %s", o->tls_key,
			 o->tls_cert);
		return -1;
	}
	if (o->tls_ca && fwd_tls_file(ctx, "CA", o->tls_ca, fwd_tls_ca, err, errlen))
		return -1;
	return 0;
}

SSL_CTX *fwd_tls_ctx(const struct rawcap_forward_opts *o, bool server, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "creating TLS context: out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (fwd_tls_load(ctx, o, err, errlen))
		goto fail;
	if (server && o->tls_ca)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (!server) {
		/* Never send capture to an unverified peer: system CAs unless one is given. */
		if (!o->tls_ca)
			SSL_CTX_set_default_verify_paths(ctx);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void fwd_tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

SSL *fwd_tls_new(SSL_CTX *ctx, int fd, bool server, const char *host)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (server) {
		SSL_set_accept_state(ssl);
	} else {
		SSL_set_connect_state(ssl);
		SSL_set_tlsext_host_name(ssl, host);
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host))
			SSL_set1_host(ssl, host);
	}
	return ssl;
}

/*
 * OpenSSL 3 reports a TCP FIN without close_notify (a receiver that half-closes
 * or exits, as it would over plain TCP) as an error: it is the peer closing.
 */
static bool fwd_tls_eof(struct fwd_conn *c)
{
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	unsigned long e = ERR_peek_error();

	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		c->eof = true;
		return true;
	}
#else
	(void)c;
#endif
	return false;
}

/* Map an OpenSSL result to 0 (retry later) or -errno; note which way it waits. */
static int fwd_tls_err(struct fwd_conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->want_write = false;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->want_write = true;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		c->eof = true;
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		c->eof = true;
		return errno ? -errno : -ECONNRESET;
	default:
		return fwd_tls_eof(c) ? -ECONNRESET : -EPROTO;
	}
}

/*
 * Once the peer is authenticated, records go out through a write buffer:
 * OpenSSL writes each 16 KiB record with its own write(2), and on loopback
 * each of those is also a TCP push and a softirq; fwd_tls_send() flushes
 * the buffer once after all the records it made. Strangers never get one.
 * Fails only for memory; the session then writes unbuffered.
 */
static void fwd_tls_buffer(struct fwd_conn *c)
{
	BIO *sock = SSL_get_wbio(c->ssl), *buf = BIO_new(BIO_f_buffer());

	if (!buf || BIO_set_write_buffer_size(buf, FWD_TLS_WBUF) != 1 || !BIO_up_ref(sock)) {
		BIO_free(buf);
		return;
	}
	BIO_push(buf, sock);
	SSL_set0_wbio(c->ssl, buf); /* drops the session's reference to sock as its wbio */
}

int fwd_tls_handshake(struct fwd_conn *c)
{
	int ret;

	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		c->handshaken = true;
		c->want_write = false;
		fwd_tls_buffer(c);
		return 1;
	}
	return fwd_tls_err(c, ret);
}

/*
 * A FIN with nothing left to read is a TCP half-close (a receiver that shut
 * down its write side without close_notify, as plain TCP receivers do). It
 * is seen on the socket before SSL_read() meets it: OpenSSL 3 takes an EOF
 * without close_notify as a fatal error and sends the peer an alert, which
 * would end the stream we still owe it.
 */
static bool fwd_tls_fin(struct fwd_conn *c)
{
	char b;

	return !SSL_has_pending(c->ssl) && recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * A close_notify ends only the peer's sending side in TLS 1.3 (RFC 8446
 * 6.1; OpenSSL then still allows SSL_write()): a half-close, we go on
 * sending. In TLS 1.2 the peer must be answered with close_notify and the
 * connection closed (RFC 5246 7.2.1): it is dropped as closed.
 */
ssize_t fwd_tls_read(struct fwd_conn *c, void *buf, size_t len)
{
	int ret;

	if (fwd_tls_fin(c)) {
		c->rd_closed = true;
		return 0;
	}
	ERR_clear_error();
	ret = SSL_read(c->ssl, buf, (int)len);
	if (ret > 0)
		return ret;
	if (SSL_get_error(c->ssl, ret) == SSL_ERROR_ZERO_RETURN &&
	    SSL_version(c->ssl) >= TLS1_3_VERSION) {
		c->rd_closed = true;
		return 0;
	}
	return fwd_tls_err(c, ret);
}

/*
 * As many records as the socket takes now. With partial writes on, one
 * SSL_write() sends one record (16 KiB); stopping there left the rest of the
 * pcap writer's ~330 KB to be copied into the receiver's queue. Bytes sent
 * before a refusal are returned; an error after them comes back from the
 * next send.
 */
ssize_t fwd_tls_send(struct fwd_conn *c, const void *p, size_t n)
{
	size_t done = 0;
	int ret;

	while (done < n) {
		size_t left = n - done;

		ERR_clear_error();
		ret = SSL_write(c->ssl, (const char *)p + done,
				left > (1u << 30) ? 1 << 30 : (int)left);
		if (ret <= 0) {
			int err = fwd_tls_err(c, ret);

			return done ? (ssize_t)done : err;
		}
		c->want_write = false;
		done += (size_t)ret;
	}
	ret = fwd_tls_flush(c);
	return ret < 0 && !done ? ret : (ssize_t)done;
}

int fwd_tls_flush(struct fwd_conn *c)
{
	BIO *wbio = SSL_get_wbio(c->ssl);

	if (BIO_flush(wbio) == 1) {
		c->want_write = false;
		return 1;
	}
	if (BIO_should_retry(wbio)) {
		c->want_write = true;
		return 0;
	}
	c->eof = true;
	return errno ? -errno : -ECONNRESET;
}

void fwd_tls_close(struct fwd_conn *c)
{
	if (c->handshaken && !c->eof)
		SSL_shutdown(c->ssl); /* best effort: one non-blocking close_notify */
	SSL_free(c->ssl);
	c->ssl = NULL;
}
