// SPDX-License-Identifier: MIT
/*
 * k8s_config.c - in-cluster and kubeconfig connection settings (k8s_config.h).
 *
 * The kubeconfig reader understands the block YAML that kubectl and kind
 * write: three top-level lists (clusters, contexts, users) of items whose
 * leaf keys are unique within the item, and current-context. It does not
 * try to be a YAML parser; anything it does not understand is ignored, and
 * a missing server or credential is reported by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s_config.h"
#include "safe_open.h"

#define KC_MAX_FILE  (1u << 20)
#define KC_MAX_ITEMS 64
#define KC_MAX_KEYS  24

struct kc_item {
	char *k[KC_MAX_KEYS], *v[KC_MAX_KEYS];
	int n;
};

enum kc_sec { KC_NONE = -1, KC_CLUSTERS, KC_CONTEXTS, KC_USERS, KC_NR };

struct kc {
	struct kc_item items[KC_NR][KC_MAX_ITEMS];
	int n[KC_NR];
	int item_indent[KC_NR];
	char *current;
};

int k8s_read_file(const char *path, size_t max, char **out, size_t *len, char *why,
		  size_t whylen)
{
	return safe_read_named(path, max, out, len, why, whylen);
}

static const char *kc_get(const struct kc_item *it, const char *key)
{
	for (int i = 0; i < it->n; i++)
		if (!strcmp(it->k[i], key))
			return it->v[i];
	return NULL;
}

static const struct kc_item *kc_find(const struct kc *kc, enum kc_sec sec, const char *name)
{
	for (int i = 0; i < kc->n[sec]; i++) {
		const char *n = kc_get(&kc->items[sec][i], "name");

		if (n && name && !strcmp(n, name))
			return &kc->items[sec][i];
	}
	return NULL;
}

static char *unquote(char *v)
{
	size_t n = strlen(v);

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\r' || v[n - 1] == '\t'))
		v[--n] = 0;
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = 0;
		return v + 1;
	}
	return v;
}

/* "key: value" into the current item (values only; nested maps are flattened). */
static void kc_pair(struct kc *kc, enum kc_sec sec, char *s)
{
	char *colon = strstr(s, ":");
	struct kc_item *it;
	char *v;

	if (sec == KC_NONE || !kc->n[sec] || !colon)
		return;
	*colon = 0;
	v = colon + 1;
	while (*v == ' ')
		v++;
	v = unquote(v);
	it = &kc->items[sec][kc->n[sec] - 1];
	if (!*v || it->n >= KC_MAX_KEYS)
		return;
	it->k[it->n] = unquote(s);
	it->v[it->n++] = v;
}

static void kc_line(struct kc *kc, enum kc_sec *sec, char *line)
{
	static const char *const names[KC_NR] = { "clusters:", "contexts:", "users:" };
	int indent = 0;
	char *s = line;

	while (*s == ' ')
		s++, indent++;
	if (!*s || *s == '#' || *s == '\r')
		return;
	if (indent == 0 && *s != '-') {
		*sec = KC_NONE;
		for (int i = 0; i < KC_NR; i++)
			if (!strncmp(s, names[i], strlen(names[i])))
				*sec = i;
		if (!strncmp(s, "current-context:", 16))
			kc->current = unquote(s + 16 + strspn(s + 16, " "));
		return;
	}
	if (*sec == KC_NONE)
		return;
	if (s[0] == '-' && (s[1] == ' ' || !s[1])) {
		if (kc->item_indent[*sec] < 0)
			kc->item_indent[*sec] = indent;
		if (indent != kc->item_indent[*sec])
			return; /* a list inside an item (exec args): not ours */
		if (kc->n[*sec] >= KC_MAX_ITEMS)
			return;
		kc->n[*sec]++;
		s += 1 + strspn(s + 1, " ");
	}
	kc_pair(kc, *sec, s);
}

