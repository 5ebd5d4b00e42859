// SPDX-License-Identifier: MIT
/*
 * cmd_snapshot.c - `kubectl rawcap snapshot create|list|show|verify|delete|
 * export`: the same snapshot on every node, through each node's
 * rawcap-server (POST/GET/DELETE /v1/snapshots...). A cluster snapshot is
 * the set of node snapshots of one name; every command says per node how
 * it stands.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>
#include <rawcap/snapshot.h>

#include "nodes.h"
#include "winargs.h"

#define POLL_NS (500ull * 1000000u)

enum { OPT_NO_WAIT = CLI_OPT_LAST_GLOBAL, OPT_WAIT, OPT_JSON };

static const struct opt create_opts[] = {
	{"no-wait", 0, OPT_NO_WAIT, NULL, "return once every node has started", 0},
	CLI_OPT_DEF_WAIT(OPT_WAIT, "30m"),
	OPT_END,
};

static const struct opt json_opts[] = {
	{"json", 'j', OPT_JSON, NULL, "list, show: the nodes' answers as one JSON object", 0},
	OPT_END,
};

static void help(FILE *f)
{
	fprintf(f,
		"Usage: kubectl rawcap snapshot create NAME (--from T [--to T] | --last DURATION)\n"
		"                                [--filter EXPR] [--pod NAME] [--namespace NS]\n"
		"                                [--label K=V] [--no-wait] [--wait DUR]\n"
		"       kubectl rawcap snapshot list [--json]\n"
		"       kubectl rawcap snapshot show NAME [--json]\n"
		"       kubectl rawcap snapshot verify NAME\n"
		"       kubectl rawcap snapshot delete NAME\n"
		"       kubectl rawcap snapshot export NAME [-o FILE] ... (see snapshot export "
		"--help)\n"
		"       kubectl rawcap snapshot upload NAME --to s3://BUCKET[/PREFIX]\n"
		"       kubectl rawcap snapshot download NAME --from s3://BUCKET[/PREFIX]\n"
		"\n"
		"A cluster snapshot is the same window snapshotted on every node at once,\n"
		"under one NAME (1-100 of A-Z a-z 0-9 . _ -): immutable copies that outlive\n"
		"the ring and disk FIFO.\n"
		"\n"
		"  create   start the snapshot on every node, then wait until each is\n"
		"           completed, partial or failed (--no-wait: return at once;\n"
		"           --wait DUR: wait at most that long, default 30m)\n"
		"  list     one row per snapshot name: nodes completed/partial/failed/running,\n"
		"           packets and bytes over all nodes\n"
		"  show     one row per node: status, window, packets, bytes, loss\n"
		"  verify   check every node's copy against its manifest (SHA-256 sums)\n"
		"  delete   delete it on every node (a node without it is reported, not an error)\n"
		"  export   merge it from every node into one pcapng/pcap, as export does\n"
		"  upload, download  each node's part to or from S3 under PREFIX/NODE/\n"
		"           (see snapshot upload --help)\n"
		"\n"
		"Options of create:\n");
	opt_help(f, create_opts);
	win_help(f);
	fputs("\nOptions of list and show:\n", f);
	opt_help(f, json_opts);
	cli_help_global(f);
}

struct sargs {
	const char *name;
	struct winargs w;
	bool no_wait, json;
	unsigned wait_s;
};

static int snapshot_opt(void *ctx, int id, const char *arg)
{
	struct sargs *a = ctx;
	int rc = win_option(&a->w, id, arg);

	if (rc)
		return rc < 0 ? -rc : 0;
	switch (id) {
	case OPT_NO_WAIT:
		a->no_wait = true;
		return 0;
	case OPT_WAIT:
		return cli_parse_wait(arg, &a->wait_s);
	case OPT_JSON:
		a->json = true;
		return 0;
	}
	return cli_usage_error("option not taken by this command", NULL);
}

/* The verbs, in the order cmd_snapshot() dispatches them. */
enum { V_CREATE, V_LIST, V_SHOW, V_VERIFY, V_DELETE, V_COUNT };

