/* SPDX-License-Identifier: MIT */
/*
 * transport.h - how kubectl-rawcap reaches each node's rawcap-server: the
 * one interface between the commands and the two ways in.
 *
 *   --endpoints NODE=URL,...  the URLs as given, with the TLS files of
 *                             --tls-ca/--tls-cert/--tls-key or the
 *                             bearer token of --token-file;
 *   default                   rawcap's pods found with `kubectl get pods`,
 *                             each reached through its own
 *                             `kubectl port-forward` on an ephemeral local
 *                             port (plain HTTP to 127.0.0.1).
 *
 * Either way the result is a list of nodes, sorted by name, each with a
 * base URL or the reason it cannot be reached. Commands never see which way
 * was used; transport_close() tears down whatever was set up (it is also
 * safe after a failed open, and is what runs on Ctrl-C and on errors).
 */
#ifndef RAWCAP_CLI_TRANSPORT_H
#define RAWCAP_CLI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "pem.h"

struct node {
	char *name;
	char *url;     /* base URL ("http://127.0.0.1:41234"), NULL if unreachable */
	char *pod;     /* the pod behind it (port-forward), or NULL */
	char why[512]; /* when url is NULL: why */
};

struct transport_ops;

struct transport {
	struct node *nodes; /* sorted by name */
	size_t n;
	/* for every request: TLS files, bearer token (NULL for none) */
	struct cli_pem tls_ca, tls_cert, tls_key;
	char *token;
	const struct transport_ops *ops;
	void *priv;
};

struct transport_ops {
	const char *name;
	/* Fill t->nodes; 0, or CLI_PARTIAL/CLI_USAGE after saying why on stderr. */
	int (*open)(struct transport *t, const struct cli *c);
	/* Called while requests run (at least every 200 ms): keep helpers serviced. */
	void (*tick)(struct transport *t);
	/* Why requests to node i fail, if the way in knows (e.g. its port-forward died). */
	const char *(*health)(struct transport *t, size_t i);
	void (*close)(struct transport *t);
};

extern const struct transport_ops transport_endpoints;
extern const struct transport_ops transport_kube;

/* Open the way the options ask for. 0, or an exit code after saying why. */
int transport_open(struct transport *t, const struct cli *c);
void transport_tick(struct transport *t);
const char *transport_health(struct transport *t, size_t i);
void transport_close(struct transport *t);

/* Helpers for the implementations. */
int transport_add_node(struct transport *t, const char *name, const char *url, const char *pod);
void transport_sort(struct transport *t);
/* Add a failed node for each --nodes name not found. */
int transport_add_missing(struct transport *t, const struct cli *c, const char *why);

#endif
