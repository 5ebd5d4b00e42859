// SPDX-License-Identifier: MIT
/*
 * cmd_dissection.c - `kubectl rawcap dissection on|off|status`: flip
 * forwarding to dissectors on every node at runtime (PUT /v1/dissection);
 * capture never stops and no pod restarts.
 */
#include <stdlib.h>
#include <string.h>

#include "nodes.h"

enum { OPT_RESUME = CLI_OPT_LAST_GLOBAL };

static const struct opt dissection_opts[] = {
	{"resume", 0, OPT_RESUME, "MODE",
	 "on: live (default) skips what was captured while\n"
	 "off; backlog resumes where it stopped, while the ring\n"
	 "and disk FIFO still hold it",
	 0},
	OPT_END,
};

static void help(FILE *f)
{
	fprintf(f,
		"Usage: kubectl rawcap dissection on [--resume live|backlog]\n"
		"       kubectl rawcap dissection off\n"
		"       kubectl rawcap dissection status\n"
		"\n"
		"Turn forwarding to dissectors (rawcap-forward) on or off on every node at\n"
		"runtime, or show it. Capture goes on either way; nothing restarts.\n"
		"\n");
	opt_help(f, dissection_opts);
	cli_help_global(f);
}

struct dargs {
	const char *verb, *resume;
};

static int dissection_opt(void *ctx, int id, const char *arg)
{
	struct dargs *a = ctx;

	if (id != OPT_RESUME || strcmp(a->verb, "on"))
		return cli_usage_error("option not taken by this command", NULL);
	if (strcmp(arg, "live") && strcmp(arg, "backlog"))
		return cli_usage_error("--resume is live or backlog", arg);
	a->resume = arg;
	return 0;
}

static void row(struct table *tb, const char *node, const cJSON *j)
{
	const cJSON *fw = cJSON_GetObjectItemCaseSensitive(j, "forwarder");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(j, "enabled");
	char resume[32], conn[16] = "-", rcv[16] = "-";
	uint64_t v;

	cli_clean(resume, sizeof(resume), json_str(j, "resume"));
	if (fw)
		snprintf(conn, sizeof(conn), "%s",
			 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fw, "connected")) ? "yes"
											 : "no");
	if (json_u64(fw, "receivers", &v))
		snprintf(rcv, sizeof(rcv), "%llu", (unsigned long long)v);
	table_row(tb, 6, node, cJSON_IsBool(en) ? (cJSON_IsTrue(en) ? "on" : "off") : "?",
		  resume[0] ? resume : "-", conn, rcv, "");
}

int cmd_dissection(struct cli *c, int argc, char **argv)
{
	static const struct opt *const parts[] = {dissection_opts};
	const char *verb = argc > 1 ? argv[1] : NULL;
	struct dargs a = {.verb = verb};
	struct table tb = {0};
	struct fanout f;
	char body[80];
	bool set, bad = false;
	int rc;

	if (!verb || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		help(verb ? stdout : stderr);
		return verb ? CLI_OK : CLI_USAGE;
	}
	if (strcmp(verb, "on") && strcmp(verb, "off") && strcmp(verb, "status"))
		return cli_usage_error("dissection takes on, off or status", verb);
	set = strcmp(verb, "status") != 0;
	if ((rc = cli_parse(c, parts, 1, argc - 1, argv + 1, help, dissection_opt, &a)))
		return rc;
	if (optind < argc - 1)
		return cli_usage_error("unexpected argument", argv[optind + 1]);
	if ((rc = cli_global_check(c)))
		return rc;
	snprintf(body, sizeof(body), "{\"enabled\":%s,\"resume\":\"%s\"}",
		 strcmp(verb, "on") ? "false" : "true", a.resume ? a.resume : "live");
	rc = fanout_run(&f, c, set ? "PUT" : "GET", "/v1/dissection", set ? body : NULL);
	table_row(&tb, 6, "NODE", "DISSECTION", "RESUME", "FORWARDER", "RECEIVERS", "DETAIL");
	for (size_t i = 0; !rc && i < f.t.n; i++) {
		char why[512];
		const char *fail;
		cJSON *j = fanout_json(&f, i, "enabled", cJSON_True | cJSON_False, &fail, why,
				       sizeof(why));

		if (!j) {
			fprintf(stderr, PROG ": %s: dissection %s: %s\n", f.t.nodes[i].name, verb,
				fail);
			table_row(&tb, 6, f.t.nodes[i].name, "?", "-", "-", "-", fail);
			bad = true;
			continue;
		}
		row(&tb, f.t.nodes[i].name, j);
		cJSON_Delete(j);
	}
	if (!rc)
		table_print(&tb, stdout);
	table_free(&tb);
	fanout_free(&f);
	return rc ? rc : bad ? CLI_PARTIAL : CLI_OK;
}
