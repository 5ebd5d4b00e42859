// SPDX-License-Identifier: MIT
/*
 * json.c - rawcap-server's answers as JSON (cJSON): bodies, errors
 * ({"error": "short_code", "detail": "sentence"}) and times, which go out
 * twice: RFC 3339 UTC with nanoseconds under KEY and nanoseconds since the
 * epoch under KEY_ns. Integers are exact (cJSON keeps numbers as doubles,
 * so 64-bit ones go in as raw digits).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rawcap/rawcap.h>

#include "server.h"

#define JSON_TYPE "application/json"

int server_reply_json(struct httpd_req *req, unsigned status, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	size_t len;

	cJSON_Delete(body);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n'; /* replaces the NUL: the body is not a C string */
	return httpd_reply_take(req, status, JSON_TYPE, text, len + 1);
}

int server_reply_error(struct httpd_req *req, unsigned status, const char *code, const char *detail,
		       ...)
{
	char text[512];
	va_list ap;

	va_start(ap, detail);
	vsnprintf(text, sizeof(text), detail, ap);
	va_end(ap);
	return httpd_reply_error(req, status, code, text);
}

char *server_error_body(void *arg, unsigned status, const char *code, const char *detail,
			const char **type, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	(void)arg, (void)status;
	if (!o || !cJSON_AddStringToObject(o, "error", code) ||
	    !cJSON_AddStringToObject(o, "detail", detail)) {
		cJSON_Delete(o);
		return NULL;
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return NULL;
	*len = strlen(text);
	text[(*len)++] = '\n';
	*type = JSON_TYPE;
	return text;
}

/* cJSON's numbers are doubles: a 64-bit count goes in as raw digits to stay exact. */
void server_json_u64(cJSON *o, const char *key, uint64_t v)
{
	char d[24];

	snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
	cJSON_AddRawToObject(o, key, d);
}

void server_json_time(cJSON *o, const char *key, uint64_t ts_ns)
{
	char t[64], k[64];

	snprintf(k, sizeof(k), "%s_ns", key);
	if (!ts_ns) {
		cJSON_AddNullToObject(o, key);
		cJSON_AddNullToObject(o, k);
		return;
	}
	cJSON_AddStringToObject(o, key, rawcap_format_time(ts_ns, t, sizeof(t)));
	server_json_u64(o, k, ts_ns);
}

const char *server_compact_time(uint64_t ts_ns, char *buf, size_t len)
{
	time_t s = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
	return buf;
}

/*
 * cJSON ends a string at a NUL, so a body holding one, raw or as \u0000, would be
 * read as less than was sent: {"name": "x\u0000y"} made a snapshot called x. JSON
 * allows neither a raw NUL nor, here, an escaped one: such a body is refused whole.
 */
static bool json_has_nul(const char *t, size_t len)
{
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		if (!t[i])
			return true;
		if (!in_str)
			in_str = t[i] == '"';
		else if (t[i] == '"')
			in_str = false;
		else if (t[i] == '\\' && ++i < len &&
			 (!t[i] || (t[i] == 'u' && len - i > 4 && !memcmp(t + i + 1, "0000", 4))))
			return true;
	}
	return false;
}

cJSON *server_json_parse(const void *text, size_t len)
{
	if (!text || json_has_nul(text, len))
		return NULL;
	return cJSON_ParseWithLength(text, len);
}

int server_json_keys(const cJSON *o, const char *const *keys, size_t n, char *detail, size_t len)
{
	for (const cJSON *m = o->child; m; m = m->next) {
		bool known = false;

		for (size_t i = 0; i < n && !known; i++)
			known = !strcmp(m->string, keys[i]);
		if (!known || cJSON_GetObjectItemCaseSensitive(o, m->string) != m) {
			snprintf(detail, len, "%s \"%.64s\"",
				 known ? "repeated field" : "unknown field", m->string);
			return -EINVAL;
		}
	}
	return 0;
}
