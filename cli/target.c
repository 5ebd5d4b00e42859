// SPDX-License-Identifier: MIT
/*
 * target.c - the dissector connection of `kubectl rawcap dissect`: plain
 * TCP or TLS to HOST:PORT, opened and written with libcurl (CONNECT_ONLY
 * and curl_easy_send), so TLS verification is libcurl's and not ours.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "pem.h"
#include "target.h"

/* A TLS file read whole and given to curl from memory (pem.h); -errno with t->err filled. */
static int target_pem(struct target *t, const char *path, CURLoption opt)
{
	struct cli_pem p;
	char why[128];
	int err = cli_pem_load(path, &p, why, sizeof(why));

	if (err) {
		snprintf(t->err, sizeof(t->err), "%s: %s", path, why);
		return err;
	}
	cli_pem_set(t->h, opt, &p);
	cli_pem_free(&p);
	return 0;
}

int target_connect(struct target *t, const struct target_opts *o)
{
	char url[600];
	CURLcode cc;

	memset(t, 0, sizeof(*t));
	t->stop = o->stop;
	t->h = curl_easy_init();
	if (!t->h)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s://%s", o->plain ? "http" : "https", o->hostport);
	curl_easy_setopt(t->h, CURLOPT_URL, url);
	curl_easy_setopt(t->h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(t->h, CURLOPT_PROXY, ""); /* straight to the dissector */
	curl_easy_setopt(t->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->h, CURLOPT_CONNECTTIMEOUT, (long)o->timeout_s);
	curl_easy_setopt(t->h, CURLOPT_ERRORBUFFER, t->err);
	curl_easy_setopt(t->h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (target_pem(t, o->ca, CURLOPT_CAINFO_BLOB) ||
	    target_pem(t, o->cert, CURLOPT_SSLCERT_BLOB) ||
	    target_pem(t, o->key, CURLOPT_SSLKEY_BLOB))
		return -EINVAL;
	cc = curl_easy_perform(t->h);
	if (cc == CURLE_OK)
		cc = curl_easy_getinfo(t->h, CURLINFO_ACTIVESOCKET, &t->fd);
	if (cc != CURLE_OK) {
		if (!t->err[0])
			snprintf(t->err, sizeof(t->err), "%s", curl_easy_strerror(cc));
		return -ECONNREFUSED;
	}
	return 0;
}

int target_write(void *arg, const void *buf, size_t len)
{
	struct target *t = arg;
	const char *p = buf;

	while (len) {
		size_t sent = 0;
		CURLcode cc = curl_easy_send(t->h, p, len, &sent);

		if (cc == CURLE_AGAIN) {
			struct pollfd pf = {(int)t->fd, POLLOUT, 0};

			if (t->stop && *t->stop)
				return -EINTR;
			poll(&pf, 1, 200);
			continue;
		}
		if (cc != CURLE_OK) {
			snprintf(t->err, sizeof(t->err), "%s", curl_easy_strerror(cc));
			return -EPIPE;
		}
		p += sent;
		len -= sent;
		t->sent += sent;
	}
	return 0;
}

void target_close(struct target *t)
{
	if (t->h)
		curl_easy_cleanup(t->h);
	t->h = NULL;
}
