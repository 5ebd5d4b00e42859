/* SPDX-License-Identifier: MIT */
/*
 * cli.h - kubectl-rawcap's shared state: the options every command takes
 * (how to reach the nodes), the exit codes, and the helpers the commands
 * share (usage errors, per-node reports, progress).
 */
#ifndef RAWCAP_CLI_CLI_H
#define RAWCAP_CLI_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROG "kubectl-rawcap"

enum cli_exit {
	CLI_OK = 0,	 /* complete */
	CLI_PARTIAL = 1, /* a node failed, part of a window is missing, or the command failed */
	CLI_USAGE = 2,	 /* bad command line */
};

#define CLI_DEFAULT_NAMESPACE "rawcap"
#define CLI_DEFAULT_SELECTOR  "app.kubernetes.io/name=rawcap"
#define CLI_DEFAULT_PORT      9470	   /* rawcap-server's default --listen port */
#define CLI_PORT_NAME	      "rawcap-api" /* a container port by this name overrides it */

/* Options that say how to reach the nodes; every command takes them. */
struct cli {
	const char *endpoints; /* --endpoints NODE=URL,...: direct, no kubectl */
	const char *tls_ca, *tls_cert, *tls_key, *token_file;
	const char *namespace; /* where rawcap runs (kubectl's -n) */
	const char *selector;  /* label selector of rawcap's pods */
	const char *nodes;     /* --nodes a,b: only these */
	const char *kubectl;   /* the kubectl binary */
	const char *kubeconfig, *context;
	unsigned port;	    /* rawcap-server's port in the pod */
	unsigned timeout_s; /* per request without a body stream, and stall limit */
	bool quiet;
	bool progress; /* stderr is a terminal and not --quiet */
	volatile sig_atomic_t *stop;
};

/* Long options every command accepts; their codes start at CLI_OPT_BASE. */
enum {
	CLI_OPT_BASE = 0x100,
	CLI_OPT_ENDPOINTS = CLI_OPT_BASE,
	CLI_OPT_TLS_CA,
	CLI_OPT_TLS_CERT,
	CLI_OPT_TLS_KEY,
	CLI_OPT_TOKEN_FILE,
	CLI_OPT_NODES,
	CLI_OPT_KUBECTL,
	CLI_OPT_KUBECONFIG,
	CLI_OPT_CONTEXT,
	CLI_OPT_PORT,
	CLI_OPT_TIMEOUT,
	CLI_OPT_LAST_GLOBAL,
};

#define CLI_GLOBAL_SHORTOPTS "qh"
#define CLI_GLOBAL_LONGOPTS                                                                        \
	{"endpoints", required_argument, NULL, CLI_OPT_ENDPOINTS},                                 \
		{"tls-ca", required_argument, NULL, CLI_OPT_TLS_CA},                               \
		{"tls-cert", required_argument, NULL, CLI_OPT_TLS_CERT},                           \
		{"tls-key", required_argument, NULL, CLI_OPT_TLS_KEY},                             \
		{"token-file", required_argument, NULL, CLI_OPT_TOKEN_FILE},                       \
		{"rawcap-namespace", required_argument, NULL, 'n'},                                \
		{"selector", required_argument, NULL, 'l'},                                        \
		{"nodes", required_argument, NULL, CLI_OPT_NODES},                                 \
		{"kubectl", required_argument, NULL, CLI_OPT_KUBECTL},                             \
		{"kubeconfig", required_argument, NULL, CLI_OPT_KUBECONFIG},                       \
		{"context", required_argument, NULL, CLI_OPT_CONTEXT},                             \
		{"port", required_argument, NULL, CLI_OPT_PORT},                                   \
		{"request-timeout", required_argument, NULL, CLI_OPT_TIMEOUT},                     \
		{"quiet", no_argument, NULL, 'q'},                                                 \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

/* The text of the options above, for every command's --help. */
extern const char cli_global_help[];

void cli_init(struct cli *c, volatile sig_atomic_t *stop);
/*
 * Handle a global option: 1 if it was one, 0 if not, CLI_USAGE negated
 * (-2) after printing why it is bad. -h prints help (the command's text)
 * and exits 0.
 */
int cli_global_opt(struct cli *c, int opt, const char *arg, void (*help)(FILE *));
/* After parsing: check combinations; 0 or CLI_USAGE. */
int cli_global_check(struct cli *c);
/* Print "kubectl-rawcap: what: arg (see --help)" and return CLI_USAGE. */
int cli_usage_error(const char *what, const char *arg);
/* Whether node name is among --nodes (or there is no --nodes). */
bool cli_node_wanted(const struct cli *c, const char *name);
/* Each name of --nodes, for naming the ones that were not found: n names into out. */
size_t cli_nodes_list(const struct cli *c, char out[][254], size_t cap);
/* A node name as Kubernetes allows it (DNS subdomain, at most 253 bytes). */
bool cli_node_name_ok(const char *name);
/* Copy an untrusted string for a terminal: control characters become '?', cut to cap. */
void cli_clean(char *dst, size_t cap, const char *s);
/* Monotonic clock, nanoseconds. */
uint64_t cli_mono_ns(void);

/* Commands: each parses its own arguments (argv[0] is the command's name). */
int cmd_bounds(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_snapshot(struct cli *c, int argc, char **argv);
int cmd_dissection(struct cli *c, int argc, char **argv);
int cmd_dissect(struct cli *c, int argc, char **argv);
int cmd_merge(struct cli *c, int argc, char **argv);
int cmd_snapshot_export(struct cli *c, int argc, char **argv);
int cmd_snapshot_transfer(struct cli *c, int argc, char **argv, bool upload);

#endif
