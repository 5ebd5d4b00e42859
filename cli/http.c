// SPDX-License-Identifier: MIT
/*
 * http.c - libcurl's multi interface for every request to the nodes (see
 * http.h). libcurl does all of HTTP, chunked decoding and TLS; this file
 * only sets options, routes bytes, and keeps answers bounded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/rawcap.h>

#include "http.h"

int http_init(struct http *h, struct transport *t, const struct cli *c)
{
	memset(h, 0, sizeof(*h));
	h->t = t;
	h->c = c;
	h->multi = curl_multi_init();
	return h->multi ? 0 : -ENOMEM;
}

void http_cleanup(struct http *h)
{
	if (h->multi)
		curl_multi_cleanup(h->multi);
	h->multi = NULL;
}

static void started(struct http_req *r)
{
	if (r->started)
		return;
	r->started = true;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->on_start)
		r->on_start(r->arg, r);
}

static int buffer(struct http_req *r, const char *d, size_t n)
{
	char *nb;

	if (r->resp_len + n > HTTP_RESP_MAX) {
		r->too_big = true; /* said in finish(): curl writes its own words into r->error */
		return -EFBIG;
	}
	nb = realloc(r->resp, r->resp_len + n + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + r->resp_len, d, n);
	r->resp = nb;
	r->resp_len += n;
	r->resp[r->resp_len] = '\0';
	return 0;
}

static size_t on_write(char *d, size_t size, size_t nmemb, void *arg)
{
	struct http_req *r = arg;
	size_t n = size * nmemb;
	int rc;

	started(r);
	r->last_rx_ns = cli_mono_ns();
	if (r->status == 200 && r->on_data) {
		rc = r->on_data(r->arg, d, n);
		if (rc == -ENOBUFS) {
			r->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		}
		if (rc < 0)
			return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
		r->rx_bytes += n;
		return n;
	}
	return buffer(r, d, n) ? 0 : n;
}

static int set_auth(struct http_req *r, const struct transport *t)
{
	char hdr[4200];

	cli_pem_set(r->h, CURLOPT_CAINFO_BLOB, &t->tls_ca);
	cli_pem_set(r->h, CURLOPT_SSLCERT_BLOB, &t->tls_cert);
	cli_pem_set(r->h, CURLOPT_SSLKEY_BLOB, &t->tls_key);
	if (t->token) {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", t->token);
		r->hdrs = curl_slist_append(r->hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
		if (!r->hdrs)
			return -ENOMEM;
	}
	return 0;
}

static int set_method(struct http_req *r)
{
	const char *m = r->method ? r->method : "GET";

	if (r->body) {
		r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
		if (!r->hdrs)
			return -ENOMEM;
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	} else if (!strcmp(m, "POST")) {
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, "");
	}
	if (strcmp(m, "GET") && strcmp(m, "POST"))
		curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, m);
	return 0;
}

int http_add(struct http *h, struct http_req *r)
{
	const struct node *n = &h->t->nodes[r->node];
	char ua[64], *url;
	int err;

	r->http = h;
	r->h = curl_easy_init();
	url = malloc(strlen(n->url) + strlen(r->path) + 1);
	if (!r->h || !url) {
		free(url);
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -ENOMEM;
	}
	sprintf(url, "%s%s", n->url, r->path);
	snprintf(ua, sizeof(ua), "kubectl-rawcap/%s", rawcap_version());
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	free(url); /* libcurl keeps its own copy */
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->error);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT, (long)h->c->timeout_s);
	if (!r->stream)
		curl_easy_setopt(r->h, CURLOPT_TIMEOUT, (long)h->c->timeout_s);
	curl_easy_setopt(r->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
	err = set_auth(r, h->t) ?: set_method(r);
	if (err) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return err;
	}
	if (r->hdrs)
		curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->hdrs);
	r->last_rx_ns = cli_mono_ns();
	if (curl_multi_add_handle(h->multi, r->h) != CURLM_OK) {
		snprintf(r->error, sizeof(r->error), "cannot start the request");
		return -EIO;
	}
	h->running++;
	return 0;
}

