/* SPDX-License-Identifier: MIT */
/*
 * sha256.h - SHA-256 (FIPS 180-4) for snapshots, from OpenSSL's libcrypto.
 *
 * rawcap_static calls libcrypto directly (sha256.c); librawcap.so reaches
 * the same code through its OpenSSL module (ossl_module.h), so readers that
 * never hash do not load libcrypto.
 */
#ifndef RAWCAP_LIB_SHA256_H
#define RAWCAP_LIB_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rawcap_sha256; /* one digest in progress; reusable after each final */

/* 0, -ENOMEM, or -ELIBACC when librawcap.so cannot load its OpenSSL module. */
int rawcap_sha256_new(struct rawcap_sha256 **out);
/* Start a digest; false on failure. */
bool rawcap_sha256_init(struct rawcap_sha256 *s);
bool rawcap_sha256_update(struct rawcap_sha256 *s, const void *p, size_t n);
/* The 32-byte digest of everything since init. */
bool rawcap_sha256_final(struct rawcap_sha256 *s, uint8_t md[32]);
void rawcap_sha256_free(struct rawcap_sha256 *s);

#endif /* RAWCAP_LIB_SHA256_H */
