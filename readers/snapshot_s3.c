// SPDX-License-Identifier: MIT
/*
 * snapshot_s3.c - rawcap-snapshot's object storage commands: upload,
 * download, list --remote, delete --remote. A thin main over rawcap/s3.h,
 * kept apart from rawcap-snapshot.c, which hands these commands over
 * (snapshot_s3_wants) before parsing its own.
 *
 * No option takes a secret: credentials come from the AWS environment or
 * files only, so they never show in a process title or a shell history.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/s3.h>

#include "opt.h"

#include "snapshot_s3.h"

#define PROG	     "rawcap-snapshot"
#define DEFAULT_DEST "/var/lib/rawcap/snapshots"
#define ENV_REMOTE   "RAWCAP_SNAPSHOT_REMOTE"

enum {
	OPT_REMOTE = OPT_ID_LOCAL,
	OPT_ENDPOINT,
	OPT_REGION,
	OPT_PROFILE,
	OPT_PART_SIZE,
	OPT_PARALLEL,
	OPT_RETRIES,
	OPT_MAX_RATE,
	OPT_CA_FILE,
	OPT_PROGRESS,
};

/*
 * --to, --from and --remote take an s3:// URL here, where the other commands'
 * --from and --to take a time (the spelling, as in kubectl rawcap
 * snapshot upload): parsed, but described in the usage lines, not listed
 * with the options that mean one thing in every tool.
 */
static const struct opt s3_url_opts[] = {
	{"to", 0, OPT_ID_TO, "URL", NULL, 0},
	{"from", 0, OPT_ID_FROM, "URL", NULL, 0},
	{"remote", 0, OPT_REMOTE, "URL", NULL, 0},
	OPT_END,
};

static const struct opt s3_opts[] = {
	OPT_DEF_SNAPSHOT_DIR("snapshot storage (default: $RAWCAP_SNAPSHOT_DIR or\n" DEFAULT_DEST
			     ")"),
	OPT_DEF_QUOTA("download: bytes all snapshots in --snapshot-dir may use\n"
		      "(e.g. 10Gi), counting creates and downloads in progress;\n"
		      "a snapshot that does not fit is refused before a byte\n"
		      "is fetched"),
	{"endpoint", 0, OPT_ENDPOINT, "URL",
	 "S3-compatible endpoint, path-style addressing, e.g.\n"
	 "http://minio:9000, https://storage.googleapis.com\n"
	 "(default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS)",
	 0},
	{"region", 0, OPT_REGION, "REGION",
	 "signing region (default: $AWS_REGION, $AWS_DEFAULT_REGION,\nelse us-east-1)", 0},
	{"profile", 0, OPT_PROFILE, "NAME",
	 "profile of the shared credentials file (default:\n$AWS_PROFILE, else \"default\")", 0},
	{"part-size", 0, OPT_PART_SIZE, "SIZE",
	 "multipart part size, 5Mi to 1Gi (default 16Mi); files\n"
	 "from twice this size go up in parts",
	 0},
	{"parallel", 0, OPT_PARALLEL, "N", "requests at once, 1 to 64 (default 4)", 0},
	{"retries", 0, OPT_RETRIES, "N",
	 "retries of a failed request (default 5, backoff with jitter)", 0},
	{"max-rate", 0, OPT_MAX_RATE, "SIZE", "bytes per second over all requests (e.g. 50Mi)", 0},
	{"ca-file", 0, OPT_CA_FILE, "FILE", "CA bundle for an https endpoint", 0},
	{"progress", 0, OPT_PROGRESS, NULL,
	 "print progress to stderr (default: when it is a terminal)", 0},
	OPT_DEF_QUIET,
	OPT_DEF_HELP,
	OPT_OLD("dest", 0, OPT_ID_SNAPSHOT_DIR, "DIR", "the same as --snapshot-dir"),
	OPT_END,
};

