// SPDX-License-Identifier: MIT
/*
 * cmd_transfer.c - `kubectl rawcap snapshot upload NAME --to s3://B/P` and
 * `download NAME --from s3://B/P`: every node moves its own part of the
 * cluster snapshot through its rawcap-server (POST /v1/snapshots/NAME/upload,
 * POST /v1/snapshots/download) under PREFIX/NODE/, so nodes never collide
 * and a download brings each node's part back to that node. Credentials are
 * the nodes' own (their servers' environment); none is sent.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/snapshot.h>

#include "nodes.h"

#define POLL_US 500000u

enum { OPT_URL = CLI_OPT_LAST_GLOBAL, OPT_ENDPOINT, OPT_REGION, OPT_WAIT };

/*
 * --to (upload) and --from (download) take the S3 URL, as rawcap-snapshot
 * upload's do; --help names them in the usage line, not among the options,
 * where --from and --to are times in every other command.
 */
static const struct opt upload_opts[] = {
	{"to", 0, OPT_URL, "URL", NULL, 0},
	OPT_END,
};
static const struct opt download_opts[] = {
	{"from", 0, OPT_URL, "URL", NULL, 0},
	OPT_END,
};
static const struct opt transfer_opts[] = {
	{"endpoint", 0, OPT_ENDPOINT, "URL",
	 "S3-compatible endpoint (path-style), e.g.\nhttp://minio:9000", 0},
	{"region", 0, OPT_REGION, "REGION", "signing region", 0},
	CLI_OPT_DEF_WAIT(OPT_WAIT, "1h"),
	OPT_END,
};

static void help(FILE *f, bool upload)
{
	fprintf(f,
		"Usage: kubectl rawcap snapshot %s NAME %s s3://BUCKET[/PREFIX]\n"
		"                                [--endpoint URL] [--region REGION] [--wait DUR]\n"
		"\n"
		"%s every node's snapshot NAME %s object storage, each node its own part\n"
		"under PREFIX/NODE/NAME/, through its rawcap-server; wait until every node is\n"
		"done (--wait DUR: at most that long, default 1h). Credentials are each node's\n"
		"(the server's AWS environment); none is sent.\n"
		"\n",
		upload ? "upload" : "download", upload ? "--to" : "--from",
		upload ? "Upload" : "Download", upload ? "to" : "from");
	opt_help(f, transfer_opts);
	cli_help_global(f);
}

static void help_upload(FILE *f);
static void help_download(FILE *f);

struct targs {
	const char *name, *url, *endpoint, *region;
	unsigned wait_s;
};

static int transfer_opt(void *ctx, int id, const char *arg)
{
	struct targs *a = ctx;

	switch (id) {
	case OPT_URL:
		a->url = arg;
		return 0;
	case OPT_ENDPOINT:
		a->endpoint = arg;
		return 0;
	case OPT_REGION:
		a->region = arg;
		return 0;
	case OPT_WAIT:
		return cli_parse_wait(arg, &a->wait_s);
	}
	return cli_usage_error("option not taken by this command", NULL);
}

static int parse(struct cli *c, struct targs *a, bool upload, int argc, char **argv)
{
	const struct opt *parts[] = {upload ? upload_opts : download_opts, transfer_opts};
	int rc;

	a->wait_s = 3600;
	rc = cli_parse(c, parts, 2, argc, argv, upload ? help_upload : help_download, transfer_opt,
		       a);
	if (rc)
		return rc;
	if (optind >= argc)
		return cli_usage_error("give the snapshot NAME", NULL);
	a->name = argv[optind++];
	if (!rawcap_snapshot_name_ok(a->name))
		return cli_usage_error("bad snapshot name", a->name);
	if (optind < argc)
		return cli_usage_error("unexpected argument", argv[optind]);
	if (!a->url || strncmp(a->url, "s3://", 5) || strlen(a->url) > 900)
		return cli_usage_error(upload ? "give --to s3://BUCKET[/PREFIX]"
					      : "give --from s3://BUCKET[/PREFIX]",
				       a->url);
	return cli_global_check(c);
}

/* The request body for one node: its part lives under URL/NODE. */
static char *node_body(const struct targs *a, const char *node, bool upload)
{
	char url[1200];
	cJSON *b = cJSON_CreateObject();
	char *text;

	snprintf(url, sizeof(url), "%s%s%s", a->url, a->url[strlen(a->url) - 1] == '/' ? "" : "/",
		 node);
	if (!upload)
		cJSON_AddStringToObject(b, "name", a->name);
	cJSON_AddStringToObject(b, upload ? "to" : "from", url);
	if (a->endpoint)
		cJSON_AddStringToObject(b, "endpoint", a->endpoint);
	if (a->region)
		cJSON_AddStringToObject(b, "region", a->region);
	text = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return text;
}

