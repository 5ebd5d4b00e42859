// SPDX-License-Identifier: MIT
/*
 * rawcap-snapshot - preserve a time window of the capture before the FIFO
 * recycles it, and manage the snapshots (list, show, verify, delete).
 *
 * A thin main over rawcap/snapshot.h; `serve` is the Helm chart's sidecar
 * mode: it idles (no CPU, no wakeups) so that users can `kubectl exec` the
 * other commands in the container, and exits 0 on SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rawcap/meta.h>
#include <rawcap/snapshot.h>
#include <rawcap/window.h>

#include "opt.h"
#include "snapshot_s3.h"

#define PROG	     "rawcap-snapshot"
#define DEFAULT_DEST OPT_SNAPSHOT_DIR_DEFAULT

enum { OPT_ID_NAME = OPT_ID_LOCAL };

static const struct opt opts[] = {
	OPT_DEF_RING("ring to read (default: \"default\")"),
	OPT_DEF_STORAGE("disk FIFO behind the ring (history older than the ring;\n"
			"default: the one capd records in the ring)"),
	OPT_DEF_SNAPSHOT_DIR("snapshot storage (default: $RAWCAP_SNAPSHOT_DIR or\n" DEFAULT_DEST
			     ")"),
	{"name", 'n', OPT_ID_NAME, "NAME", "1-100 of A-Z a-z 0-9 . _ - (default: snap-<UTC time>)",
	 0},
	OPT_DEF_FROM("window start"),
	OPT_DEF_TO("window end (exclusive)"),
	OPT_DEF_LAST("the window that ends now (e.g. 5m, 90s)"),
	OPT_DEF_FILTER("keep only packets matching this pcap filter"),
	OPT_DEF_PODS("\nThe metadata (and that of 10 minutes before the window) is\n"
		     "kept whole, so the snapshot still names pods; the\n"
		     "selection is recorded in the manifest's \"filter\"."),
	OPT_DEF_QUOTA("bytes all snapshots in --snapshot-dir may use (e.g. 10Gi)"),
	OPT_DEF_NODE("node name for the manifest (default: host name)"),
	OPT_DEF_QUIET,
	OPT_DEF_HELP,
	OPT_OLD("dest", 0, OPT_ID_SNAPSHOT_DIR, "DIR", "the same as --snapshot-dir"),
	OPT_GONE(NULL, 'L', "now --label, as in every tool; was --last: give --last"),
	OPT_GONE(NULL, 'N', "now --namespace, as in every tool; was --node: give --node"),
	OPT_END,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " create [--ring NAME] [--storage DIR] [--name NAME]\n"
		"                       (--from T --to T | --last DURATION) [--filter EXPR]\n"
		"                       [--snapshot-dir DIR] [--quota SIZE] [--node NAME]\n"
		"                       [--pod NAME] [--namespace NS] [--label K=V]\n"
		"       " PROG " list [--snapshot-dir DIR]\n"
		"       " PROG " show NAME [--snapshot-dir DIR] | show PATH\n"
		"       " PROG " verify NAME [--snapshot-dir DIR] | verify PATH\n"
		"       " PROG " delete NAME [--snapshot-dir DIR] | delete PATH\n"
		"       " PROG " bounds [--ring NAME] [--storage DIR]\n"
		"       " PROG " serve [--ring NAME] [--storage DIR] [--snapshot-dir DIR]\n"
		"       " PROG
		" upload|download|list --remote|delete --remote ...: object storage\n"
		"                       (S3), see `" PROG " upload --help`\n"
		"\n"
		"Copy a time window of this node's capture (all records: packets, interface\n"
		"descriptions, metadata, loss) out of the ring and disk FIFO into snapshot\n"
		"storage, with a manifest (window, node, filter, counts, SHA-256 per file), and\n"
		"make it read-only. A snapshot outlives the FIFO: export it with\n"
		"rawcap-pcap --snapshot NAME, forward it with rawcap-forward --snapshot NAME.\n"
		"`serve` (the Helm chart's sidecar) checks that the ring and the disk FIFO are\n"
		"readable here, says so, and idles until SIGTERM: exec `create` into it.\n"
		"\n");
	opt_help(f, opts);
	fprintf(f, "\n%s", opt_times_help);
	fprintf(f,
		"`bounds` prints the oldest and newest time still held on this node.\n"
		"\n"
		"A snapshot whose window reaches before the oldest record held is marked\n"
		"partial in its manifest (and in list and show), with the missing part and its\n"
		"reason: \"recycled\" (captured, then overwritten before the copy: lost) or\n"
		"\"before capture\" (capture had not begun: nothing existed). What a snapshot\n"
		"lacks is said on stderr; for an empty one also what was held and what matched.\n"
		"`verify` checks every file's SHA-256, that every block is intact and that the\n"
		"records add up to the manifest's counts.\n"
		"\n"
		"Exit status: 0 success: the snapshot holds every record captured in its\n"
		"window (it may be empty, or partial \"before capture\"); 1 failure, or records\n"
		"of the window were lost (recycled, missed or damaged while copying, or lost\n"
		"upstream), or a pod selection found no Kubernetes metadata, or `verify` found\n"
		"damage; 2 usage error.\n");
}

struct args {
	const char *cmd, *name, *ring, *storage, *dest, *filter, *node;
	struct opt_window win;
	uint64_t quota;
	struct rawcap_meta_join *pods; /* NULL unless --pod/--namespace/--label */
	char pods_text[1024];
	bool dest_given;  /* --snapshot-dir on the command line */
	char path[4096]; /* a snapshot given as a path, split in two */
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s (see --help)\n", what, arg ? ": " : "", arg ? arg : "");
	return 2;
}

