// SPDX-License-Identifier: MIT
/*
 * kubectl-rawcap - rawcap across a cluster, as a kubectl plugin: on PATH,
 * `kubectl rawcap ...` runs it. Every command fans out to each node's
 * rawcap-server and says per node what succeeded; one failing node never
 * hides the others' results.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP set a flag every loop checks, so
 * Ctrl-C still tears down the port-forwards and finishes the output file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include <rawcap/rawcap.h>

#include "cli.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const struct {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *summary;
} commands[] = {
	{"bounds", cmd_bounds, "each node's data boundaries and the common window"},
	{"export", cmd_export, "one time-merged pcapng (or pcap) of a window, every node"},
	{"snapshot", cmd_snapshot, "create|list|show|verify|delete|export cluster snapshots"},
	{"dissection", cmd_dissection, "on|off|status: forwarding to dissectors, every node"},
	{"dissect", cmd_dissect, "stream a merged window or snapshot to a dissector"},
	{"merge", cmd_merge, "merge per-node pcapng files at hand, as export does"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: kubectl rawcap COMMAND [options]\n\n"
		   "rawcap's capture across the cluster: every node at once, one answer.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-11s %s\n", "version", "print the version");
	fprintf(f, "\n`kubectl rawcap COMMAND --help` for each command's options.\n");
	cli_help_global(f);
}

static void signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waits wake up */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	static char prog[80];
	struct cli c;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		if (argc > 2) {
			fprintf(stderr, PROG " %s: unexpected argument '%s' (see --help)\n", argv[1],
				argv[2]);
			return CLI_USAGE;
		}
		printf("kubectl-rawcap %s\n", rawcap_version());
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		signals();
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			fprintf(stderr, PROG ": cannot initialise libcurl\n");
			return CLI_PARTIAL;
		}
		cli_init(&c, &stop);
		/* getopt names the command in its messages */
		snprintf(prog, sizeof(prog), PROG " %s", commands[i].name);
		argv[1] = prog;
		rc = commands[i].run(&c, argc - 1, argv + 1);
		curl_global_cleanup();
		return rc;
	}
	if (argv[1][0] == '-') /* kubectl's own habit: kubectl --context X get ... */
		fprintf(stderr,
			PROG ": option '%s' before the command: options follow it "
			"(kubectl rawcap COMMAND [options], see --help)\n",
			argv[1]);
	else
		fprintf(stderr, PROG ": unknown command \"%s\" (see --help)\n", argv[1]);
	return CLI_USAGE;
}