/* The transfer's status in a GET answer ("" if none), and its error or bytes. */
static void transfer_of(const struct http_req *r, char *st, size_t stlen, char *detail, size_t dlen)
{
	cJSON *j = http_json(r);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "transfer");
	uint64_t v;

	cli_clean(st, stlen, json_str(t, "status"));
	cli_clean(detail, dlen, json_str(t, "error"));
	if (!detail[0] && json_u64(t, "bytes", &v))
		fmt_bytes(v, detail, dlen);
	cJSON_Delete(j);
}

/* Start on each node in turn (each body names the node); running[i] if it started. */
static void start_all(struct fanout *f, const struct targs *a, bool upload, bool *running)
{
	char path[256], why[512];
	bool *one = calloc(f->t.n, sizeof(*one));

	snprintf(path, sizeof(path), upload ? "/v1/snapshots/%s/upload" : "/v1/snapshots/download",
		 a->name);
	for (size_t i = 0; one && i < f->t.n; i++) {
		char *body;

		if (fanout_failure(f, i, true, why, sizeof(why)))
			continue; /* unreachable: reported at the end */
		body = node_body(a, f->t.nodes[i].name, upload);
		one[i] = true;
		fanout_again(f, one, "POST", path, body);
		one[i] = false;
		free(body);
		running[i] = !fanout_failure(f, i, false, why, sizeof(why));
		if (!running[i])
			fprintf(stderr, PROG ": %s: %s: %s\n", f->t.nodes[i].name,
				upload ? "upload" : "download", why);
	}
	free(one);
}

static int run(struct cli *c, const struct targs *a, bool upload)
{
	char path[256];
	struct fanout f;
	bool *running, *started;
	struct table tb = {0};
	uint64_t end = cli_mono_ns() + (uint64_t)a->wait_s * 1000000000u;
	bool bad = false;
	size_t left;
	int rc;

	snprintf(path, sizeof(path), "/v1/snapshots/%s", a->name);
	rc = fanout_run(&f, c, "GET", path, NULL);
	if (rc)
		return rc;
	running = calloc(f.t.n, sizeof(*running));
	started = calloc(f.t.n, sizeof(*started));
	if (!running || !started) {
		rc = CLI_PARTIAL;
		goto out;
	}
	start_all(&f, a, upload, running);
	memcpy(started, running, f.t.n * sizeof(*running));
	do {
		char st[32], detail[300];

		if (cli_mono_ns() >= end || (c->stop && *c->stop))
			break;
		usleep(POLL_US);
		fanout_again(&f, running, "GET", path, NULL);
		left = 0;
		for (size_t i = 0; i < f.t.n; i++) {
			if (!running[i] || fanout_failure(&f, i, false, st, sizeof(st))) {
				running[i] = false;
				continue;
			}
			transfer_of(&f.reqs[i], st, sizeof(st), detail, sizeof(detail));
			running[i] = !strcmp(st, "uploading") || !strcmp(st, "downloading");
			left += running[i];
		}
		if (c->progress)
			fprintf(stderr, "\r" PROG ": %s: %zu of %zu nodes still working ",
				upload ? "upload" : "download", left, f.t.n);
	} while (left);
	if (c->progress)
		fputc('\n', stderr);
	table_row(&tb, 3, "NODE", "RESULT", "DETAIL");
	for (size_t i = 0; i < f.t.n; i++) {
		char st[32] = "failed", detail[512] = "";
		const char *fail = fanout_failure(&f, i, false, detail, sizeof(detail));

		if (started[i] && !fail)
			transfer_of(&f.reqs[i], st, sizeof(st), detail, sizeof(detail));
		else if (fail && fail != detail)
			snprintf(detail, sizeof(detail), "%s", fail);
		if (started[i] && running[i])
			snprintf(st, sizeof(st), "still running");
		bad |= strcmp(st, "completed") != 0;
		table_row(&tb, 3, f.t.nodes[i].name, st, detail);
	}
	table_print(&tb, stdout);
	table_free(&tb);
	rc = bad ? CLI_PARTIAL : CLI_OK;
out:
	free(running);
	free(started);
	fanout_free(&f);
	return rc;
}

static void help_upload(FILE *f)
{
	help(f, true);
}

static void help_download(FILE *f)
{
	help(f, false);
}

int cmd_snapshot_transfer(struct cli *c, int argc, char **argv, bool upload)
{
	struct targs a = {0};
	int rc = parse(c, &a, upload, argc, argv);

	return rc ? rc : run(c, &a, upload);
}
