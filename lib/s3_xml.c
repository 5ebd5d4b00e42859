// SPDX-License-Identifier: MIT
/*
 * s3_xml.c - read the XML that S3 and STS answer with, through libxml2.
 *
 * Documents are bounded (S3_XML_MAX) before they get here; libxml2 parses
 * them with the network off and no entity substitution, and a document with
 * a DOCTYPE is refused outright (S3 never sends one, and it is how entity
 * expansion attacks start). Elements are matched by local name, so the S3
 * namespace may be there or not. Every value is checked (length, digits)
 * before it is used: a server is as untrusted as any other input. Fuzzed by
 * tests/fuzz/fuzz_s3.c.
 *
 * Formats: https://docs.aws.amazon.com/AmazonS3/latest/API/ (ListObjectsV2,
 * ListMultipartUploads, CreateMultipartUpload, CompleteMultipartUpload,
 * ErrorResponses) and https://docs.aws.amazon.com/STS/latest/APIReference/
 * API_AssumeRoleWithWebIdentity.html.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "s3_int.h"

#define SECRET_MAX 8192 /* session tokens are 1-2 KB */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static xmlDocPtr xml_read(const char *buf, size_t len, const char *root_name, xmlNodePtr *root)
{
	xmlDocPtr d;

	pthread_once(&xml_once, xml_init);
	if (!buf || !len || len > S3_XML_MAX)
		return NULL;
	d = xmlReadMemory(buf, (int)len, NULL, NULL,
			  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!d)
		return NULL;
	*root = xmlDocGetRootElement(d);
	if (d->intSubset || !*root || (root_name && xmlStrcmp((*root)->name, BAD_CAST root_name))) {
		xmlFreeDoc(d);
		return NULL;
	}
	return d;
}

static bool is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST name);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}

/* Text of n into out; -EPROTO if absent or longer than len - 1 (unless truncate). */
static int text(xmlNodePtr n, char *out, size_t len, bool truncate)
{
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	size_t l;

	if (!v)
		return -EPROTO;
	l = strlen((const char *)v);
	if (l >= len && !truncate) {
		xmlFree(v);
		return -EPROTO;
	}
	if (l >= len)
		l = len - 1;
	memcpy(out, v, l);
	out[l] = '\0';
	xmlFree(v);
	return 0;
}

static int text_dup(xmlNodePtr n, size_t max, char **out)
{
	char *buf = malloc(max);
	int err;

	if (!buf)
		return -ENOMEM;
	err = text(n, buf, max, false);
	if (err || !buf[0]) {
		explicit_bzero(buf, max);
		free(buf);
		return -EPROTO;
	}
	*out = strdup(buf);
	explicit_bzero(buf, max);
	free(buf);
	return *out ? 0 : -ENOMEM;
}

static int u64(xmlNodePtr n, uint64_t *v)
{
	char s[32], *end;

	if (text(n, s, sizeof(s), false) || s[0] < '0' || s[0] > '9')
		return -EPROTO;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EPROTO : 0;
}

static int boolean(xmlNodePtr n, bool *v)
{
	char s[8];

	*v = false;
	if (!n)
		return 0;
	if (text(n, s, sizeof(s), false))
		return -EPROTO;
	if (!strcmp(s, "true"))
		*v = true;
	else if (strcmp(s, "false"))
		return -EPROTO;
	return 0;
}

int s3_xml_error(const char *buf, size_t len, struct s3_xml_error *e)
{
	xmlNodePtr root, err;
	xmlDocPtr d = xml_read(buf, len, NULL, &root);

	e->code[0] = e->message[0] = '\0';
	if (!d)
		return -EPROTO;
	err = is_elem(root, "Error")	       ? root
	      : is_elem(root, "ErrorResponse") ? child(root, "Error")
					       : NULL;
	if (err) {
		text(child(err, "Code"), e->code, sizeof(e->code), true);
		text(child(err, "Message"), e->message, sizeof(e->message), true);
	}
	xmlFreeDoc(d);
	return err ? 0 : -EPROTO;
}

