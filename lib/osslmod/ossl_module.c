// SPDX-License-Identifier: MIT
/*
 * ossl_module.c - the one symbol of the OpenSSL module (rawcap/openssl.so):
 * the table of forward_tls.c's and sha256.c's functions, which librawcap.so's
 * ossl_load.c looks up. The code comes from rawcap_static; the version
 * script keeps every other symbol local.
 */
#include "ossl_module.h"

__attribute__((visibility("default"))) const struct rawcap_ossl_module rawcap_ossl_module = {
	.sz = sizeof(struct rawcap_ossl_module),
	.version = RAWCAP_VERSION_STRING,
	.tls_ctx = fwd_tls_ctx,
	.tls_ctx_free = fwd_tls_ctx_free,
	.tls_new = fwd_tls_new,
	.tls_handshake = fwd_tls_handshake,
	.tls_read = fwd_tls_read,
	.tls_send = fwd_tls_send,
	.tls_flush = fwd_tls_flush,
	.tls_close = fwd_tls_close,
	.sha256_new = rawcap_sha256_new,
	.sha256_init = rawcap_sha256_init,
	.sha256_update = rawcap_sha256_update,
	.sha256_final = rawcap_sha256_final,
	.sha256_free = rawcap_sha256_free,
};