/* --pod, --namespace, --label (rawcap/meta.h); returns 0 or an exit status. */
static int parse_pod_option(struct args *a, int c, const char *arg)
{
	size_t n = strlen(a->pods_text);
	int err;

	if (!a->pods && rawcap_meta_join_new(&a->pods)) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	err = rawcap_meta_sel_option(rawcap_meta_join_sel(a->pods), c, arg);
	if (err < 0)
		return usage_error("bad pod selection", arg);
	if (!err)
		return usage_error("bad option", NULL);
	snprintf(a->pods_text + n, sizeof(a->pods_text) - n, "%s--%s %s", n ? " " : "",
		 c == RAWCAP_OPT_POD ? "pod" : c == RAWCAP_OPT_NAMESPACE ? "namespace" : "label",
		 arg);
	return 0;
}

static int parse_option(struct args *a, int c, const char *arg)
{
	char msg[640];
	int err;

	switch (c) {
	case OPT_ID_RING:
		a->ring = arg;
		break;
	case OPT_ID_STORAGE:
		a->storage = arg;
		break;
	case OPT_ID_SNAPSHOT_DIR:
		a->dest = arg;
		a->dest_given = true;
		break;
	case OPT_ID_NAME:
		a->name = arg;
		break;
	case OPT_ID_FILTER:
		a->filter = arg;
		break;
	case OPT_ID_NODE:
		a->node = arg;
		break;
	case OPT_ID_HELP:
		opt_help_buffer();
		usage(stdout);
		exit(0);
	case OPT_ID_QUOTA:
		err = rawcap_parse_size(arg, &a->quota);
		if (err || !a->quota)
			return usage_error(rawcap_parse_error(RAWCAP_PARSE_SIZE, err, "--quota",
							      arg, msg, sizeof(msg)),
					   NULL);
		break;
	case '?':
		return 2;
	default:
		err = opt_window_arg(&a->win, c, arg, PROG);
		if (err)
			return err < 0 ? 2 : 0;
		return parse_pod_option(a, c, arg);
	}
	return 0;
}

/*
 * show, verify and delete take a snapshot as the readers' --snapshot does: a
 * NAME in the snapshot directory, or a PATH (anything with a '/'). With
 * --snapshot-dir given, only a NAME.
 */
static int take_snapshot_path(struct args *a)
{
	if (!a->name || !strchr(a->name, '/') ||
	    (strcmp(a->cmd, "show") && strcmp(a->cmd, "verify") && strcmp(a->cmd, "delete")))
		return 0;
	if (a->dest_given)
		return usage_error("invalid snapshot name (with --snapshot-dir, give a NAME; "
				   "without it, a NAME or a PATH)",
				   a->name);
	if (opt_snapshot_split(a->name, a->path, sizeof(a->path), &a->dest, &a->name))
		return usage_error("snapshot path too long", a->name);
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	struct opt_parser p;
	int c, err;

	a->dest = opt_snapshot_dir(NULL);
	opt_window_init(&a->win);
	if (opt_init(&p, opts, argc, argv))
		return usage_error("too many options", NULL);
	while ((c = opt_next(&p, PROG)) != -1)
		if ((err = parse_option(a, c, optarg)))
			return err;
	if (optind >= argc)
		return usage_error("missing command", NULL);
	a->cmd = argv[optind++];
	if (optind < argc && !a->name && strcmp(a->cmd, "create"))
		a->name = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if ((err = take_snapshot_path(a)))
		return err;
	if (a->name && !rawcap_snapshot_name_ok(a->name))
		return usage_error("invalid snapshot name (" RAWCAP_SNAPSHOT_NAME_RULE ")", a->name);
	return 0;
}