int s3_xml_list(const char *buf, size_t len, int (*cb)(void *arg, const char *key, uint64_t size),
		void *arg, char *next_token, size_t tokenlen)
{
	char key[S3_KEY_MAX];
	xmlNodePtr root;
	xmlDocPtr d = xml_read(buf, len, "ListBucketResult", &root);
	bool truncated;
	int err;

	next_token[0] = '\0';
	if (!d)
		return -EPROTO;
	err = boolean(child(root, "IsTruncated"), &truncated);
	if (!err && truncated &&
	    (text(child(root, "NextContinuationToken"), next_token, tokenlen, false) ||
	     !next_token[0]))
		err = -EPROTO;
	for (xmlNodePtr c = root->children; c && !err; c = c->next) {
		uint64_t size;

		if (!is_elem(c, "Contents"))
			continue;
		if (text(child(c, "Key"), key, sizeof(key), false) || !key[0] ||
		    u64(child(c, "Size"), &size))
			err = -EPROTO;
		else
			err = cb(arg, key, size);
	}
	xmlFreeDoc(d);
	return err;
}

int s3_xml_uploads(const char *buf, size_t len,
		   int (*cb)(void *arg, const char *key, const char *upload_id), void *arg,
		   bool *truncated, char *next_key, char *next_id, size_t markerlen)
{
	char key[S3_KEY_MAX], id[1024];
	xmlNodePtr root;
	xmlDocPtr d = xml_read(buf, len, "ListMultipartUploadsResult", &root);
	int err;

	next_key[0] = next_id[0] = '\0';
	if (!d)
		return -EPROTO;
	err = boolean(child(root, "IsTruncated"), truncated);
	if (!err && *truncated &&
	    (text(child(root, "NextKeyMarker"), next_key, markerlen, false) ||
	     text(child(root, "NextUploadIdMarker"), next_id, markerlen, false) || !next_key[0]))
		err = -EPROTO;
	for (xmlNodePtr c = root->children; c && !err; c = c->next) {
		if (!is_elem(c, "Upload"))
			continue;
		if (text(child(c, "Key"), key, sizeof(key), false) ||
		    text(child(c, "UploadId"), id, sizeof(id), false) || !key[0] || !id[0])
			err = -EPROTO;
		else
			err = cb(arg, key, id);
	}
	xmlFreeDoc(d);
	return err;
}

int s3_xml_upload_id(const char *buf, size_t len, char *id, size_t idlen)
{
	xmlNodePtr root;
	xmlDocPtr d = xml_read(buf, len, "InitiateMultipartUploadResult", &root);
	int err;

	if (!d)
		return -EPROTO;
	err = text(child(root, "UploadId"), id, idlen, false);
	if (!err && !id[0])
		err = -EPROTO;
	for (const char *p = id; !err && *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			err = -EPROTO;
	xmlFreeDoc(d);
	return err;
}

int s3_xml_complete(const char *buf, size_t len, struct s3_xml_error *e)
{
	xmlNodePtr root;
	xmlDocPtr d = xml_read(buf, len, NULL, &root);
	int err = -EPROTO;

	e->code[0] = e->message[0] = '\0';
	if (!d)
		return err;
	if (is_elem(root, "CompleteMultipartUploadResult")) {
		err = 0;
	} else if (is_elem(root, "Error")) {
		text(child(root, "Code"), e->code, sizeof(e->code), true);
		text(child(root, "Message"), e->message, sizeof(e->message), true);
		err = -EIO;
	}
	xmlFreeDoc(d);
	return err;
}

/* ISO 8601 UTC, "2026-11-30T08:50:00Z" with optional fractional seconds. */
static int iso8601(const char *s, time_t *out)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!p)
		return -EPROTO;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (strcmp(p, "Z"))
		return -EPROTO;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -EPROTO : 0;
}

int s3_xml_sts(const char *buf, size_t len, struct s3_creds *c)
{
	xmlNodePtr root, cr;
	xmlDocPtr d = xml_read(buf, len, "AssumeRoleWithWebIdentityResponse", &root);
	char exp[64];
	int err;

	if (!d)
		return -EPROTO;
	cr = child(child(root, "AssumeRoleWithWebIdentityResult"), "Credentials");
	err = text_dup(child(cr, "AccessKeyId"), 256, &c->access_key);
	if (!err)
		err = text_dup(child(cr, "SecretAccessKey"), SECRET_MAX, &c->secret_key);
	if (!err)
		err = text_dup(child(cr, "SessionToken"), SECRET_MAX, &c->session_token);
	if (!err &&
	    (text(child(cr, "Expiration"), exp, sizeof(exp), false) || iso8601(exp, &c->expires)))
		err = -EPROTO;
	xmlFreeDoc(d);
	return err;
}
