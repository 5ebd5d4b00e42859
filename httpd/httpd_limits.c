// SPDX-License-Identifier: MIT
/*
 * httpd_limits.c - what a request may send, checked before any work: when
 * its headers are in, credentials first (httpd_auth.c), then the size of
 * its headers (431), query (414) and declared body (413); then its body,
 * kept up to the route's max_body, one that outgrows it (chunked) read to
 * its end and refused with the same 413.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd_int.h"

#define HTTPD_MAX_FIELDS 100 /* header fields, with max_headers (as Apache's default) */

/* The declared body is larger than the route takes. */
static bool httpd_body_too_large(const struct httpd_req *req)
{
	const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!cl || !req->route)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno || *end || n > req->route->max_body;
}

struct httpd_query_size {
	size_t bytes;
	unsigned args;
};

static enum MHD_Result httpd_count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	struct httpd_query_size *q = cls;

	(void)kind;
	q->args++;
	q->bytes += strlen(key) + (value ? strlen(value) : 0) + 2;
	return MHD_YES;
}

/* The query string is longer than the limits allow. */
static bool httpd_query_too_long(const struct httpd_req *req)
{
	const struct httpd_opts *o = &req->h->o;
	struct httpd_query_size q = {0};

	if (!o->max_query && !o->max_args)
		return false;
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, httpd_count_arg, &q);
	return (o->max_query && q.bytes > o->max_query) || (o->max_args && q.args > o->max_args);
}

/*
 * The headers are longer than max_headers or more than HTTPD_MAX_FIELDS
 * (conn_mem may be far larger: streamed answers).
 */
static bool httpd_headers_too_large(const struct httpd_req *req)
{
	struct httpd_query_size q = {0};

	if (!req->h->o.max_headers)
		return false;
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, httpd_count_arg, &q);
	return q.bytes > req->h->o.max_headers || q.args > HTTPD_MAX_FIELDS;
}

/* 413: the body is larger than the route takes; the connection closes after it. */
int httpd_reply_too_large(struct httpd_req *req)
{
	char why[128];
	int err;

	snprintf(why, sizeof(why), "request body larger than %zu bytes", req->route->max_body);
	err = httpd_req_set_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
	return err ? err
		   : httpd_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", why);
}

/*
 * Checks made as soon as the headers are in, before a body is read or a
 * route runs: credentials, header size, query size, declared body size. Returns true
 * when one failed and was answered.
 */
bool httpd_refuse_early(struct httpd_req *req, int *err)
{
	const char *code, *detail;
	unsigned st = httpd_auth_check(req, &code, &detail);
	char why[128];

	if (st) {
		httpd_stat_add(&req->h->st.refused, 1);
		*err = httpd_reply_error(req, st, code, detail);
		return true;
	}
	if (httpd_headers_too_large(req)) {
		snprintf(why, sizeof(why),
			 "request headers longer than %zu bytes or more than %u fields",
			 req->h->o.max_headers, HTTPD_MAX_FIELDS);
		*err = httpd_reply_error(req, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
					 "headers_too_large", why);
		return true;
	}
	if (httpd_query_too_long(req)) {
		snprintf(why, sizeof(why), "query string longer than %zu bytes or %u arguments",
			 req->h->o.max_query, req->h->o.max_args);
		*err = httpd_reply_error(req, MHD_HTTP_URI_TOO_LONG, "query_too_long", why);
		return true;
	}
	if (httpd_body_too_large(req)) {
		*err = httpd_reply_too_large(req);
		return true;
	}
	return false;
}

/*
 * A piece of the request body. A body declared too large was refused with
 * 413 before it was read. One that only grows too large (chunked) is read
 * to its end and dropped, and then refused with the same 413: MHD queues an
 * answer only before the body or after all of it, and a connection closed
 * mid-body tells the client nothing. The request's deadline
 * (httpd_deadline.c) bounds how long that reading may take. Bodies of
 * unknown paths are discarded the same way. On the caller's loop neither
 * is read: see below.
 */
int httpd_body(struct httpd_req *req, const char *data, size_t n)
{
	/* On the caller's loop (capd's, which also drains the capture sockets)
	 * a body nobody will use is not read for the deadline's length: the
	 * connection closes at once, without an answer, as before 413s. */
	bool drain = req->h->o.own_thread;
	char *p;

	if (req->replied)
		return 0;
	if (!req->route || req->too_large)
		return drain ? 0 : -EMSGSIZE;
	if (req->body_len + n > req->route->max_body) {
		if (!drain)
			return -EMSGSIZE;
		req->too_large = true;
		free(req->body);
		req->body = NULL;
		req->body_len = 0;
		return 0;
	}
	p = realloc(req->body, req->body_len + n);
	if (!p)
		return -ENOMEM;
	memcpy(p + req->body_len, data, n);
	req->body = p;
	req->body_len += n;
	return 0;
}
