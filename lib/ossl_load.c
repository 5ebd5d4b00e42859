// SPDX-License-Identifier: MIT
/*
 * ossl_load.c - librawcap.so's stand-ins for forward_tls.c and sha256.c:
 * the first TLS context or digest loads the OpenSSL module (ossl_module.h)
 * and every call goes through its table. The other functions take an
 * object the module made, so it is loaded by then. When it cannot be
 * loaded, fwd_tls_ctx() says why in err and rawcap_sha256_new() returns
 * -ELIBACC.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "module_load.h"
#include "ossl_module.h"

static const struct rawcap_ossl_module *ossl_mod;
static char ossl_load_error[512];
static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;

static void ossl_load_once(void)
{
	const struct rawcap_ossl_module *m;

	m = rawcap_module_load(RAWCAP_OSSL_MODULE_PATH, RAWCAP_OSSL_MODULE_SYM, sizeof(*m),
			       "OpenSSL module", ossl_load_error, sizeof(ossl_load_error));
	__atomic_store_n(&ossl_mod, m, __ATOMIC_RELEASE);
}

/* The module, or NULL with the reason in ossl_load_error. */
static const struct rawcap_ossl_module *ossl_module(void)
{
	pthread_once(&ossl_once, ossl_load_once);
	return __atomic_load_n(&ossl_mod, __ATOMIC_ACQUIRE);
}

SSL_CTX *fwd_tls_ctx(const struct rawcap_forward_opts *o, bool server, char *err, size_t errlen)
{
	const struct rawcap_ossl_module *m = ossl_module();

	if (!m) {
		snprintf(err, errlen, "cannot load OpenSSL for TLS: %s", ossl_load_error);
		return NULL;
	}
	return m->tls_ctx(o, server, err, errlen);
}

void fwd_tls_ctx_free(SSL_CTX *ctx)
{
	ossl_mod->tls_ctx_free(ctx);
}

SSL *fwd_tls_new(SSL_CTX *ctx, int fd, bool server, const char *host)
{
	return ossl_mod->tls_new(ctx, fd, server, host);
}

int fwd_tls_handshake(struct fwd_conn *c)
{
	return ossl_mod->tls_handshake(c);
}

ssize_t fwd_tls_read(struct fwd_conn *c, void *buf, size_t len)
{
	return ossl_mod->tls_read(c, buf, len);
}

ssize_t fwd_tls_send(struct fwd_conn *c, const void *p, size_t n)
{
	return ossl_mod->tls_send(c, p, n);
}

int fwd_tls_flush(struct fwd_conn *c)
{
	return ossl_mod->tls_flush(c);
}

void fwd_tls_close(struct fwd_conn *c)
{
	ossl_mod->tls_close(c);
}

int rawcap_sha256_new(struct rawcap_sha256 **out)
{
	const struct rawcap_ossl_module *m = ossl_module();

	if (!m) {
		*out = NULL;
		return -ELIBACC;
	}
	return m->sha256_new(out);
}

bool rawcap_sha256_init(struct rawcap_sha256 *s)
{
	return ossl_mod->sha256_init(s);
}

bool rawcap_sha256_update(struct rawcap_sha256 *s, const void *p, size_t n)
{
	return ossl_mod->sha256_update(s, p, n);
}

bool rawcap_sha256_final(struct rawcap_sha256 *s, uint8_t md[32])
{
	return ossl_mod->sha256_final(s, md);
}

void rawcap_sha256_free(struct rawcap_sha256 *s)
{
	if (s)
		ossl_mod->sha256_free(s);
}
