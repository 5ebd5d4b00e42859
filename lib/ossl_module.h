/* SPDX-License-Identifier: MIT */
/*
 * ossl_module.h - the table through which librawcap.so reaches OpenSSL.
 *
 * Only rawcap-forward's TLS (forward_tls.c, libssl) and snapshot SHA-256
 * (sha256.c, libcrypto) use OpenSSL. Linked into librawcap.so, every reader
 * would load and relocate libssl and libcrypto at start-up, about a third
 * of a short export's fixed cost. So librawcap.so holds stubs of those
 * internal functions (ossl_load.c) and the code itself is the module
 * rawcap/openssl.so next to librawcap.so, loaded by the first TLS context
 * or digest; rawcap_static links OpenSSL directly and has no table.
 */
#ifndef RAWCAP_LIB_OSSL_MODULE_H
#define RAWCAP_LIB_OSSL_MODULE_H

#include "forward_int.h"
#include "sha256.h"

#define RAWCAP_OSSL_MODULE_SYM	"rawcap_ossl_module"
#define RAWCAP_OSSL_MODULE_PATH "rawcap/openssl.so" /* relative to librawcap.so's directory */

/* Starts as struct rawcap_module_head (module_load.h). */
struct rawcap_ossl_module {
	size_t sz;
	const char *version;
	SSL_CTX *(*tls_ctx)(const struct rawcap_forward_opts *o, bool server, char *err,
			    size_t errlen);
	void (*tls_ctx_free)(SSL_CTX *ctx);
	SSL *(*tls_new)(SSL_CTX *ctx, int fd, bool server, const char *host);
	int (*tls_handshake)(struct fwd_conn *c);
	ssize_t (*tls_read)(struct fwd_conn *c, void *buf, size_t len);
	ssize_t (*tls_send)(struct fwd_conn *c, const void *p, size_t n);
	int (*tls_flush)(struct fwd_conn *c);
	void (*tls_close)(struct fwd_conn *c);
	int (*sha256_new)(struct rawcap_sha256 **out);
	bool (*sha256_init)(struct rawcap_sha256 *s);
	bool (*sha256_update)(struct rawcap_sha256 *s, const void *p, size_t n);
	bool (*sha256_final)(struct rawcap_sha256 *s, uint8_t md[32]);
	void (*sha256_free)(struct rawcap_sha256 *s);
};

#endif /* RAWCAP_LIB_OSSL_MODULE_H */
