// SPDX-License-Identifier: MIT
/*
 * sha256.c - sha256.h over OpenSSL's EVP interface. The digest is fetched
 * once per object (EVP_MD_fetch), not implicitly per init.
 */
#include <errno.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "sha256.h"

struct rawcap_sha256 {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

void rawcap_sha256_free(struct rawcap_sha256 *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->ctx);
	EVP_MD_free(s->md);
	free(s);
}

int rawcap_sha256_new(struct rawcap_sha256 **out)
{
	struct rawcap_sha256 *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	s->ctx = EVP_MD_CTX_new();
	if (!s->md || !s->ctx) {
		rawcap_sha256_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

bool rawcap_sha256_init(struct rawcap_sha256 *s)
{
	return EVP_DigestInit_ex(s->ctx, s->md, NULL) == 1;
}

bool rawcap_sha256_update(struct rawcap_sha256 *s, const void *p, size_t n)
{
	return EVP_DigestUpdate(s->ctx, p, n) == 1;
}

bool rawcap_sha256_final(struct rawcap_sha256 *s, uint8_t md[32])
{
	unsigned int len = 0;

	return EVP_DigestFinal_ex(s->ctx, md, &len) == 1 && len == 32;
}
