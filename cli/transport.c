// SPDX-License-Identifier: MIT
/*
 * transport.c - the node list both ways in share, and the direct way in:
 * --endpoints NODE=URL,... with TLS client certificates or a bearer token.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safe_open.h"
#include "transport.h"

#define TOKEN_MAX 4096

int transport_add_node(struct transport *t, const char *name, const char *url, const char *pod)
{
	struct node *n = realloc(t->nodes, (t->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	t->nodes = n;
	n = &t->nodes[t->n];
	memset(n, 0, sizeof(*n));
	n->name = strdup(name);
	n->url = url ? strdup(url) : NULL;
	n->pod = pod ? strdup(pod) : NULL;
	if (!n->name || (url && !n->url) || (pod && !n->pod)) {
		free(n->name);
		free(n->url);
		free(n->pod);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->name, ((const struct node *)b)->name);
}

void transport_sort(struct transport *t)
{
	if (t->n > 1)
		qsort(t->nodes, t->n, sizeof(*t->nodes), by_name);
}

int transport_add_missing(struct transport *t, const struct cli *c, const char *why)
{
	char names[256][254];
	size_t n = cli_nodes_list(c, names, 256);

	for (size_t i = 0; i < n && i < 256; i++) {
		bool found = false;

		for (size_t j = 0; j < t->n && !found; j++)
			found = !strcmp(t->nodes[j].name, names[i]);
		if (found)
			continue;
		if (transport_add_node(t, names[i], NULL, NULL))
			return -ENOMEM;
		snprintf(t->nodes[t->n - 1].why, sizeof(t->nodes[0].why), "%s", why);
	}
	return 0;
}

/* ---- --endpoints ---- */

static int read_token(const char *path, char **out)
{
	char *buf, why[128];
	size_t len;

	if (safe_read_named(path, TOKEN_MAX, &buf, &len, why, sizeof(why))) {
		fprintf(stderr, PROG ": --token-file %s: %s\n", path, why);
		return CLI_USAGE;
	}
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (!isgraph((unsigned char)buf[i])) {
			fprintf(stderr,
				PROG ": --token-file %s: the token holds a space or a "
				     "control character\n",
				path);
			explicit_bzero(buf, len);
			free(buf);
			return CLI_USAGE;
		}
	}
	if (!len) {
		fprintf(stderr, PROG ": --token-file %s: empty\n", path);
		free(buf);
		return CLI_USAGE;
	}
	*out = buf;
	return 0;
}

static int load_pem(const char *opt, const char *path, struct cli_pem *out)
{
	char why[128];

	if (!cli_pem_load(path, out, why, sizeof(why)))
		return 0;
	fprintf(stderr, PROG ": %s %s: %s\n", opt, path, why);
	return CLI_USAGE;
}

/* One NODE=URL item: a node name and an http(s) URL with a host. */
static int add_endpoint(struct transport *t, const struct cli *c, char *item)
{
	char *eq = strchr(item, '='), *url;
	size_t len;
	bool https;

	if (!eq)
		return cli_usage_error("--endpoints item is not NODE=URL", item);
	*eq = '\0';
	url = eq + 1;
	if (!cli_node_name_ok(item))
		return cli_usage_error(
			"--endpoints: not a node name (lower case, digits, '-', '.')", item);
	https = !strncmp(url, "https://", 8);
	if (!https && strncmp(url, "http://", 7))
		return cli_usage_error("--endpoints: URL must start with http:// or https://", url);
	if (!url[https ? 8 : 7] || url[https ? 8 : 7] == '/')
		return cli_usage_error("--endpoints: URL without a host", url);
	if (c->token_file && !https)
		return cli_usage_error("--token-file: the token is sent over https:// only", url);
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->nodes[i].name, item))
			return cli_usage_error("--endpoints names a node twice", item);
	len = strlen(url);
	while (len > 8 && url[len - 1] == '/')
		url[--len] = '\0';
	if (!cli_node_wanted(c, item))
		return 0;
	return transport_add_node(t, item, url, NULL) ? CLI_PARTIAL : 0;
}

static int endpoints_open(struct transport *t, const struct cli *c)
{
	char *list = strdup(c->endpoints), *save = NULL;
	int err = 0;

	if (!list)
		return CLI_PARTIAL;
	for (char *item = strtok_r(list, ",", &save); item && !err;
	     item = strtok_r(NULL, ",", &save))
		err = add_endpoint(t, c, item);
	free(list);
	if (!err && !t->n && !c->nodes)
		err = cli_usage_error("--endpoints names no node", c->endpoints);
	if (!err && c->token_file)
		err = read_token(c->token_file, &t->token);
	if (!err && transport_add_missing(t, c, "not among --endpoints"))
		err = CLI_PARTIAL;
	if (!err)
		err = load_pem("--tls-ca", c->tls_ca, &t->tls_ca) ?:
		      load_pem("--tls-cert", c->tls_cert, &t->tls_cert) ?:
		      load_pem("--tls-key", c->tls_key, &t->tls_key);
	return err;
}

static void endpoints_close(struct transport *t)
{
	(void)t;
}

const struct transport_ops transport_endpoints = {
	.name = "endpoints",
	.open = endpoints_open,
	.close = endpoints_close,
};

/* ---- dispatch ---- */

int transport_open(struct transport *t, const struct cli *c)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->ops = c->endpoints ? &transport_endpoints : &transport_kube;
	err = t->ops->open(t, c);
	transport_sort(t);
	return err;
}

void transport_tick(struct transport *t)
{
	if (t->ops && t->ops->tick)
		t->ops->tick(t);
}

const char *transport_health(struct transport *t, size_t i)
{
	return t->ops && t->ops->health ? t->ops->health(t, i) : NULL;
}

void transport_close(struct transport *t)
{
	if (t->ops)
		t->ops->close(t);
	for (size_t i = 0; i < t->n; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].url);
		free(t->nodes[i].pod);
	}
	free(t->nodes);
	cli_pem_free(&t->tls_ca);
	cli_pem_free(&t->tls_cert);
	cli_pem_free(&t->tls_key);
	if (t->token) {
		explicit_bzero(t->token, strlen(t->token));
		free(t->token);
	}
	memset(t, 0, sizeof(*t));
}