static void s3_usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG
		" upload NAME [--to s3://BUCKET[/PREFIX]] [--snapshot-dir DIR] [S3 OPTIONS]\n"
		"       " PROG " download NAME [--from s3://BUCKET[/PREFIX]] [--snapshot-dir DIR]\n"
		"                       [--quota SIZE] [S3 OPTIONS]\n"
		"       " PROG " list --remote s3://BUCKET[/PREFIX] [S3 OPTIONS]\n"
		"       " PROG " delete NAME --remote s3://BUCKET[/PREFIX] [S3 OPTIONS]\n"
		"\n"
		"Move snapshots to and from S3-compatible object storage (AWS S3, MinIO, Ceph\n"
		"RGW, GCS). A snapshot is stored under PREFIX/NAME/, its manifest last: a name\n"
		"without one is an interrupted upload, which `list --remote` reports and\n"
		"`upload` resumes. A download is verified against the manifest's SHA-256 sums\n"
		"before it is sealed read-only under DIR/NAME; a mismatch names the file.\n"
		"--to/--from default to $" ENV_REMOTE ".\n"
		"\n");
	opt_help(f, s3_opts);
	fprintf(f, "\n"
		   "Credentials, first found: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+\n"
		   "AWS_SESSION_TOKEN); AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (EKS IRSA: STS\n"
		   "AssumeRoleWithWebIdentity, endpoint $AWS_ENDPOINT_URL_STS); the profile in\n"
		   "$AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials). No option takes a\n"
		   "secret.\n"
		   "\n"
		   "Exit status: 0 success; 1 failure (nothing is left half done under a real\n"
		   "name; a download over --quota fails so); 2 usage error.\n");
}

static bool takes_arg(const char *a)
{
	static const char *const long_args[] = {
		"--ring",     "--storage",  "--dest",	  "--snapshot-dir", "--snapshot",
		"--name",     "--from",	    "--to",	  "--last",	    "--filter",
		"--quota",    "--node",	    "--pod",	  "--namespace",    "--label",
		"--remote",   "--endpoint", "--region",	  "--profile",	    "--part-size",
		"--parallel", "--retries",  "--max-rate", "--ca-file",	    NULL,
	};

	if (a[0] == '-' && a[1] && a[1] != '-' && !a[2])
		return strchr("rsSdnfteQPNL", a[1]) != NULL;
	for (int i = 0; long_args[i]; i++)
		if (!strcmp(a, long_args[i]))
			return true;
	return false;
}

bool snapshot_s3_wants(int argc, char **argv)
{
	const char *cmd = NULL;
	bool remote = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--remote") || !strncmp(argv[i], "--remote=", 9))
			remote = true;
		if (argv[i][0] == '-') {
			i += takes_arg(argv[i]);
			continue;
		}
		if (!cmd)
			cmd = argv[i];
	}
	if (!cmd)
		return false;
	return !strcmp(cmd, "upload") || !strcmp(cmd, "download") ||
	       (remote && (!strcmp(cmd, "list") || !strcmp(cmd, "delete")));
}

struct s3_args {
	const char *cmd, *name, *dest, *to, *from, *remote;
	struct rawcap_s3_opts o;
	bool progress;
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s (see " PROG " upload --help)\n", what, arg ? ": " : "",
		arg ? arg : "");
	return 2;
}