static int parse(struct cli *c, struct sargs *a, int verb, int argc, char **argv)
{
	static const struct opt *const create_parts[] = {create_opts, win_opts};
	static const struct opt *const json_parts[] = {json_opts};
	bool create = verb == V_CREATE, named = verb != V_LIST;
	int rc;

	win_init(&a->w);
	a->wait_s = 1800;
	if (create)
		rc = cli_parse(c, create_parts, 2, argc, argv, help, snapshot_opt, a);
	else
		rc = cli_parse(c, json_parts, verb == V_LIST || verb == V_SHOW, argc, argv, help,
			       snapshot_opt, a);
	if (rc)
		return rc;
	if (named) {
		if (optind >= argc)
			return cli_usage_error("give the snapshot NAME", NULL);
		a->name = argv[optind++];
		if (!rawcap_snapshot_name_ok(a->name))
			return cli_usage_error("bad snapshot name (1-100 of A-Z a-z 0-9 . _ -, not "
					       "starting with . or -)",
					       a->name);
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument", argv[optind]);
	if (create && (rc = win_finish(&a->w, true, false)))
		return rc;
	return cli_global_check(c);
}

/* ---- create ---- */

/* A criterion as the contract takes it: a string, or a list when given more than once. */
static void add_sel(cJSON *body, const struct winargs *w, const char *key)
{
	cJSON *list = cJSON_CreateArray();
	size_t n = 0;

	for (size_t i = 0; i < w->nsel; i++) {
		if (strcmp(win_sel_key(w, i), key))
			continue;
		cJSON_AddItemToArray(list, cJSON_CreateString(w->sel[i].arg));
		n++;
	}
	if (n == 1)
		cJSON_AddItemToObject(body, key, cJSON_DetachItemFromArray(list, 0));
	else if (n > 1)
		cJSON_AddItemToObject(body, key, cJSON_Duplicate(list, true));
	cJSON_Delete(list);
}

static char *create_body(const struct sargs *a)
{
	cJSON *body = cJSON_CreateObject();
	char t[64];
	char *text;

	cJSON_AddStringToObject(body, "name", a->name);
	cJSON_AddStringToObject(body, "from", rawcap_format_time(a->w.t.from_ns, t, sizeof(t)));
	cJSON_AddStringToObject(body, "to", rawcap_format_time(a->w.t.to_ns, t, sizeof(t)));
	if (a->w.filter)
		cJSON_AddStringToObject(body, "filter", a->w.filter);
	add_sel(body, &a->w, "pod");
	add_sel(body, &a->w, "namespace");
	add_sel(body, &a->w, "label");
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	return text;
}

/* status of a SNAP answer, cleaned; "" if none. */
static void snap_status(const struct http_req *r, char *buf, size_t cap)
{
	cJSON *j = http_json(r);

	cli_clean(buf, cap, json_str(j, "status"));
	cJSON_Delete(j);
}

/* Poll GET /v1/snapshots/NAME on nodes still in progress until none is, or time is up. */
static void wait_done(struct cli *c, struct fanout *f, const char *path, bool *running,
		      unsigned wait_s)
{
	uint64_t end = cli_mono_ns() + (uint64_t)wait_s * 1000000000u;
	size_t left;

	do {
		char st[32];

		left = 0;
		for (size_t i = 0; i < f->t.n; i++) {
			running[i] = false;
			if (fanout_failure(f, i, false, st, sizeof(st)))
				continue;
			snap_status(&f->reqs[i], st, sizeof(st));
			running[i] = !strcmp(st, "in_progress");
			left += running[i];
		}
		if (c->progress)
			fprintf(stderr, "\r" PROG ": snapshot: %zu of %zu nodes still working ",
				left, f->t.n);
		if (!left || (c->stop && *c->stop) || cli_mono_ns() >= end)
			break;
		usleep(POLL_NS / 1000);
		fanout_again(f, running, "GET", path, NULL);
	} while (left);
	if (c->progress)
		fputc('\n', stderr);
}

/* One row per node for create and show: the node's view of the snapshot. */
static bool snap_row(struct table *tb, const char *node, const cJSON *j)
{
	char status[32], from[64] = "-", to[64] = "-", pk[32] = "-", by[32] = "-", lost[64] = "-";
	char detail[300] = "";
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "lost");
	uint64_t v, v2;

	cli_clean(status, sizeof(status), json_str(j, "status"));
	if (json_time(j, "from", &v))
		rawcap_format_time(v, from, sizeof(from));
	if (json_time(j, "to", &v))
		rawcap_format_time(v, to, sizeof(to));
	if (json_u64(j, "packets", &v))
		snprintf(pk, sizeof(pk), "%llu", (unsigned long long)v);
	if (json_u64(j, "bytes", &v))
		fmt_bytes(v, by, sizeof(by));
	if (json_u64(l, "reader", &v) && json_u64(l, "upstream", &v2))
		snprintf(lost, sizeof(lost), "%llu", (unsigned long long)(v + v2));
	cli_clean(detail, sizeof(detail), json_str(j, "error"));
	if (!detail[0] && json_str(j, "missing_from")) {
		const char *why = json_str(j, "missing_reason");

		snprintf(detail, sizeof(detail), "window start %s",
			 why && !strcmp(why, RAWCAP_MISSING_UNCAPTURED)
				 ? RAWCAP_UNCAPTURED_WORDS
				 : RAWCAP_MISSING_RECYCLED " before the snapshot");
	}
	table_row(tb, 8, node, status[0] ? status : "?", from, to, pk, by, lost, detail);
	return !strcmp(status, "completed");
}

