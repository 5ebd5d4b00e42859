// SPDX-License-Identifier: MIT
/*
 * nodes.c - one JSON request to every node at once, careful reading of the
 * answers, and aligned tables (see nodes.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/rawcap.h>

#include "nodes.h"

static int send_all(struct fanout *f, const bool *want, const char *method, const char *path,
		    const char *body)
{
	for (size_t i = 0; i < f->t.n; i++) {
		struct http_req *r = &f->reqs[i];

		if (want && !want[i])
			continue; /* keeps its last answer */
		http_req_free(r);
		if (!f->t.nodes[i].url)
			continue;
		r->node = i;
		r->method = method;
		r->path = strdup(path);
		r->body = body ? strdup(body) : NULL;
		if (!r->path || (body && !r->body))
			return CLI_PARTIAL;
		http_add(&f->h, r); /* a failure is in r->error, reported per node */
	}
	http_wait_all(&f->h, f->reqs, f->t.n);
	return 0;
}

int fanout_run(struct fanout *f, struct cli *c, const char *method, const char *path,
	       const char *body)
{
	int rc;

	memset(f, 0, sizeof(*f));
	rc = transport_open(&f->t, c);
	if (rc)
		return rc;
	if (!f->t.n) {
		fprintf(stderr, PROG ": no nodes to ask\n");
		return CLI_PARTIAL;
	}
	f->reqs = calloc(f->t.n, sizeof(*f->reqs));
	if (!f->reqs || http_init(&f->h, &f->t, c)) {
		fprintf(stderr, PROG ": out of memory\n");
		return CLI_PARTIAL;
	}
	f->have_http = true;
	return send_all(f, NULL, method, path, body);
}

int fanout_again(struct fanout *f, const bool *want, const char *method, const char *path,
		 const char *body)
{
	return send_all(f, want, method, path, body);
}

const char *fanout_failure(struct fanout *f, size_t i, bool allow_404, char *buf, size_t cap)
{
	struct http_req *r = &f->reqs[i];
	const char *why;

	if (!f->t.nodes[i].url)
		return f->t.nodes[i].why;
	if (!r->h) {
		snprintf(buf, cap, "%s", r->error[0] ? r->error : "not asked");
		return buf;
	}
	if (allow_404 && r->cc == CURLE_OK && r->status == 404)
		return NULL;
	why = http_failure(r, buf, cap);
	if (why && r->cc != CURLE_OK && transport_health(&f->t, i))
		return f->t.nodes[i].why; /* e.g. its port-forward ended: the better reason */
	return why;
}

cJSON *fanout_json(struct fanout *f, size_t i, const char *key, int kind, const char **why,
		   char *buf, size_t cap)
{
	const struct http_req *r = &f->reqs[i];
	const cJSON *v;
	cJSON *j;
	bool obj;

	if ((*why = fanout_failure(f, i, false, buf, cap)))
		return NULL;
	j = http_json(r);
	v = cJSON_GetObjectItemCaseSensitive(j, key);
	if (v && (v->type & 0xff & kind))
		return j;
	obj = j != NULL;
	cJSON_Delete(j);
	snprintf(buf, cap, "HTTP %ld, %zu bytes that are not rawcap-server's answer (%s%s%s)",
		 r->status, r->resp_len, obj ? "no \"" : "not a JSON object", obj ? key : "",
		 obj ? "\"" : "");
	*why = buf;
	return NULL;
}

void fanout_free(struct fanout *f)
{
	for (size_t i = 0; f->reqs && i < f->t.n; i++)
		http_req_free(&f->reqs[i]);
	free(f->reqs);
	if (f->have_http)
		http_cleanup(&f->h);
	transport_close(&f->t);
	memset(f, 0, sizeof(*f));
}

/* ---- answers ---- */

const char *json_str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

bool json_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	/* counters; 2^53 and above lose their last digits in a double, which is fine here */
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1.8e19)
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

bool json_time(const cJSON *o, const char *key, uint64_t *ns)
{
	const char *s = json_str(o, key);

	return s && strlen(s) < 64 && !rawcap_parse_time(s, rawcap_now_ns(), ns) && *ns;
}

void fmt_span(uint64_t ns, char *buf, size_t cap)
{
	uint64_t s = ns / 1000000000u, h = s / 3600, m = s / 60 % 60;
	double sec = (double)(ns % 60000000000ull) / 1e9;

	if (ns < 1000000000u)
		snprintf(buf, cap, "%llums", (unsigned long long)(ns / 1000000u));
	else if (h)
		snprintf(buf, cap, "%lluh%llum%.0fs", (unsigned long long)h, (unsigned long long)m,
			 sec);
	else if (m)
		snprintf(buf, cap, "%llum%.1fs", (unsigned long long)m, sec);
	else
		snprintf(buf, cap, "%.3fs", sec);
}

void fmt_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1000;
		u++;
	}
	snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* ---- tables ---- */

int table_row(struct table *tb, size_t ncols, ...)
{
	char **n = realloc(tb->cells, (tb->nrows + 1) * ncols * sizeof(*n));
	va_list ap;

	if (!n)
		return -ENOMEM;
	tb->cells = n;
	tb->ncols = ncols;
	va_start(ap, ncols);
	for (size_t i = 0; i < ncols; i++) {
		const char *s = va_arg(ap, const char *);

		n[tb->nrows * ncols + i] = strdup(s ? s : "-");
	}
	va_end(ap);
	tb->nrows++;
	return 0;
}

void table_print(const struct table *tb, FILE *f)
{
	size_t w[32] = {0};

	for (size_t r = 0; r < tb->nrows; r++)
		for (size_t c = 0; c < tb->ncols && c < 32; c++) {
			const char *s = tb->cells[r * tb->ncols + c];
			size_t len = s ? strlen(s) : 0;

			w[c] = len > w[c] ? len : w[c];
		}
	for (size_t r = 0; r < tb->nrows; r++) {
		for (size_t c = 0; c < tb->ncols && c < 32; c++) {
			const char *s = tb->cells[r * tb->ncols + c];
			bool last = c + 1 == tb->ncols;

			fprintf(f, "%-*s%s", last ? 0 : (int)w[c], s ? s : "", last ? "\n" : "  ");
		}
	}
}

void table_free(struct table *tb)
{
	for (size_t i = 0; i < tb->nrows * tb->ncols; i++)
		free(tb->cells[i]);
	free(tb->cells);
	memset(tb, 0, sizeof(*tb));
}
