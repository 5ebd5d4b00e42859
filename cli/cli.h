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

#include "opt.h"

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

/*
 * The options every command accepts (how to reach the nodes), in the
 * shared option table of every rawcap tool (lib/opt/opt.h): -q, --quiet and
 * -h, --help are the shared ones, the rest are kubectl-rawcap's own.
 */
enum {
	CLI_OPT_ENDPOINTS = OPT_ID_LOCAL,
	CLI_OPT_TLS_CA,
	CLI_OPT_TLS_CERT,
	CLI_OPT_TLS_KEY,
	CLI_OPT_TOKEN_FILE,
	CLI_OPT_RAWCAP_NAMESPACE,
	CLI_OPT_SELECTOR,
	CLI_OPT_NODES,
	CLI_OPT_KUBECTL,
	CLI_OPT_KUBECONFIG,
	CLI_OPT_CONTEXT,
	CLI_OPT_PORT,
	CLI_OPT_TIMEOUT,
	CLI_OPT_LAST_GLOBAL, /* a command's own ids start here */
};

extern const struct opt cli_global_opts[];

/* The global options' part of every command's --help, with the exit status. */
void cli_help_global(FILE *f);

void cli_init(struct cli *c, volatile sig_atomic_t *stop);
/* A command's own option: 0, or CLI_USAGE after saying why. */
typedef int (*cli_opt_fn)(void *ctx, int id, const char *arg);
/*
 * Parse a command's options: its own sections (parts, n of them, each
 * OPT_END-terminated) and the global ones, one table for getopt and
 * --help alike. Global options fill c; the others go to take. -h prints
 * help (the command's text) and exits 0. argv[0] names the command in
 * getopt's messages. Returns 0 with optind at the first operand, or
 * CLI_USAGE (said).
 */
int cli_parse(struct cli *c, const struct opt *const *parts, size_t n, int argc, char **argv,
	      void (*help)(FILE *), cli_opt_fn take, void *ctx);
/* After parsing: check combinations; 0 or CLI_USAGE. */
int cli_global_check(struct cli *c);
/* A decimal number in lo..hi: 0, or -1. */
int cli_parse_uint(const char *arg, unsigned lo, unsigned hi, unsigned *out);
/* Whole seconds lo..hi given as seconds or a duration, as kubectl takes them (30, 30s, 2m). */
int cli_parse_seconds(const char *arg, unsigned lo, unsigned hi, unsigned *out);
/* --wait DUR of the commands that wait for every node: its table entry, and its parse. */
#define CLI_OPT_DEF_WAIT(id, dflt)                                                               \
	{"wait", 0, id, "DUR", "wait at most this long: seconds or a duration\n(default: " dflt ")", 0}
int cli_parse_wait(const char *arg, unsigned *wait_s); /* 0, or CLI_USAGE after saying why */
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