static int print_nodes(struct fanout *f, const char *verb)
{
	struct table tb = {0};
	bool bad = false;

	table_row(&tb, 8, "NODE", "STATUS", "FROM", "TO", "PACKETS", "BYTES", "LOST", "DETAIL");
	for (size_t i = 0; i < f->t.n; i++) {
		char why[512];
		const char *fail = fanout_failure(f, i, true, why, sizeof(why));
		cJSON *j;

		if (fail || f->reqs[i].status == 404) {
			char msg[560];

			snprintf(msg, sizeof(msg), "%s",
				 fail ? fail : "no such snapshot on this node");
			table_row(&tb, 8, f->t.nodes[i].name, fail ? "failed" : "absent", "-", "-",
				  "-", "-", "-", msg);
			fprintf(stderr, PROG ": %s: %s: %s\n", f->t.nodes[i].name, verb, msg);
			bad = true;
			continue;
		}
		j = http_json(&f->reqs[i]);
		bad |= !snap_row(&tb, f->t.nodes[i].name, j);
		cJSON_Delete(j);
	}
	table_print(&tb, stdout);
	table_free(&tb);
	return bad ? CLI_PARTIAL : CLI_OK;
}

static int create(struct cli *c, struct sargs *a)
{
	char *body = create_body(a), path[256];
	bool *running = NULL;
	struct fanout f;
	int rc;

	if (!body)
		return CLI_PARTIAL;
	rc = fanout_run(&f, c, "POST", "/v1/snapshots", body);
	free(body);
	if (rc)
		goto out;
	snprintf(path, sizeof(path), "/v1/snapshots/%s", a->name);
	running = calloc(f.t.n, sizeof(*running));
	if (!running) {
		rc = CLI_PARTIAL;
		goto out;
	}
	for (size_t i = 0; i < f.t.n; i++) {
		char why[512];

		running[i] = !fanout_failure(&f, i, false, why, sizeof(why));
		if (!running[i])
			fprintf(stderr, PROG ": %s: create: %s\n", f.t.nodes[i].name, why);
	}
	if (a->no_wait) {
		for (size_t i = 0; i < f.t.n; i++)
			if (running[i])
				printf("%s\tstarted\n", f.t.nodes[i].name);
		rc = CLI_OK;
		for (size_t i = 0; i < f.t.n; i++)
			rc = running[i] ? rc : CLI_PARTIAL;
		goto out;
	}
	/* From here on each node's row comes from its latest GET; failed POSTs stay failed. */
	fanout_again(&f, running, "GET", path, NULL);
	wait_done(c, &f, path, running, a->wait_s);
	rc = print_nodes(&f, "create");
out:
	free(running);
	fanout_free(&f);
	return rc;
}

/* ---- list ---- */

struct agg {
	char name[80];
	unsigned completed, partial, failed, running;
	uint64_t packets, bytes, from, to;
};

static struct agg *agg_get(struct agg **v, size_t *n, const char *name)
{
	struct agg *nv;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].name, name))
			return &(*v)[i];
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[0]));
	snprintf(nv[*n].name, sizeof(nv[0].name), "%s", name);
	return &nv[(*n)++];
}