static volatile sig_atomic_t create_stop;

static void on_create_signal(int sig)
{
	(void)sig;
	create_stop = 1;
}

/* SIGINT/SIGTERM/SIGHUP cancel a create: it removes its staging directory and ends. */
static void create_signals(void)
{
	opt_stop_signals(on_create_signal, 0);
}

static int cmd_create(struct args *a)
{
	struct rawcap_snapshot_info info;
	struct rawcap_window_result res;
	struct rawcap_snapshot_opts o = {
		.sz = sizeof(o),
		.ring = a->ring,
		.storage_dir = a->storage,
		.dest = a->dest,
		.name = a->name,
		.node = a->node,
		.filter = a->filter,
		.quota = a->quota,
		.pods = a->pods,
		.pods_text = a->pods_text,
		.result = &res,
		.stop = &create_stop,
	};
	char name[64], err[512];
	bool lossy;
	int ret;

	if (opt_window_finish(&a->win, false, PROG))
		return 2;
	if (!a->win.from_ns || !a->win.to_ns)
		return usage_error("create needs --from and --to, or --last", NULL);
	o.from_ns = a->win.from_ns;
	o.to_ns = a->win.to_ns;
	if (!o.name) {
		time_t t = time(NULL);

		strftime(name, sizeof(name), "snap-%Y%m%dT%H%M%SZ", gmtime(&t));
		o.name = name;
	}
	if (o.to_ns > rawcap_now_ns())
		opt_note(PROG, "the window ends in the future: copying until %s",
			 rawcap_format_time(o.to_ns, err, sizeof(err)));
	create_signals();
	ret = rawcap_snapshot_create(&o, &info, err, sizeof(err));
	if (ret == -ECANCELED) {
		fprintf(stderr, PROG ": create %s in %s: cancelled by a signal; nothing kept\n",
			o.name, a->dest);
		return 1;
	}
	if (ret < 0) {
		fprintf(stderr, PROG ": create %s in %s: %s\n", o.name, a->dest, err);
		return ret == -EINVAL && strstr(err, "filter") ? 2 : 1;
	}
	printf("%s/%s: %llu packets, %llu records, %llu bytes of data\n", a->dest, o.name,
	       (unsigned long long)info.packets, (unsigned long long)info.records,
	       (unsigned long long)info.data_bytes);
	lossy = rawcap_window_report(stderr, PROG, &res);
	if (info.partial)
		fprintf(stderr, PROG ": %s is marked partial in its manifest (%s)\n", o.name,
			info.uncaptured ? "before capture: nothing was lost" : "recycled: lost");
	return rawcap_window_report_pods(stderr, PROG, a->pods) || lossy ? 1 : 0;
}

static int cmd_list(struct args *a)
{
	struct rawcap_snapshot_info in;
	char **names, t1[64], t2[64], why[320];
	size_t n;
	int err = rawcap_snapshot_list_why(a->dest, &names, &n, why, sizeof(why));

	if (err) {
		fprintf(stderr, PROG ": list %s: %s\n", a->dest, why[0] ? why : rawcap_strerror(err));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		err = rawcap_snapshot_show(a->dest, names[i], &in);
		if (err) {
			printf("%s\t(unreadable: %s)\n", names[i],
			       err == -EBADMSG ? "malformed manifest" : rawcap_strerror(err));
			continue;
		}
		printf("%s\t%s\t%s\t%llu packets\t%llu bytes%s\n", names[i],
		       rawcap_format_time(in.from_ns, t1, sizeof(t1)),
		       rawcap_format_time(in.to_ns, t2, sizeof(t2)), (unsigned long long)in.packets,
		       (unsigned long long)in.data_bytes,
		       !in.partial     ? ""
		       : in.uncaptured ? "\tpartial (before capture)"
				       : "\tpartial (recycled)");
	}
	rawcap_snapshot_list_free(names, n);
	return 0;
}