static void finish(struct http *h, struct http_req *r, CURLcode cc)
{
	if (r->done)
		return;
	r->cc = cc;
	if (cc == CURLE_OK || r->status == 0)
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc == CURLE_OK)
		started(r);
	if (r->too_big)
		snprintf(r->error, sizeof(r->error), "answer larger than %u bytes", HTTP_RESP_MAX);
	else if (cc != CURLE_OK && !r->error[0])
		snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(cc));
	curl_multi_remove_handle(h->multi, r->h);
	h->running--;
	r->done = true;
	r->paused = false;
}

size_t http_step(struct http *h, int timeout_ms)
{
	CURLMsg *msg;
	int still, left;

	curl_multi_perform(h->multi, &still);
	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct http_req *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r)
			finish(h, r, msg->data.result);
	}
	transport_tick(h->t);
	if (h->running && timeout_ms > 0)
		curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
	return h->running;
}

void http_resume(struct http_req *r)
{
	if (!r->paused || r->done)
		return;
	r->paused = false;
	r->last_rx_ns = cli_mono_ns();
	/* may call on_write at once with the bytes it held back */
	curl_easy_pause(r->h, CURLPAUSE_CONT);
}

void http_abort(struct http_req *r, const char *why)
{
	if (r->done || !r->h)
		return;
	snprintf(r->error, sizeof(r->error), "%s", why);
	finish(r->http, r, CURLE_ABORTED_BY_CALLBACK);
}

void http_req_free(struct http_req *r)
{
	if (r->h && !r->done && r->http) {
		curl_multi_remove_handle(r->http->multi, r->h);
		r->http->running--;
	}
	if (r->h)
		curl_easy_cleanup(r->h);
	curl_slist_free_all(r->hdrs);
	free(r->path);
	free(r->body);
	free(r->resp);
	memset(r, 0, sizeof(*r));
}

void http_wait_all(struct http *h, struct http_req *reqs, size_t n)
{
	bool busy = true;

	while (busy) {
		busy = false;
		for (size_t i = 0; i < n; i++)
			busy |= reqs[i].h && !reqs[i].done;
		if (!busy)
			break;
		if (h->c->stop && *h->c->stop) {
			for (size_t i = 0; i < n; i++)
				http_abort(&reqs[i], "interrupted");
			break;
		}
		http_step(h, 200);
	}
}

const char *http_header(struct http_req *r, const char *name)
{
	struct curl_header *hdr;

	if (!r->h || curl_easy_header(r->h, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
		return NULL;
	return hdr->value;
}

cJSON *http_json(const struct http_req *r)
{
	cJSON *j = r->resp ? cJSON_ParseWithLength(r->resp, r->resp_len) : NULL;

	if (j && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

const char *http_failure(struct http_req *r, char *buf, size_t cap)
{
	char code[64], detail[256];
	cJSON *j;

	if (r->cc != CURLE_OK) {
		cli_clean(detail, sizeof(detail), r->error);
		snprintf(buf, cap, "%s", detail);
		return buf;
	}
	if (r->status >= 200 && r->status < 300)
		return NULL;
	j = http_json(r);
	cli_clean(code, sizeof(code), cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")));
	cli_clean(detail, sizeof(detail), cJSON_GetStringValue(cJSON_GetObjectItem(j, "detail")));
	cJSON_Delete(j);
	snprintf(buf, cap, "HTTP %ld%s%s%s%s", r->status, code[0] ? " " : "", code,
		 detail[0] ? ": " : "", detail);
	return buf;
}

int http_set_path(struct http_req *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&r->path, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->path = NULL;
		return -ENOMEM;
	}
	return 0;
}

int http_add_query(struct http_req *r, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0), *np;
	int n;

	if (!esc)
		return -ENOMEM;
	n = asprintf(&np, "%s%c%s=%s", r->path, strchr(r->path, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	if (n < 0)
		return -ENOMEM;
	free(r->path);
	r->path = np;
	return 0;
}
