// SPDX-License-Identifier: MIT
/*
 * httpd_reply.c - reading a request and answering it from its handler:
 * the request line, arguments and body; answers with their headers, and
 * errors in the caller's format (httpd_opts.error_body).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd_int.h"

static int httpd_hdrs_add(struct httpd_hdrs *hh, const char *name, const char *value)
{
	if (hh->n == HTTPD_MAX_HEADERS)
		return -ENOSPC;
	hh->name[hh->n] = strdup(name);
	hh->value[hh->n] = strdup(value);
	if (!hh->name[hh->n] || !hh->value[hh->n]) {
		free(hh->name[hh->n]);
		free(hh->value[hh->n]);
		return -ENOMEM;
	}
	hh->n++;
	return 0;
}

static int httpd_hdrs_apply(const struct httpd_hdrs *hh, struct MHD_Response *resp)
{
	for (unsigned i = 0; i < hh->n; i++)
		if (MHD_add_response_header(resp, hh->name[i], hh->value[i]) != MHD_YES)
			return -EINVAL;
	return 0;
}

void httpd_hdrs_free(struct httpd_hdrs *hh)
{
	for (unsigned i = 0; i < hh->n; i++) {
		free(hh->name[i]);
		free(hh->value[i]);
	}
	hh->n = 0;
}

/* Type and headers onto a response; consumes resp on failure. */
static struct MHD_Response *httpd_dress(struct MHD_Response *resp, const char *type,
					const struct httpd_hdrs *hh, bool http10)
{
	if (!resp)
		return NULL;
	if (http10)
		MHD_set_response_options(resp, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END);
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type ? type : HTTPD_TEXT) !=
		    MHD_YES ||
	    httpd_hdrs_apply(hh, resp)) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

int httpd_queue(struct httpd_req *req, unsigned status, const char *type,
		struct MHD_Response *resp)
{
	enum MHD_Result ok;

	resp = httpd_dress(resp, type, &req->hdrs, req->http10);
	if (!resp)
		return -ENOMEM;
	ok = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	if (ok != MHD_YES)
		return -EIO;
	req->replied = true;
	httpd_stat_add(&req->h->st.requests, 1);
	if (status / 100 < 6)
		httpd_stat_add(&req->h->st.by_class[status / 100], 1);
	if (req->h->o.answered)
		req->h->o.answered(req->h->o.arg, req->route, status);
	return 0;
}

int httpd_reply(struct httpd_req *req, unsigned status, const char *type, const void *body,
		size_t len)
{
	return httpd_queue(
		req, status, type,
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY));
}

int httpd_reply_take(struct httpd_req *req, unsigned status, const char *type, void *body,
		     size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (!resp)
		free(body);
	return httpd_queue(req, status, type, resp);
}

int httpd_reply_text(struct httpd_req *req, unsigned status, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return httpd_reply(req, status, HTTPD_TEXT, buf,
			   (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static struct MHD_Response *httpd_error_response(struct httpd *h, unsigned status, const char *code,
					  const char *detail, const char **type)
{
	char line[1024];
	size_t len = 0;
	char *body = h->o.error_body ? h->o.error_body(h->o.arg, status, code, detail, type, &len)
				     : NULL;
	int n;

	if (body)
		return MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	*type = HTTPD_TEXT;
	n = snprintf(line, sizeof(line), "%s\n", detail);
	len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	return MHD_create_response_from_buffer(len, line, MHD_RESPMEM_MUST_COPY);
}

int httpd_reply_error(struct httpd_req *req, unsigned status, const char *code, const char *detail)
{
	const char *type = NULL;
	struct MHD_Response *resp = httpd_error_response(req->h, status, code, detail, &type);

	return httpd_queue(req, status, type, resp);
}

int httpd_req_set_header(struct httpd_req *req, const char *name, const char *value)
{
	return httpd_hdrs_add(&req->hdrs, name, value);
}

const char *httpd_req_method(const struct httpd_req *req)
{
	return req->method;
}

const char *httpd_req_path(const struct httpd_req *req)
{
	return req->path;
}

const char *httpd_req_arg(const struct httpd_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *httpd_req_header(const struct httpd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const void *httpd_req_body(const struct httpd_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body_len ? req->body : NULL;
}

const char *httpd_req_param(const struct httpd_req *req, unsigned i)
{
	return i < HTTPD_MAX_PARAMS ? req->params[i] : NULL;
}

struct httpd_args_iter {
	int (*fn)(void *arg, const char *key, const char *value);
	void *arg;
	int ret;
};

static enum MHD_Result httpd_args_each(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	struct httpd_args_iter *it = cls;

	(void)kind;
	it->ret = it->fn(it->arg, key, value);
	return it->ret ? MHD_NO : MHD_YES;
}

int httpd_req_args(const struct httpd_req *req,
		   int (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	struct httpd_args_iter it = {.fn = fn, .arg = arg};

	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, httpd_args_each, &it);
	return it.ret;
}
