/* SPDX-License-Identifier: MIT */
/*
 * pem.h - the TLS files kubectl-rawcap's options name (--tls-ca, --tls-cert,
 * --tls-key), read whole by safe_read_named() and handed to libcurl from
 * memory: libcurl opens a path blocking, so a FIFO planted under the name
 * hung the command at its first TLS handshake.
 */
#ifndef RAWCAP_CLI_PEM_H
#define RAWCAP_CLI_PEM_H

#include <stddef.h>
#include <curl/curl.h>

struct cli_pem {
	char *data; /* NULL: no file named */
	size_t len;
};

/* Read the file opt names (none if path is NULL): 0, or -errno with why filled. */
int cli_pem_load(const char *path, struct cli_pem *out, char *why, size_t whylen);
/* Give it to h as a blob option (CURLOPT_CAINFO_BLOB, ...), copied; nothing if none. */
void cli_pem_set(CURL *h, CURLoption opt, const struct cli_pem *p);
void cli_pem_free(struct cli_pem *p);

#endif