static void agg_add(struct agg *g, const cJSON *s)
{
	const char *st = json_str(s, "status");
	uint64_t v;

	if (st && !strcmp(st, "completed"))
		g->completed++;
	else if (st && !strcmp(st, "partial"))
		g->partial++;
	else if (st && !strcmp(st, "in_progress"))
		g->running++;
	else
		g->failed++;
	if (json_u64(s, "packets", &v))
		g->packets += v;
	if (json_u64(s, "bytes", &v))
		g->bytes += v;
	if (json_time(s, "from", &v) && (!g->from || v < g->from))
		g->from = v;
	if (json_time(s, "to", &v) && v > g->to)
		g->to = v;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct agg *)x)->name, ((const struct agg *)y)->name);
}

static void print_list(struct agg *g, size_t n, size_t nodes_ok)
{
	struct table tb = {0};

	if (n) /* g is NULL when no node has a snapshot */
		qsort(g, n, sizeof(*g), by_name);
	table_row(&tb, 9, "NAME", "COMPLETED", "PARTIAL", "FAILED", "RUNNING", "ABSENT", "PACKETS",
		  "BYTES", "WINDOW");
	for (size_t i = 0; i < n; i++) {
		char c[16], p[16], fl[16], r[16], ab[16], pk[32], by[32], w[140], a[64], z[64];
		unsigned have = g[i].completed + g[i].partial + g[i].failed + g[i].running;

		snprintf(c, sizeof(c), "%u", g[i].completed);
		snprintf(p, sizeof(p), "%u", g[i].partial);
		snprintf(fl, sizeof(fl), "%u", g[i].failed);
		snprintf(r, sizeof(r), "%u", g[i].running);
		snprintf(ab, sizeof(ab), "%zu", nodes_ok > have ? nodes_ok - have : 0);
		snprintf(pk, sizeof(pk), "%llu", (unsigned long long)g[i].packets);
		fmt_bytes(g[i].bytes, by, sizeof(by));
		snprintf(w, sizeof(w), "%s .. %s",
			 g[i].from ? rawcap_format_time(g[i].from, a, sizeof(a)) : "?",
			 g[i].to ? rawcap_format_time(g[i].to, z, sizeof(z)) : "?");
		table_row(&tb, 9, g[i].name, c, p, fl, r, ab, pk, by, w);
	}
	table_print(&tb, stdout);
	table_free(&tb);
}

static int list(struct cli *c, struct sargs *a)
{
	struct agg *g = NULL;
	size_t ng = 0, ok = 0;
	struct fanout f;
	bool bad = false;
	cJSON *all = a->json ? cJSON_CreateObject() : NULL;
	int rc = fanout_run(&f, c, "GET", "/v1/snapshots", NULL);

	for (size_t i = 0; !rc && i < f.t.n; i++) {
		char why[512], name[80];
		const char *fail = fanout_failure(&f, i, false, why, sizeof(why));
		cJSON *j = fail ? NULL : http_json(&f.reqs[i]), *s;

		if (!fail && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "snapshots")))
			fail = "the answer holds no snapshot list";
		if (fail) {
			fprintf(stderr, PROG ": %s: list: %s\n", f.t.nodes[i].name, fail);
			bad = true;
			cJSON_Delete(j);
			continue;
		}
		ok++;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j, "snapshots"))
		{
			struct agg *ga;

			cli_clean(name, sizeof(name), json_str(s, "name"));
			if (name[0] && (ga = agg_get(&g, &ng, name)))
				agg_add(ga, s);
		}
		if (all)
			cJSON_AddItemToObject(all, f.t.nodes[i].name, j);
		else
			cJSON_Delete(j);
	}
	if (!rc && all) {
		char *text = cJSON_Print(all);

		if (text)
			puts(text);
		free(text);
	} else if (!rc) {
		print_list(g, ng, ok);
	}
	cJSON_Delete(all);
	free(g);
	fanout_free(&f);
	return rc ? rc : bad ? CLI_PARTIAL : CLI_OK;
}

/* ---- show, verify, delete ---- */