static void kc_parse(struct kc *kc, char *text)
{
	enum kc_sec sec = KC_NONE;
	char *save = NULL;

	memset(kc, 0, sizeof(*kc));
	for (int i = 0; i < KC_NR; i++)
		kc->item_indent[i] = -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		kc_line(kc, &sec, line);
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int b64_decode(const char *s, void **out, size_t *len)
{
	uint8_t *buf = malloc(strlen(s) / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	if (!buf)
		return -ENOMEM;
	for (; *s && *s != '='; s++) {
		int v = b64_val((unsigned char)*s);

		if (v < 0) {
			free(buf);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

/* A path relative to the kubeconfig's directory, as kubectl resolves it. */
static char *kc_path(const char *kubeconfig, const char *p)
{
	const char *slash = strrchr(kubeconfig, '/');
	char *out;

	if (p[0] == '/' || !slash)
		return strdup(p);
	if (asprintf(&out, "%.*s/%s", (int)(slash - kubeconfig), kubeconfig, p) < 0)
		return NULL;
	return out;
}

static int kc_blob(const char *kubeconfig, const struct kc_item *it, const char *key,
		   struct k8s_blob *b)
{
	char data_key[64];
	const char *v;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	v = kc_get(it, data_key);
	if (v)
		return b64_decode(v, &b->data, &b->len);
	v = kc_get(it, key);
	if (v && !(b->file = kc_path(kubeconfig, v)))
		return -ENOMEM;
	return 0;
}

static int kc_user(const char *path, const struct kc_item *user, struct k8s_conn *c, char *err,
		   size_t errlen)
{
	const char *tok = kc_get(user, "token"), *tf = kc_get(user, "tokenFile");
	int r;

	if (kc_get(user, "command") || kc_get(user, "cmd-path") ||
	    kc_get(user, "idp-issuer-url")) {
		snprintf(err, errlen, "kubeconfig user uses an exec or auth-provider plugin, "
				      "which capd does not run; use a token or client certificate");
		return -ENOTSUP;
	}
	if (tok && !(c->token = strdup(tok)))
		return -ENOMEM;
	if (tf && !(c->token_file = kc_path(path, tf)))
		return -ENOMEM;
	r = kc_blob(path, user, "client-certificate", &c->cert);
	if (!r)
		r = kc_blob(path, user, "client-key", &c->key);
	if (r) {
		snprintf(err, errlen, "kubeconfig client certificate/key: %s", strerror(-r));
		return r;
	}
	return 0;
}

static int kc_resolve(const char *path, struct kc *kc, struct k8s_conn *c, char *err,
		      size_t errlen)
{
	const struct kc_item *ctx = kc->current ? kc_find(kc, KC_CONTEXTS, kc->current) : NULL;
	const struct kc_item *cl, *user;
	const char *server, *insecure;
	int r;

	if (!ctx && kc->n[KC_CONTEXTS])
		ctx = &kc->items[KC_CONTEXTS][0];
	cl = ctx ? kc_find(kc, KC_CLUSTERS, kc_get(ctx, "cluster")) : &kc->items[KC_CLUSTERS][0];
	user = ctx ? kc_find(kc, KC_USERS, kc_get(ctx, "user")) : NULL;
	server = cl ? kc_get(cl, "server") : NULL;
	if (!server || strlen(server) >= sizeof(c->server)) {
		snprintf(err, errlen, "kubeconfig %s: no usable cluster server for context %s", path,
			 kc->current ? kc->current : "(none)");
		return -EINVAL;
	}
	snprintf(c->server, sizeof(c->server), "%s", server);
	insecure = kc_get(cl, "insecure-skip-tls-verify");
	c->insecure = insecure && !strcmp(insecure, "true");
	r = kc_blob(path, cl, "certificate-authority", &c->ca);
	if (r) {
		snprintf(err, errlen, "kubeconfig certificate-authority: %s", strerror(-r));
		return r;
	}
	return user ? kc_user(path, user, c, err, errlen) : 0;
}

static int conn_kubeconfig(const char *path, struct k8s_conn *c, char *err, size_t errlen)
{
	struct kc *kc = malloc(sizeof(*kc));
	char *text, why[128];
	int r;

	if (!kc)
		return -ENOMEM;
	r = k8s_read_file(path, KC_MAX_FILE, &text, NULL, why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "cannot read kubeconfig %s: %s", path, why);
		free(kc);
		return r;
	}
	kc_parse(kc, text);
	r = kc_resolve(path, kc, c, err, errlen);
	free(text);
	free(kc);
	return r;
}

static int conn_in_cluster(const char *sa_dir, struct k8s_conn *c, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");

	if (!host || !*host) {
		snprintf(err, errlen, "not in a cluster (KUBERNETES_SERVICE_HOST unset) "
				      "and no kubeconfig given");
		return -ENOENT;
	}
	/* an IPv6 service host needs brackets in a URL */
	snprintf(c->server, sizeof(c->server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		 host, port && *port ? port : "443");
	if (asprintf(&c->token_file, "%s/token", sa_dir) < 0 ||
	    asprintf(&c->ca.file, "%s/ca.crt", sa_dir) < 0)
		return -ENOMEM;
	k8s_conn_refresh_token(c);
	if (!c->token) {
		snprintf(err, errlen, "cannot read service-account token %s", c->token_file);
		return -EACCES;
	}
	return 0;
}

void k8s_conn_refresh_token(struct k8s_conn *c)
{
	char *tok;
	size_t len;

	if (!c->token_file || k8s_read_file(c->token_file, 64 * 1024, &tok, &len, NULL, 0))
		return;
	while (len && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
		tok[--len] = 0;
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = tok;
}

/* Read a PEM file into memory now, while capd may still read root-only files. */
static int blob_load(struct k8s_blob *b, const char *what, char *err, size_t errlen)
{
	char *data, why[128];
	size_t len;
	int r;

	if (!b->file)
		return 0;
	r = k8s_read_file(b->file, KC_MAX_FILE, &data, &len, why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, b->file, why);
		return r;
	}
	free(b->file);
	b->file = NULL;
	b->data = data;
	b->len = len;
	return 0;
}

int k8s_conn_resolve(const char *kubeconfig, const char *sa_dir, const char *node,
		     struct k8s_conn *c, char *err, size_t errlen)
{
	int r;

	memset(c, 0, sizeof(*c));
	if (!node)
		node = getenv("NODE_NAME");
	if (!node || !*node || strlen(node) >= sizeof(c->node)) {
		snprintf(err, errlen, "node name unknown: set NODE_NAME (downward API "
				      "spec.nodeName) or pass the node name");
		return -EINVAL;
	}
	snprintf(c->node, sizeof(c->node), "%s", node);
	if (kubeconfig)
		r = conn_kubeconfig(kubeconfig, c, err, errlen);
	else
		r = conn_in_cluster(sa_dir ? sa_dir : K8S_SA_DIR, c, err, errlen);
	if (!r)
		r = blob_load(&c->ca, "CA certificate", err, errlen);
	if (!r)
		r = blob_load(&c->cert, "client certificate", err, errlen);
	if (!r)
		r = blob_load(&c->key, "client key", err, errlen);
	if (r)
		k8s_conn_free(c);
	return r;
}

static void blob_free(struct k8s_blob *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	free(b->data);
	free(b->file);
	memset(b, 0, sizeof(*b));
}

void k8s_conn_free(struct k8s_conn *c)
{
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	blob_free(&c->ca);
	blob_free(&c->cert);
	blob_free(&c->key);
	c->token = c->token_file = NULL;
}