static int parse_count(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_opt(struct s3_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_ID_SNAPSHOT_DIR:
		a->dest = arg;
		return 0;
	case OPT_ID_TO:
		a->to = arg;
		return 0;
	case OPT_ID_FROM:
		a->from = arg;
		return 0;
	case OPT_ID_QUOTA: {
		char msg[640];
		int err = rawcap_parse_size(arg, &a->o.quota);

		if (err || !a->o.quota)
			return usage_error(rawcap_parse_error(RAWCAP_PARSE_SIZE, err, "--quota",
							      arg, msg, sizeof(msg)),
					   NULL);
		return 0;
	}
	case OPT_REMOTE:
		a->remote = arg;
		return 0;
	case OPT_ENDPOINT:
		a->o.endpoint = arg;
		return 0;
	case OPT_REGION:
		a->o.region = arg;
		return 0;
	case OPT_PROFILE:
		a->o.profile = arg;
		return 0;
	case OPT_CA_FILE:
		a->o.ca_file = arg;
		return 0;
	case OPT_PROGRESS:
		a->progress = true;
		return 0;
	case OPT_PART_SIZE:
		if (rawcap_parse_size(arg, &a->o.part_size) ||
		    a->o.part_size < RAWCAP_S3_PART_MIN || a->o.part_size > RAWCAP_S3_PART_MAX)
			return usage_error("bad part size (5Mi to 1Gi)", arg);
		return 0;
	case OPT_PARALLEL:
		return parse_count(arg, RAWCAP_S3_PARALLEL_MAX, &a->o.parallel)
			       ? usage_error("bad --parallel (1 to 64)", arg)
			       : 0;
	case OPT_RETRIES:
		if (!strcmp(arg, "0")) {
			a->o.no_retry = true;
			return 0;
		}
		return parse_count(arg, RAWCAP_S3_RETRIES_MAX, &a->o.retries)
			       ? usage_error("bad --retries (0 to 20)", arg)
			       : 0;
	case OPT_MAX_RATE:
		return rawcap_parse_size(arg, &a->o.max_rate) || !a->o.max_rate
			       ? usage_error("bad rate", arg)
			       : 0;
	case OPT_ID_HELP:
		opt_help_buffer();
		s3_usage(stdout);
		exit(0);
	default:
		return 2;
	}
}

/* The URL each command takes, checked against the options given. */
static int pick_url(struct s3_args *a)
{
	bool up = !strcmp(a->cmd, "upload"), down = !strcmp(a->cmd, "download");
	const char *env = getenv(ENV_REMOTE);

	if ((a->to && !up) || (a->from && !down) || (a->remote && (up || down)))
		return usage_error(up	  ? "upload takes --to s3://..."
				   : down ? "download takes --from s3://..."
					  : "list and delete take --remote s3://...",
				   NULL);
	if (a->o.quota && !down)
		return usage_error("--quota applies to download only", NULL);
	a->o.url = up ? a->to : down ? a->from : a->remote;
	if (!a->o.url && (up || down) && env && *env)
		a->o.url = env;
	if (!a->o.url)
		return usage_error(
			up     ? "upload needs --to s3://BUCKET[/PREFIX] (or $" ENV_REMOTE ")"
			: down ? "download needs --from s3://BUCKET[/PREFIX] (or $" ENV_REMOTE ")"
			       : "missing --remote s3://BUCKET[/PREFIX]",
			NULL);
	if ((up || down || !strcmp(a->cmd, "delete")) && !a->name)
		return usage_error("missing snapshot name", a->cmd);
	if (!strcmp(a->cmd, "list") && a->name)
		return usage_error("unexpected argument", a->name);
	if (a->name && !rawcap_snapshot_name_ok(a->name))
		return usage_error("invalid snapshot name (" RAWCAP_SNAPSHOT_NAME_RULE ")", a->name);
	return 0;
}

static int parse_args(int argc, char **argv, struct s3_args *a)
{
	const struct opt *const parts[] = {s3_url_opts, s3_opts};
	struct opt all[OPT_MAX + 1];
	struct opt_parser p;
	int c, err;

	a->dest = opt_snapshot_dir(NULL);
	a->o.sz = sizeof(a->o);
	if (opt_join(all, OPT_MAX + 1, parts, 2) || opt_init(&p, all, argc, argv))
		return usage_error("too many options", NULL);
	while ((c = opt_next(&p, PROG)) != -1)
		if ((err = parse_opt(a, c, optarg)))
			return err;
	if (optind < argc)
		a->cmd = argv[optind++];
	if (optind < argc)
		a->name = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	return pick_url(a);
}

