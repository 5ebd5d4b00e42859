// SPDX-License-Identifier: MIT
/* pem.c - TLS files read whole and handed to libcurl as blobs (pem.h). */
#include <stdlib.h>
#include <string.h>

#include "pem.h"
#include "safe_open.h"

#define CLI_PEM_MAX (1u << 20) /* a larger certificate, key or CA file is refused */

int cli_pem_load(const char *path, struct cli_pem *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (!path)
		return 0;
	return safe_read_named(path, CLI_PEM_MAX, &out->data, &out->len, why, whylen);
}

void cli_pem_set(CURL *h, CURLoption opt, const struct cli_pem *p)
{
	struct curl_blob b = {.data = p->data, .len = p->len, .flags = CURL_BLOB_COPY};

	if (p->data)
		curl_easy_setopt(h, opt, &b);
}

void cli_pem_free(struct cli_pem *p)
{
	if (p->data) {
		explicit_bzero(p->data, p->len);
		free(p->data);
	}
	memset(p, 0, sizeof(*p));
}
