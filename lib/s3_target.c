// SPDX-License-Identifier: MIT
/*
 * s3_target.c - where a remote snapshot lives: "s3://BUCKET/PREFIX" plus an
 * optional endpoint and a region, turned into URLs and object keys.
 *
 * Every URL we build is already in SigV4's canonical form (path segments and
 * query percent-encoded by RFC 3986, the query sorted), because libcurl signs
 * the path and query exactly as given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

int s3_uri_encode(const char *s, bool slash, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c) || (slash && c == '/')) {
			if (n + 1 >= len)
				return -ENAMETOOLONG;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= len)
				return -ENAMETOOLONG;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n >= len)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

/* S3 bucket rules (3-63 of a-z 0-9 . -, alphanumeric at both ends), plus GCS's '_'. */
static bool bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > S3_BUCKET_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && ((i == 0 || i == n - 1) || (c != '.' && c != '-' && c != '_')))
			return false;
	}
	return true;
}

/* Copy the prefix without leading/trailing '/'; refuse empty, "." and ".." segments. */
static int prefix_copy(const char *p, char *out, size_t len)
{
	size_t n;

	while (*p == '/')
		p++;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, p, n);
	out[n] = '\0';
	for (char *seg = out; n;) {
		char *end = strchr(seg, '/');
		size_t sl = end ? (size_t)(end - seg) : strlen(seg);

		if (sl == 0 || (sl == 1 && seg[0] == '.') || (sl == 2 && !strncmp(seg, "..", 2)))
			return -EINVAL;
		for (size_t i = 0; i < sl; i++)
			if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
				return -EINVAL;
		if (!end)
			break;
		seg = end + 1;
	}
	return 0;
}

static bool token_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!unreserved((unsigned char)*s))
			return false;
	return true;
}

/* http(s)://authority[/path]: no credentials, query or fragment in it. */
static int endpoint_copy(const char *e, char *out, size_t len)
{
	const char *auth;
	size_t n;

	if (!strncmp(e, "https://", 8))
		auth = e + 8;
	else if (!strncmp(e, "http://", 7))
		auth = e + 7;
	else
		return -EINVAL;
	if (!*auth || *auth == '/' || strpbrk(e, "@?# \t\r\n"))
		return -EINVAL;
	n = strlen(e);
	while (n && e[n - 1] == '/')
		n--;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, e, n);
	out[n] = '\0';
	return 0;
}

static const char *first_env(const char *a, const char *b)
{
	const char *v = getenv(a);

	if (v && *v)
		return v;
	v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

int s3_target_parse(struct s3_target *t, const char *url, const char *endpoint, const char *region,
		    char *errbuf, size_t errlen)
{
	const char *b, *slash;
	size_t blen;
	int n;

	memset(t, 0, sizeof(*t));
	if (!url || strncmp(url, "s3://", 5)) {
		snprintf(errbuf, errlen, "%s: not an s3://BUCKET[/PREFIX] URL",
			 url ? url : "(none)");
		return -EINVAL;
	}
	b = url + 5;
	slash = strchr(b, '/');
	blen = slash ? (size_t)(slash - b) : strlen(b);
	if (!bucket_ok(b, blen)) {
		snprintf(errbuf, errlen, "%s: bad bucket name (3-63 of a-z 0-9 . - _)", url);
		return -EINVAL;
	}
	memcpy(t->bucket, b, blen);
	if (slash && prefix_copy(slash, t->prefix, sizeof(t->prefix))) {
		snprintf(errbuf, errlen,
			 "%s: bad prefix (empty, \".\" or \"..\" segment, or too long)", url);
		return -EINVAL;
	}
	region = region ? region : first_env("AWS_REGION", "AWS_DEFAULT_REGION");
	region = region ? region : "us-east-1";
	if (!token_ok(region, sizeof(t->region) - 1)) {
		snprintf(errbuf, errlen, "%s: bad region", region);
		return -EINVAL;
	}
	strcpy(t->region, region);
	snprintf(t->sigv4, sizeof(t->sigv4), "aws:amz:%s:s3", t->region);
	endpoint = endpoint ? endpoint : first_env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
	if (endpoint) {
		char e[sizeof(t->base) - S3_BUCKET_MAX - 2];

		if (endpoint_copy(endpoint, e, sizeof(e))) {
			snprintf(errbuf, errlen,
				 "%s: bad endpoint (want http[s]://HOST[:PORT][/PATH], no "
				 "credentials or query in it)",
				 endpoint);
			return -EINVAL;
		}
		n = snprintf(t->base, sizeof(t->base), "%s/%s", e, t->bucket);
	} else if (strchr(t->bucket, '.')) {
		/* Dots break the TLS wildcard of the virtual host: path-style. */
		n = snprintf(t->base, sizeof(t->base), "https://s3.%s.amazonaws.com/%s", t->region,
			     t->bucket);
	} else {
		n = snprintf(t->base, sizeof(t->base), "https://%s.s3.%s.amazonaws.com", t->bucket,
			     t->region);
	}
	if (n >= (int)sizeof(t->base))
		return -ENAMETOOLONG;
	snprintf(t->display, sizeof(t->display), "s3://%s%s%s", t->bucket, t->prefix[0] ? "/" : "",
		 t->prefix);
	return 0;
}

int s3_key(const struct s3_target *t, const char *name, const char *rel, char *key, size_t len)
{
	int n;

	if (!rawcap_snapshot_name_ok(name))
		return -EINVAL;
	n = snprintf(key, len, "%s%s%s/%s", t->prefix, t->prefix[0] ? "/" : "", name, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

char *s3_url(const struct s3_target *t, const char *key, const char *query)
{
	char enc[3 * S3_KEY_MAX + 1];
	size_t len;
	char *url;

	if (s3_uri_encode(key ? key : "", true, enc, sizeof(enc)))
		return NULL;
	len = strlen(t->base) + strlen(enc) + (query ? strlen(query) : 0) + 3;
	url = malloc(len);
	if (url)
		snprintf(url, len, "%s/%s%s%s", t->base, enc, query ? "?" : "", query ? query : "");
	return url;
}
