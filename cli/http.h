/* SPDX-License-Identifier: MIT */
/*
 * http.h - requests to the nodes' rawcap-servers, all in parallel on one
 * libcurl multi handle: JSON requests whose answers are buffered (bounded),
 * and body streams handed to a sink as they arrive, which may pause a
 * stream (back-pressure) and resume it later.
 */
#ifndef RAWCAP_CLI_HTTP_H
#define RAWCAP_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "transport.h"

#define HTTP_RESP_MAX (8u << 20) /* a buffered answer larger than this is an error */

struct http_req;

struct http {
	CURLM *multi;
	struct transport *t;
	const struct cli *c;
	size_t running;
};

struct http_req {
	/* set by the caller before http_add() */
	size_t node;	    /* index into t->nodes */
	const char *method; /* "GET" (default), "POST", "PUT", "DELETE" */
	char *path;  /* "/v1/node", query included, escaped; malloc'd, freed with the request */
	char *body;  /* JSON request body or NULL; malloc'd, freed with the request */
	bool stream; /* no total time limit: a body stream */
	/* Status and headers are known (before the first byte of the body). */
	void (*on_start)(void *arg, struct http_req *r);
	/* Body bytes of a 200 answer: 0, -ENOBUFS to pause, another -errno to abort. */
	int (*on_data)(void *arg, const void *data, size_t len);
	void *arg;
	/* results */
	long status;		     /* HTTP status, 0 if none came */
	CURLcode cc;		     /* libcurl's result */
	char error[CURL_ERROR_SIZE]; /* libcurl's words for cc */
	char *resp;		     /* buffered body (non-stream answers, error answers) */
	size_t resp_len;
	bool started, done, paused;
	bool too_big; /* the buffered answer passed HTTP_RESP_MAX */
	uint64_t last_rx_ns; /* monotonic, the last body bytes */
	uint64_t rx_bytes;
	CURL *h;
	struct curl_slist *hdrs;
	struct http *http;
};

int http_init(struct http *h, struct transport *t, const struct cli *c);
void http_cleanup(struct http *h);
/* Start a request (node must have a URL). 0 or -errno (then r->error says why). */
int http_add(struct http *h, struct http_req *r);
/* Let libcurl work for up to timeout_ms; completes requests (r->done). Returns how many run. */
size_t http_step(struct http *h, int timeout_ms);
/* Resume a paused stream (its sink has room again). */
void http_resume(struct http_req *r);
/* Stop a request now: it is done, with why as its error. */
void http_abort(struct http_req *r, const char *why);
void http_req_free(struct http_req *r);
/* Run every request of reqs (already added) to its end, or until stopped. */
void http_wait_all(struct http *h, struct http_req *reqs, size_t n);
/* A response header's value, or NULL. */
const char *http_header(struct http_req *r, const char *name);
/*
 * What went wrong with r, for a message ("HTTP 404 not_found: no snapshot
 * s1", "Couldn't connect to server"), or NULL if it got a 2xx answer.
 */
const char *http_failure(struct http_req *r, char *buf, size_t cap);
/* The buffered body parsed as a JSON object, or NULL (cJSON_Delete it). */
cJSON *http_json(const struct http_req *r);
/* path = printf(fmt, ...), malloc'd into r->path; 0 or -ENOMEM. */
int http_set_path(struct http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append "&key=value" (or "?key=value" first) to r->path, the value escaped. */
int http_add_query(struct http_req *r, const char *key, const char *value);

#endif
