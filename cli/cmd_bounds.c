// SPDX-License-Identifier: MIT
/*
 * cmd_bounds.c - `kubectl rawcap bounds`: each node's data boundaries
 * (GET /v1/node) and the window every node holds.
 */
#include <stdlib.h>
#include <string.h>

#include <rawcap/rawcap.h>

#include "nodes.h"

enum { OPT_JSON = CLI_OPT_LAST_GLOBAL };

static const struct opt bounds_opts[] = {
	{"json", 'j', OPT_JSON, NULL, "one JSON object: each node's answer and the window", 0},
	OPT_END,
};

static void help(FILE *f)
{
	fprintf(f, "Usage: kubectl rawcap bounds [--json]\n"
		   "\n"
		   "Each node's data boundaries: the oldest and newest packet its ring and disk\n"
		   "FIFO hold, the span between, packets held, and loss by cause; then the\n"
		   "cluster's common window, the part every node still holds (what an export\n"
		   "of every node can give whole).\n"
		   "\n");
	opt_help(f, bounds_opts);
	cli_help_global(f);
}

static int bounds_opt(void *ctx, int id, const char *arg)
{
	(void)arg;
	*(bool *)ctx = id == OPT_JSON;
	return 0;
}

struct bound {
	uint64_t oldest, newest;
	bool ok;
};

/* Sum of the loss counters by cause, and the causes that are not zero. */
static uint64_t loss_total(const cJSON *node, char *causes, size_t cap)
{
	const cJSON *loss = cJSON_GetObjectItemCaseSensitive(node, "loss"), *v;
	uint64_t total = 0;
	size_t len = 0;

	causes[0] = '\0';
	cJSON_ArrayForEach(v, loss)
	{
		char name[32];

		if (!cJSON_IsNumber(v) || v->valuedouble <= 0)
			continue;
		total += (uint64_t)v->valuedouble;
		cli_clean(name, sizeof(name), v->string);
		if (len < cap)
			len += (size_t)snprintf(causes + len, cap - len, "%s%s=%.0f",
						len ? "," : "", name, v->valuedouble);
	}
	return total;
}

static void row(struct table *tb, const struct node *n, const cJSON *j, struct bound *b)
{
	char oldest[64] = "-", newest[64] = "-", span[32] = "-", packets[32] = "-";
	char loss[200], causes[160], status[320] = "ok", said[254];
	const char *name = json_str(j, "node");
	uint64_t v;

	b->ok = json_time(j, "oldest", &b->oldest) && json_time(j, "newest", &b->newest) &&
		b->newest >= b->oldest;
	if (b->ok) {
		rawcap_format_time(b->oldest, oldest, sizeof(oldest));
		rawcap_format_time(b->newest, newest, sizeof(newest));
		fmt_span(b->newest - b->oldest, span, sizeof(span));
	} else {
		snprintf(status, sizeof(status), "holds no packets");
	}
	if (json_u64(j, "packets", &v))
		snprintf(packets, sizeof(packets), "%llu", (unsigned long long)v);
	v = loss_total(j, causes, sizeof(causes));
	snprintf(loss, sizeof(loss), "%llu%s%s%s", (unsigned long long)v, causes[0] ? " (" : "",
		 causes, causes[0] ? ")" : "");
	if (name && strcmp(name, n->name)) {
		cli_clean(said, sizeof(said), name);
		snprintf(status + strlen(status), sizeof(status) - strlen(status),
			 " (it calls itself %s)", said);
	}
	table_row(tb, 7, n->name, oldest, newest, span, packets, loss, status);
}

static void common_window(const struct bound *b, size_t n, size_t nok, FILE *f)
{
	uint64_t from = 0, to = UINT64_MAX;
	char a[64], z[64], span[32];

	for (size_t i = 0; i < n; i++) {
		if (!b[i].ok)
			continue;
		from = b[i].oldest > from ? b[i].oldest : from;
		to = b[i].newest < to ? b[i].newest : to;
	}
	if (!nok || from > to) {
		fprintf(f, "\ncommon window: none (no time is held by every node that answered)\n");
		return;
	}
	fmt_span(to - from, span, sizeof(span));
	fprintf(f, "\ncommon window: %s .. %s (%s) on %zu of %zu nodes\n",
		rawcap_format_time(from, a, sizeof(a)), rawcap_format_time(to, z, sizeof(z)), span,
		nok, n);
}

static int print_json(struct fanout *f, const struct bound *b)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "nodes");
	char why[512], t[64];
	uint64_t from = 0, to = UINT64_MAX;
	size_t nok = 0;
	char *text;

	for (size_t i = 0; i < f->t.n; i++) {
		const char *fail;
		cJSON *o = fanout_json(f, i, "node", cJSON_String, &fail, why, sizeof(why));

		if (!o)
			o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "node_queried", f->t.nodes[i].name);
		if (fail)
			cJSON_AddStringToObject(o, "failure", fail);
		cJSON_AddItemToArray(arr, o);
		if (b[i].ok) {
			from = b[i].oldest > from ? b[i].oldest : from;
			to = b[i].newest < to ? b[i].newest : to;
			nok++;
		}
	}
	if (nok && from <= to) {
		cJSON *w = cJSON_AddObjectToObject(root, "common");

		cJSON_AddStringToObject(w, "from", rawcap_format_time(from, t, sizeof(t)));
		cJSON_AddStringToObject(w, "to", rawcap_format_time(to, t, sizeof(t)));
	}
	text = cJSON_Print(root);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(root);
	return text ? 0 : CLI_PARTIAL;
}

int cmd_bounds(struct cli *c, int argc, char **argv)
{
	static const struct opt *const parts[] = {bounds_opts};
	struct table tb = {0};
	struct fanout f;
	struct bound *b = NULL;
	bool json = false, failed = false;
	size_t nok = 0;
	int rc;

	if ((rc = cli_parse(c, parts, 1, argc, argv, help, bounds_opt, &json)))
		return rc;
	if (optind < argc)
		return cli_usage_error("unexpected argument", argv[optind]);
	if ((rc = cli_global_check(c)))
		return rc;
	rc = fanout_run(&f, c, "GET", "/v1/node", NULL);
	if (!rc && !(b = calloc(f.t.n, sizeof(*b))))
		rc = CLI_PARTIAL;
	if (rc)
		goto out;
	table_row(&tb, 7, "NODE", "OLDEST", "NEWEST", "SPAN", "PACKETS", "LOSS", "STATUS");
	for (size_t i = 0; i < f.t.n; i++) {
		char why[512];
		const char *fail;
		cJSON *j = fanout_json(&f, i, "node", cJSON_String, &fail, why, sizeof(why));

		if (!j) {
			char msg[540];

			snprintf(msg, sizeof(msg), "failed: %s", fail);
			table_row(&tb, 7, f.t.nodes[i].name, "-", "-", "-", "-", "-", msg);
			fprintf(stderr, PROG ": %s: %s\n", f.t.nodes[i].name, fail);
			failed = true;
			continue;
		}
		row(&tb, &f.t.nodes[i], j, &b[i]);
		nok += b[i].ok;
		cJSON_Delete(j);
	}
	if (json) {
		rc = print_json(&f, b);
	} else {
		table_print(&tb, stdout);
		common_window(b, f.t.n, nok, stdout);
	}
	rc = rc ? rc : failed ? CLI_PARTIAL : CLI_OK;
out:
	table_free(&tb);
	free(b);
	fanout_free(&f);
	return rc;
}