static int show(struct cli *c, struct sargs *a)
{
	char path[256];
	struct fanout f;
	int rc;

	snprintf(path, sizeof(path), "/v1/snapshots/%s", a->name);
	rc = fanout_run(&f, c, "GET", path, NULL);
	if (!rc && a->json) {
		cJSON *all = cJSON_CreateObject();
		char *text;

		for (size_t i = 0; i < f.t.n; i++) {
			char why[512];
			const char *fail = fanout_failure(&f, i, false, why, sizeof(why));
			cJSON *j = fail ? cJSON_CreateObject() : http_json(&f.reqs[i]);

			if (fail && j)
				cJSON_AddStringToObject(j, "failure", fail);
			rc = fail ? CLI_PARTIAL : rc;
			cJSON_AddItemToObject(all, f.t.nodes[i].name, j ? j : cJSON_CreateNull());
		}
		text = cJSON_Print(all);
		if (text)
			puts(text);
		free(text);
		cJSON_Delete(all);
	} else if (!rc) {
		rc = print_nodes(&f, "show");
	}
	fanout_free(&f);
	return rc;
}

/* verify and delete: one word per node. */
static int act(struct cli *c, struct sargs *a, bool del)
{
	struct table tb = {0};
	char path[256];
	struct fanout f;
	size_t done = 0;
	bool bad = false;
	int rc;

	snprintf(path, sizeof(path), "/v1/snapshots/%s%s", a->name, del ? "" : "/verify");
	rc = fanout_run(&f, c, del ? "DELETE" : "POST", path, NULL);
	table_row(&tb, 3, "NODE", "RESULT", "DETAIL");
	for (size_t i = 0; !rc && i < f.t.n; i++) {
		char why[512], detail[300] = "";
		const char *fail = fanout_failure(&f, i, true, why, sizeof(why));
		const char *word = del ? "deleted" : "ok";
		cJSON *j;

		if (fail) {
			word = "failed";
			fprintf(stderr, PROG ": %s: %s: %s\n", f.t.nodes[i].name,
				del ? "delete" : "verify", fail);
			snprintf(detail, sizeof(detail), "%s", fail);
			bad = true;
		} else if (f.reqs[i].status == 404) {
			word = "absent";
			bad |= !del; /* a copy missing fails verification; deleting it is done */
		} else if (!del) {
			j = http_json(&f.reqs[i]);
			if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
				word = "damaged";
				cli_clean(detail, sizeof(detail), json_str(j, "detail"));
				bad = true;
			}
			cJSON_Delete(j);
		}
		done += strcmp(word, "absent") && strcmp(word, "failed");
		table_row(&tb, 3, f.t.nodes[i].name, word, detail);
	}
	if (!rc) {
		table_print(&tb, stdout);
		if (!done) {
			fprintf(stderr, PROG ": no node has snapshot %s\n", a->name);
			bad = true;
		}
	}
	table_free(&tb);
	fanout_free(&f);
	return rc ? rc : bad ? CLI_PARTIAL : CLI_OK;
}

int cmd_snapshot(struct cli *c, int argc, char **argv)
{
	static const char *const verbs[] = {"create", "list", "show", "verify", "delete"};
	static char prog[80];
	struct sargs a = {0};
	const char *verb = argc > 1 ? argv[1] : NULL;
	int rc, v;

	if (!verb || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		help(verb ? stdout : stderr);
		return verb ? CLI_OK : CLI_USAGE;
	}
	/* every verb's messages name it: "kubectl-rawcap snapshot export: ..." */
	snprintf(prog, sizeof(prog), PROG " snapshot %.40s", verb);
	if (!strcmp(verb, "export") || !strcmp(verb, "upload") || !strcmp(verb, "download"))
		argv[1] = prog;
	if (!strcmp(verb, "export"))
		return cmd_snapshot_export(c, argc - 1, argv + 1);
	if (!strcmp(verb, "upload") || !strcmp(verb, "download"))
		return cmd_snapshot_transfer(c, argc - 1, argv + 1, !strcmp(verb, "upload"));
	for (v = 0; v < V_COUNT && strcmp(verb, verbs[v]); v++)
		;
	if (v == V_COUNT)
		return cli_usage_error("unknown snapshot command (create, list, show, verify, "
				       "delete, export, upload, download)",
				       verb);
	argv[1] = prog;
	rc = parse(c, &a, v, argc - 1, argv + 1);
	if (rc)
		return rc;
	switch (v) {
	case V_CREATE:
		return create(c, &a);
	case V_LIST:
		return list(c, &a);
	case V_SHOW:
		return show(c, &a);
	case V_VERIFY:
		return act(c, &a, false);
	default:
		return act(c, &a, true);
	}
}