static struct rawcap_s3_xfer *volatile running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		rawcap_s3_cancel(running);
}

static void show_progress(const char *cmd, const char *name, const struct rawcap_s3_status *st)
{
	double pct = st->bytes_total ? 100.0 * (double)st->bytes_done / (double)st->bytes_total : 0;

	fprintf(stderr, PROG ": %s %s: %5.1f%% (%.1f of %.1f MiB), %u/%u files%s", cmd, name, pct,
		(double)st->bytes_done / 1048576, (double)st->bytes_total / 1048576, st->files_done,
		st->files_total, st->retries ? "" : "\n");
	if (st->retries)
		fprintf(stderr, ", %u retries\n", st->retries);
}

static int cmd_transfer(struct s3_args *a)
{
	bool up = !strcmp(a->cmd, "upload");
	bool progress = !opt_quiet && (a->progress || isatty(STDERR_FILENO));
	struct sigaction sa = {.sa_handler = on_signal};
	struct rawcap_s3_status st;
	struct rawcap_s3_xfer *x;
	int err;

	err = up ? rawcap_s3_upload_start(&a->o, a->dest, a->name, &x)
		 : rawcap_s3_download_start(&a->o, a->name, a->dest, &x);
	if (err) {
		fprintf(stderr, PROG ": %s %s: %s\n", a->cmd, a->name, strerror(-err));
		return 1;
	}
	running = x;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while ((err = rawcap_s3_wait(x, 2000)) == -ETIMEDOUT)
		if (progress) {
			rawcap_s3_status(x, &st);
			show_progress(a->cmd, a->name, &st);
		}
	rawcap_s3_status(x, &st);
	running = NULL;
	rawcap_s3_free(x);
	if (err) {
		fprintf(stderr, PROG ": %s\n", st.message);
		return err == -EINVAL ? 2 : 1;
	}
	if (!opt_quiet)
		printf("%s\n", st.message);
	return 0;
}

static int cmd_list(struct s3_args *a)
{
	struct rawcap_s3_entry *v;
	char err[1024], t1[64], t2[64];
	size_t n;

	int rc = rawcap_s3_list(&a->o, true, &v, &n, err, sizeof(err));

	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rawcap_snapshot_info *in = &v[i].info;

		if (!v[i].complete)
			fprintf(stderr,
				PROG
				": %s: not a snapshot: %llu objects, %llu bytes, no manifest (an "
				"interrupted upload: upload it again to resume, or delete "
				"--remote)\n",
				v[i].name, (unsigned long long)v[i].objects,
				(unsigned long long)v[i].bytes);
		else if (!v[i].have_info)
			printf("%s\t(unreadable manifest)\n", v[i].name);
		else
			printf("%s\t%s\t%s\t%llu packets\t%llu bytes%s\n", v[i].name,
			       rawcap_format_time(in->from_ns, t1, sizeof(t1)),
			       rawcap_format_time(in->to_ns, t2, sizeof(t2)),
			       (unsigned long long)in->packets, (unsigned long long)in->data_bytes,
			       in->partial ? "\tpartial" : "");
	}
	rawcap_s3_list_free(v);
	return 0;
}

static int cmd_delete(struct s3_args *a)
{
	char err[1024];

	int rc = rawcap_s3_delete(&a->o, a->name, err, sizeof(err));

	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	if (!opt_quiet)
		printf("deleted %s from %s\n", a->name, a->o.url);
	return 0;
}

int snapshot_s3_main(int argc, char **argv)
{
	struct s3_args a = {0};
	int err = parse_args(argc, argv, &a);

	if (err)
		return err;
	if (!strcmp(a.cmd, "upload") || !strcmp(a.cmd, "download"))
		return cmd_transfer(&a);
	if (!strcmp(a.cmd, "list"))
		return cmd_list(&a);
	return cmd_delete(&a);
}