static int cmd_named(struct args *a)
{
	char err[512] = "", *text;
	int ret;

	if (!a->name)
		return usage_error("missing snapshot name", a->cmd);
	if (!strcmp(a->cmd, "show")) {
		ret = rawcap_snapshot_manifest_text(a->dest, a->name, &text);
		if (!ret) {
			fputs(text, stdout);
			free(text);
			return 0;
		}
		snprintf(err, sizeof(err), "%s",
			 ret == -EBADMSG ? "malformed manifest" : rawcap_strerror(ret));
	} else if (!strcmp(a->cmd, "verify")) {
		ret = rawcap_snapshot_verify(a->dest, a->name, err, sizeof(err));
		if (!ret) {
			printf("%s: OK\n", a->name);
			return 0;
		}
		if (ret == -EBADMSG) {
			printf("%s: DAMAGED: %s\n", a->name, err);
			return 1;
		}
	} else {
		ret = rawcap_snapshot_delete_why(a->dest, a->name, err, sizeof(err));
		if (!ret)
			return 0;
	}
	if (!err[0]) /* a refusal said why; the rest are said by their errno */
		snprintf(err, sizeof(err), "%s", rawcap_strerror(ret));
	fprintf(stderr, PROG ": %s %s/%s: %s\n", a->cmd, a->dest, a->name, err);
	return 1;
}

static int cmd_bounds(struct args *a)
{
	struct rawcap_window_opts o = {.sz = sizeof(o), .ring = a->ring, .storage_dir = a->storage};
	uint64_t oldest, newest;
	char t1[64], t2[64];
	int err = rawcap_window_bounds(&o, &oldest, &newest);

	if (err == -ENODATA) {
		printf("empty\n");
		return 0;
	}
	if (err) {
		char why[320];

		fprintf(stderr, PROG ": bounds of ring %s: %s\n", a->ring ? a->ring : "default",
			rawcap_ring_explain(a->ring, err, why, sizeof(why)));
		return 1;
	}
	printf("oldest %s\nnewest %s\n", rawcap_format_time(oldest, t1, sizeof(t1)),
	       rawcap_format_time(newest, t2, sizeof(t2)));
	return 0;
}

/*
 * Say what `create` will read here (the ring, and the disk FIFO given or
 * found in the ring), then idle until SIGTERM/SIGINT: blocked signals and
 * sigwait cost nothing while waiting.
 */
static int cmd_serve(struct args *a)
{
	struct rawcap_window_opts o = {.sz = sizeof(o), .ring = a->ring, .storage_dir = a->storage};
	uint64_t oldest, newest;
	char t1[64], t2[64], why[320];
	sigset_t set;
	int sig, err = rawcap_window_bounds(&o, &oldest, &newest);

	if (err && err != -ENODATA)
		fprintf(stderr, PROG ": ring %s is not readable yet: %s\n",
			a->ring ? a->ring : "default",
			rawcap_ring_explain(a->ring, err, why, sizeof(why)));
	else if (!err)
		opt_note(PROG, "ring %s%s%s holds %s .. %s", a->ring ? a->ring : "default",
			 a->storage ? " and disk FIFO " : " (and the disk FIFO capd records in it)",
			 a->storage ? a->storage : "", rawcap_format_time(oldest, t1, sizeof(t1)),
			 rawcap_format_time(newest, t2, sizeof(t2)));

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	opt_note(PROG, "serving; run `" PROG " create ...` in this container");
	sigwait(&set, &sig);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	int err;

	if (snapshot_s3_wants(argc, argv))
		return snapshot_s3_main(argc, argv);
	err = parse_args(argc, argv, &a);

	if (err) {
		rawcap_meta_join_free(a.pods);
		return err;
	}
	if (a.pods && strcmp(a.cmd, "create")) {
		rawcap_meta_join_free(a.pods);
		return usage_error("--pod, --namespace and --label are for create", NULL);
	}
	if (!strcmp(a.cmd, "create")) {
		err = cmd_create(&a);
		rawcap_meta_join_free(a.pods);
		return err;
	}
	if (!strcmp(a.cmd, "list"))
		return cmd_list(&a);
	if (!strcmp(a.cmd, "show") || !strcmp(a.cmd, "verify") || !strcmp(a.cmd, "delete"))
		return cmd_named(&a);
	if (!strcmp(a.cmd, "bounds"))
		return cmd_bounds(&a);
	if (!strcmp(a.cmd, "serve"))
		return cmd_serve(&a);
	return usage_error("unknown command", a.cmd);
}
