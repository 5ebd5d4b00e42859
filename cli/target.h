/* SPDX-License-Identifier: MIT */
/*
 * target.h - a byte stream to a dissector (tshark -i TCP@HOST:PORT,
 * Kubeshark's worker, rawcap's own receivers): plain TCP or TLS.
 */
#ifndef RAWCAP_CLI_TARGET_H
#define RAWCAP_CLI_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

struct target_opts {
	const char *hostport; /* "HOST:PORT", "[::1]:PORT" */
	bool plain;	      /* plain TCP; else TLS, the server verified */
	const char *ca, *cert, *key;
	unsigned timeout_s; /* to connect */
	volatile sig_atomic_t *stop;
};

struct target {
	CURL *h;
	curl_socket_t fd;
	uint64_t sent;
	volatile sig_atomic_t *stop;
	char err[CURL_ERROR_SIZE];
};

/* Connect (and shake hands). 0, or -errno with t->err saying why. */
int target_connect(struct target *t, const struct target_opts *o);
/* Send all of buf (a merge_opts write_fn). 0, -EPIPE (t->err), or -EINTR. */
int target_write(void *arg, const void *buf, size_t len);
void target_close(struct target *t);

#endif
