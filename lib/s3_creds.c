// SPDX-License-Identifier: MIT
/*
 * s3_creds.c - find AWS credentials the way the AWS SDKs do (rawcap/s3.h
 * lists the order): explicit, environment, web identity through STS
 * AssumeRoleWithWebIdentity (EKS IRSA), shared credentials file.
 *
 * The shared credentials file is parsed here rather than with inih: session
 * tokens are lines of 1-2 KB, beyond the 200-byte lines Debian's libinih is
 * built for. The parser is strict and bounded, and fuzzed (fuzz_s3).
 *
 * Secrets live only in struct s3_creds, are wiped when freed, and
 * s3_creds_redact() scrubs them from any text we are about to show.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "s3_int.h"
#include "safe_open.h"

#define CREDS_FILE_MAX (1u << 20)
#define WEB_TOKEN_MAX  (64u << 10)
#define STS_DURATION   3600
#define REFRESH_BEFORE 300 /* seconds before expiry */

static void wipe(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void s3_creds_free(struct s3_creds *c)
{
	wipe(&c->access_key);
	wipe(&c->secret_key);
	wipe(&c->session_token);
	wipe(&c->web_token);
	free(c->role_arn);
	free(c->token_file);
	free(c->sts_endpoint);
	free(c->session_name);
	s3_ca_free(&c->ca);
	memset(c, 0, sizeof(*c));
}

static void redact_one(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 4)
		return;
	while ((p = strstr(s, secret))) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

void s3_creds_redact(const struct s3_creds *c, char *s)
{
	redact_one(s, c->secret_key);
	redact_one(s, c->session_token);
	redact_one(s, c->web_token);
}

#define CA_FILE_MAX (4u << 20) /* a CA bundle larger than this is refused */

int s3_ca_load(struct s3_ca *ca, const char *path, char *errbuf, size_t errlen)
{
	char why[128];
	int err;

	memset(ca, 0, sizeof(*ca));
	if (!path)
		return 0;
	err = safe_read_named(path, CA_FILE_MAX, &ca->pem, &ca->len, why, sizeof(why));
	if (err)
		snprintf(errbuf, errlen, "CA file %s: %s", path, why);
	return err;
}

void s3_ca_set(CURL *h, const struct s3_ca *ca)
{
	struct curl_blob b = {.data = ca->pem, .len = ca->len, .flags = CURL_BLOB_COPY};

	if (ca->pem)
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
}

void s3_ca_free(struct s3_ca *ca)
{
	free(ca->pem);
	memset(ca, 0, sizeof(*ca));
}

static char *trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

static int set_dup(char **dst, const char *v)
{
	char *d = strdup(v);

	if (!d)
		return -ENOMEM;
	wipe(dst);
	*dst = d;
	return 0;
}

/* One "key = value" line of the selected profile. */
static int creds_line(struct s3_creds *c, char *line)
{
	char *eq = strchr(line, '='), *k, *v;

	if (!eq)
		return -EBADMSG;
	k = trim(line, eq);
	v = trim(eq + 1, eq + 1 + strlen(eq + 1));
	if (!*k)
		return -EBADMSG;
	if (!strcasecmp(k, "aws_access_key_id"))
		return set_dup(&c->access_key, v);
	if (!strcasecmp(k, "aws_secret_access_key"))
		return set_dup(&c->secret_key, v);
	if (!strcasecmp(k, "aws_session_token"))
		return set_dup(&c->session_token, v);
	return 0;
}

int s3_creds_parse_file(const char *text, size_t len, const char *profile, struct s3_creds *c)
{
	char *buf, *p, *end;
	bool in = false, found = false;
	int err = 0;

	if (len > CREDS_FILE_MAX || memchr(text, '\0', len))
		return -EBADMSG;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (p = buf; !err && p < buf + len; p = end + 1) {
		char *line;

		end = strchr(p, '\n');
		if (!end)
			end = buf + len;
		line = trim(p, end);
		if (!*line || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			size_t n = strlen(line);
			char *name;

			if (n < 3 || line[n - 1] != ']') {
				err = -EBADMSG;
				break;
			}
			name = trim(line + 1, line + n - 1);
			if (!strncmp(name, "profile ", 8))
				name = trim(name + 8, name + strlen(name));
			in = !strcmp(name, profile);
			found |= in;
			continue;
		}
		if (!strchr(line, '='))
			err = -EBADMSG;
		else if (in)
			err = creds_line(c, line);
	}
	explicit_bzero(buf, len);
	free(buf);
	if (err)
		return err;
	return found ? 0 : -ENOENT;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Bounded response body for the STS call. */
struct sts_buf {
	char *p;
	size_t len;
};

static size_t sts_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sts_buf *b = arg;
	size_t n = size * nmemb;
	char *np;

	if (b->len + n > S3_XML_MAX)
		return 0;
	np = realloc(b->p, b->len + n + 1);
	if (!np)
		return 0;
	memcpy(np + b->len, data, n);
	b->p = np;
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static char *form_body(CURL *h, const struct s3_creds *c, const char *token)
{
	char *arn = curl_easy_escape(h, c->role_arn, 0);
	char *sess = curl_easy_escape(h, c->session_name, 0);
	char *tok = curl_easy_escape(h, token, 0);
	char *body = NULL;

	if (arn && sess && tok &&
	    asprintf(&body,
		     "Action=AssumeRoleWithWebIdentity&DurationSeconds=%d&RoleArn=%s"
		     "&RoleSessionName=%s&Version=2011-06-15&WebIdentityToken=%s",
		     STS_DURATION, arn, sess, tok) < 0)
		body = NULL;
	curl_free(arn);
	curl_free(sess);
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		curl_free(tok);
	}
	return body;
}

/* AssumeRoleWithWebIdentity: the token is the authentication, so the request is not signed. */
static int sts_assume(struct s3_creds *c, char *errbuf, size_t errlen)
{
	struct s3_creds got = {0};
	struct sts_buf resp = {0};
	char *token = NULL, *body = NULL, cerr[CURL_ERROR_SIZE] = "", why[128];
	size_t tlen;
	long status = 0;
	CURL *h = NULL;
	CURLcode rc;
	int err;

	err = safe_read_named(c->token_file, WEB_TOKEN_MAX, &token, &tlen, why, sizeof(why));
	if (err) {
		snprintf(errbuf, errlen, "web identity token %s: %s", c->token_file, why);
		return err == -ENOENT ? -ENOKEY : err;
	}
	trim(token, token + tlen);
	err = set_dup(&c->web_token, token);
	h = curl_easy_init();
	body = h && !err ? form_body(h, c, token) : NULL;
	explicit_bzero(token, tlen);
	free(token);
	if (!body) {
		curl_easy_cleanup(h);
		snprintf(errbuf, errlen, "STS request: out of memory");
		return -ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_URL, c->sts_endpoint);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sts_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	s3_ca_set(h, &c->ca);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	explicit_bzero(body, strlen(body));
	free(body);
	if (rc != CURLE_OK) {
		snprintf(errbuf, errlen, "STS %s: %s", c->sts_endpoint,
			 cerr[0] ? cerr : curl_easy_strerror(rc));
		err = -EIO;
	} else if (status != 200) {
		struct s3_xml_error e = {"", ""};

		s3_xml_error(resp.p, resp.len, &e);
		snprintf(errbuf, errlen,
			 "STS AssumeRoleWithWebIdentity for %s refused (HTTP %ld)%s%s%s%s",
			 c->role_arn, status, e.code[0] ? ": " : "", e.code,
			 e.message[0] ? ": " : "", e.message);
		err = status == 403 || status == 400 ? -EACCES : -EIO;
	} else if ((err = s3_xml_sts(resp.p, resp.len, &got))) {
		snprintf(errbuf, errlen, "STS %s: malformed AssumeRoleWithWebIdentity response",
			 c->sts_endpoint);
	} else {
		wipe(&c->access_key);
		wipe(&c->secret_key);
		wipe(&c->session_token);
		c->access_key = got.access_key;
		c->secret_key = got.secret_key;
		c->session_token = got.session_token;
		c->expires = got.expires ? got.expires : time(NULL) + STS_DURATION;
		got.access_key = got.secret_key = got.session_token = NULL;
	}
	s3_creds_free(&got);
	if (resp.p)
		explicit_bzero(resp.p, resp.len);
	free(resp.p);
	s3_creds_redact(c, errbuf);
	return err;
}

int s3_creds_refresh(struct s3_creds *c, char *errbuf, size_t errlen)
{
	if (!c->role_arn || !c->expires || time(NULL) + REFRESH_BEFORE < c->expires)
		return 0;
	return sts_assume(c, errbuf, errlen);
}

static int from_web_identity(struct s3_creds *c, const struct rawcap_s3_opts *o, const char *region,
			     char *errbuf, size_t errlen)
{
	const char *sts =
		env("AWS_ENDPOINT_URL_STS") ? env("AWS_ENDPOINT_URL_STS") : env("AWS_ENDPOINT_URL");
	const char *sess = env("AWS_ROLE_SESSION_NAME");
	int err = 0;

	c->role_arn = strdup(env("AWS_ROLE_ARN"));
	c->token_file = strdup(env("AWS_WEB_IDENTITY_TOKEN_FILE"));
	if (sts)
		c->sts_endpoint = strdup(sts);
	else if (asprintf(&c->sts_endpoint, "https://sts.%s.amazonaws.com", region) < 0)
		c->sts_endpoint = NULL;
	if (sess)
		c->session_name = strdup(sess);
	else if (asprintf(&c->session_name, "rawcap-%ld", (long)time(NULL)) < 0)
		c->session_name = NULL;
	if (!c->role_arn || !c->token_file || !c->sts_endpoint || !c->session_name)
		err = -ENOMEM;
	if (err) {
		snprintf(errbuf, errlen, "out of memory");
		return err;
	}
	err = s3_ca_load(&c->ca, o->ca_file, errbuf, errlen);
	if (err)
		return err;
	return sts_assume(c, errbuf, errlen);
}

static int from_file(struct s3_creds *c, const struct rawcap_s3_opts *o, char *errbuf,
		     size_t errlen)
{
	const char *path = env("AWS_SHARED_CREDENTIALS_FILE");
	const char *profile = o->profile ? o->profile : env("AWS_PROFILE");
	bool explicit_file = path != NULL, explicit_profile = profile != NULL;
	char home[4096], *text, why[128];
	size_t len;
	int err;

	if (!path) {
		if (!env("HOME"))
			return -ENOKEY;
		snprintf(home, sizeof(home), "%s/.aws/credentials", env("HOME"));
		path = home;
	}
	profile = profile ? profile : "default";
	err = safe_read_named(path, CREDS_FILE_MAX, &text, &len, why, sizeof(why));
	if (err) {
		if (!explicit_file && err == -ENOENT && !explicit_profile)
			return -ENOKEY;
		snprintf(errbuf, errlen, "credentials file %s: %s", path, why);
		return err == -ENOENT ? -ENOKEY : err;
	}
	err = s3_creds_parse_file(text, len, profile, c);
	explicit_bzero(text, len);
	free(text);
	if (err == -ENOENT) {
		snprintf(errbuf, errlen, "credentials file %s has no profile [%s]", path, profile);
		return -ENOKEY;
	}
	if (err == -EBADMSG) {
		snprintf(errbuf, errlen,
			 "credentials file %s: malformed (want [profile] lines and key = value)",
			 path);
		return err;
	}
	if (!err && (!c->access_key || !c->secret_key)) {
		snprintf(errbuf, errlen,
			 "credentials file %s: profile [%s] lacks aws_access_key_id or "
			 "aws_secret_access_key",
			 path, profile);
		return -ENOKEY;
	}
	return err;
}

static int from_values(struct s3_creds *c, const char *ak, const char *sk, const char *tok)
{
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok ? strdup(tok) : NULL;
	return !c->access_key || !c->secret_key || (tok && !c->session_token) ? -ENOMEM : 0;
}

int s3_creds_resolve(struct s3_creds *c, const struct rawcap_s3_opts *o, const char *region,
		     char *errbuf, size_t errlen)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
	int err;

	memset(c, 0, sizeof(*c));
	errbuf[0] = '\0';
	if (o->access_key || o->secret_key) {
		if (!o->access_key || !o->secret_key) {
			snprintf(errbuf, errlen,
				 "an access key needs its secret key, and the reverse");
			return -EINVAL;
		}
		return from_values(c, o->access_key, o->secret_key, o->session_token);
	}
	if (ak || sk) {
		if (!ak || !sk) {
			snprintf(errbuf, errlen, "%s is set but %s is not",
				 ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				 ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
			return -ENOKEY;
		}
		return from_values(c, ak, sk, env("AWS_SESSION_TOKEN"));
	}
	if (env("AWS_WEB_IDENTITY_TOKEN_FILE") && env("AWS_ROLE_ARN"))
		return from_web_identity(c, o, region, errbuf, errlen);
	err = from_file(c, o, errbuf, errlen);
	if (err == -ENOKEY && !errbuf[0])
		snprintf(errbuf, errlen,
			 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
			 "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or a profile in "
			 "AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)");
	return err;
}
