// SPDX-License-Identifier: MIT
/*
 * cmd_export.c - the commands that merge nodes' packets into one file or
 * stream: export (a time window), snapshot export (a cluster snapshot),
 * dissect (either, to a dissector over TCP or TLS) and merge (local files).
 *
 * The window is resolved once, here (--last 5m is the same five minutes on
 * every node), and sent to every node as absolute RFC 3339 times. Filters
 * and pod selections are checked here first, so a typo is a usage error
 * and not N failed nodes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rawcap/rawcap.h>
#include <rawcap/snapshot.h>

#include "fanin.h"
#include "http.h"
#include "target.h"
#include "transport.h"
#include "winargs.h"

enum xkind { X_EXPORT, X_SNAPSHOT, X_DISSECT, X_MERGE };

enum {
	OPT_TARGET = CLI_OPT_LAST_GLOBAL,
	OPT_TARGET_CA,
	OPT_TARGET_CERT,
	OPT_TARGET_KEY,
	OPT_PLAIN,
	OPT_LINKTYPE,
};

struct xargs {
	enum xkind kind;
	struct winargs w;
	enum rawcap_pcap_format format;
	uint32_t snaplen;
	uint16_t linktype;
	const char *out;
	const char *snapshot; /* snapshot export / dissect NAME */
	struct target_opts target;
	double pace;
	char **files; /* merge: NODE=FILE arguments */
	size_t nfiles;
	const char *out_input; /* merge: the input -o names too (written beside only) */
};

/* The file options export, snapshot export, dissect and merge share. */
static const struct opt file_opts[] = {
	OPT_DEF_FORMAT("pcapng (default) or pcap (nanosecond)"),
	{"linktype", 'y', OPT_LINKTYPE, "LT",
	 "auto (default): one link type per file, so that\n"
	 "tcpdump, tcpreplay and every libpcap tool read it:\n"
	 "the nodes' own when they share one, else LINUX_SLL\n"
	 "(decided from the interfaces described before the\n"
	 "first packet); native (pcapng): each interface keeps\n"
	 "its own, as mergecap does (Wireshark reads it,\n"
	 "libpcap does not when they differ); sll, sll2: always\n"
	 "LINUX_SLL or LINUX_SLL2. The same words as\n"
	 "rawcap-pcap's.",
	 0},
	OPT_DEF_SNAPLEN("truncate packets to N bytes (16..262144; default: as\ncaptured)"),
	OPT_END,
};

/* Where the file goes: every kind but dissect. */
static const struct opt out_opts[] = {
	OPT_DEF_OUTPUT("output file, \"-\" for stdout (default: -)"),
	OPT_DEF_OUTPUT_W,
	OPT_END,
};

static const struct opt dissect_opts[] = {
	{"target", 0, OPT_TARGET, "HOST:PORT", "where to send the stream", 0},
	{"plain", 0, OPT_PLAIN, NULL,
	 "plain TCP, no TLS (must be asked for, as with\nrawcap-forward)", 0},
	{"target-ca", 0, OPT_TARGET_CA, "FILE",
	 "verify the dissector's certificate against this CA\n(default: the system's CAs)", 0},
	{"target-cert", 0, OPT_TARGET_CERT, "FILE", "our client certificate (PEM)", 0},
	{"target-key", 0, OPT_TARGET_KEY, "FILE", "its private key (PEM)", 0},
	OPT_DEF_PACE,
	OPT_END,
};

static void help_export(FILE *f)
{
	fprintf(f,
		"Usage: kubectl rawcap export (--from T [--to T] | --last DURATION) [--filter "
		"EXPR]\n"
		"         [--pod NAME] [--namespace NS] [--label K=V] [--format pcapng|pcap]\n"
		"         [--linktype LT] [--snaplen N] [-o FILE|-]\n"
		"\n"
		"Stream the same time window from every node at once and merge it by\n"
		"timestamp into one capture file. pcapng (default) has one interface block per\n"
		"node and interface, named NODE/IFACE; each node's loss stays in the file (drop\n"
		"counts, comments, interface statistics) and a part of the window a node no\n"
		"longer held is said on stderr and in the file's comment. Memory stays bounded\n"
		"by the number of nodes, whatever the window's size.\n"
		"\n");
	opt_help(f, file_opts);
	opt_help(f, out_opts);
	win_help(f);
	fprintf(f, "\nExample: kubectl rawcap export --last 5m -o all.pcapng && wireshark "
		   "all.pcapng\n");
	cli_help_global(f);
}

static void help_snapshot_export(FILE *f)
{
	fprintf(f,
		"Usage: kubectl rawcap snapshot export NAME [--from T] [--to T] [--filter EXPR]\n"
		"         [--pod NAME] [--namespace NS] [--label K=V] [--format pcapng|pcap]\n"
		"         [--linktype LT] [--snaplen N] [-o FILE|-]\n"
		"\n"
		"Merge snapshot NAME of every node into one capture file, as export does.\n"
		"--from/--to narrow it.\n"
		"\n");
	opt_help(f, file_opts);
	opt_help(f, out_opts);
	win_help(f);
	cli_help_global(f);
}

static void help_dissect(FILE *f)
{
	fprintf(f, "Usage: kubectl rawcap dissect (NAME | --from T [--to T] | --last DURATION)\n"
		   "         --target HOST:PORT [--plain | [--target-ca F] [--target-cert F\n"
		   "         --target-key F]] [--pace realtime|Nx] [--format pcapng|pcap]\n"
		   "         [--linktype LT]\n"
		   "         [--filter EXPR] [--pod NAME] [--namespace NS] [--label K=V]\n"
		   "\n"
		   "Delayed dissection on other compute: stream a window (or snapshot NAME),\n"
		   "merged from every node as export does, over TCP or TLS to a dissector such\n"
		   "as `tshark -i TCP@HOST:PORT` or Kubeshark's worker.\n"
		   "\n");
	opt_help(f, dissect_opts);
	opt_help(f, file_opts);
	win_help(f);
	cli_help_global(f);
}

static void help_merge(FILE *f)
{
	fprintf(f, "Usage: kubectl rawcap merge [--format pcapng|pcap] [--linktype LT]\n"
		   "         [--snaplen N] [-o FILE|-] NODE=FILE...\n"
		   "\n"
		   "Merge pcapng files already at hand (e.g. each node's rawcap-pcap export) by\n"
		   "timestamp, exactly as export merges the nodes' streams: interfaces named\n"
		   "NODE/IFACE, each node's loss kept, ties in the order of the node names.\n"
		   "Reaches no node. FILE \"-\" is standard input.\n"
		   "\n");
	static const struct opt merge_help_opts[] = {
		OPT_DEF_QUIET, OPT_DEF_HELP, OPT_END};

	opt_help(f, file_opts);
	opt_help(f, out_opts);
	opt_help(f, merge_help_opts);
	fprintf(f, "\n"
		   "Exit status: 0 every file merged whole; 1 a file was missing, not pcapng, or\n"
		   "cut short (named on stderr; the rest is merged); 2 usage error.\n");
}

static void (*help_for(enum xkind k))(FILE *)
{
	switch (k) {
	case X_SNAPSHOT:
		return help_snapshot_export;
	case X_DISSECT:
		return help_dissect;
	case X_MERGE:
		return help_merge;
	default:
		return help_export;
	}
}

static int x_option(void *ctx, int id, const char *arg)
{
	struct xargs *a = ctx;
	uint64_t v;
	int rc = win_option(&a->w, id, arg);

	if (rc)
		return rc < 0 ? -rc : 0;
	switch (id) {
	case OPT_ID_OUTPUT:
		a->out = arg;
		return 0;
	case OPT_ID_FORMAT:
		if (!strcmp(arg, "pcapng"))
			a->format = RAWCAP_PCAP_PCAPNG;
		else if (!strcmp(arg, "pcap"))
			a->format = RAWCAP_PCAP_CLASSIC;
		else
			return cli_usage_error("unknown format (pcapng or pcap)", arg);
		return 0;
	case OPT_LINKTYPE:
		if (rawcap_pcap_parse_linktype(arg, &a->linktype))
			return cli_usage_error("unknown link type (auto, native, sll or sll2)", arg);
		return 0;
	case OPT_ID_SNAPLEN:
		if (rawcap_parse_size(arg, &v) || v < 16 || v > 262144)
			return cli_usage_error("bad snaplen (16..262144)", arg);
		a->snaplen = (uint32_t)v;
		return 0;
	case OPT_TARGET:
		a->target.hostport = arg;
		return 0;
	case OPT_TARGET_CA:
		a->target.ca = arg;
		return 0;
	case OPT_TARGET_CERT:
		a->target.cert = arg;
		return 0;
	case OPT_TARGET_KEY:
		a->target.key = arg;
		return 0;
	case OPT_PLAIN:
		a->target.plain = true;
		return 0;
	case OPT_ID_PACE:
		opt_pace(arg, &a->pace); /* opt_next() refused a bad one */
		return 0;
	}
	return cli_usage_error("unknown option", NULL);
}

/* Options a kind does not take are refused rather than ignored. */
static int check_kind(const struct xargs *a)
{
	bool dissect = a->kind == X_DISSECT;

	if (dissect && !a->target.hostport)
		return cli_usage_error("dissect needs --target HOST:PORT", NULL);
	if (dissect && a->target.plain && (a->target.ca || a->target.cert || a->target.key))
		return cli_usage_error("--plain excludes --target-ca/--target-cert/--target-key",
				       NULL);
	if (dissect && !a->target.cert != !a->target.key)
		return cli_usage_error("--target-cert and --target-key go together", NULL);
	if (a->linktype == RAWCAP_PCAP_LT_NATIVE && a->format != RAWCAP_PCAP_PCAPNG)
		return cli_usage_error("--linktype native needs --format pcapng", NULL);
	return 0;
}

/* The positional arguments: NAME (snapshot export, dissect) or NODE=FILE... (merge). */
static int positional(struct xargs *a, int argc, char **argv)
{
	if (a->kind == X_MERGE) {
		a->files = argv + optind;
		a->nfiles = (size_t)(argc - optind);
		return a->nfiles ? 0 : cli_usage_error("merge needs NODE=FILE arguments", NULL);
	}
	if ((a->kind == X_SNAPSHOT || a->kind == X_DISSECT) && optind < argc)
		a->snapshot = argv[optind++];
	if (a->kind == X_SNAPSHOT && !a->snapshot)
		return cli_usage_error("snapshot export needs a snapshot NAME", NULL);
	if (a->snapshot && !rawcap_snapshot_name_ok(a->snapshot))
		return cli_usage_error("bad snapshot name (A-Z a-z 0-9 . _ -)", a->snapshot);
	if (optind < argc)
		return cli_usage_error("unexpected argument", argv[optind]);
	return 0;
}

/* Each kind's table: the options it does not take are refused as unknown. */
static size_t x_sections(enum xkind k, const struct opt **parts)
{
	switch (k) {
	case X_MERGE:
		parts[0] = file_opts;
		parts[1] = out_opts;
		return 2;
	case X_DISSECT:
		parts[0] = dissect_opts;
		parts[1] = file_opts;
		parts[2] = win_opts;
		return 3;
	default:
		parts[0] = file_opts;
		parts[1] = out_opts;
		parts[2] = win_opts;
		return 3;
	}
}

static int parse(struct cli *c, struct xargs *a, int argc, char **argv)
{
	const struct opt *parts[3];
	size_t n = x_sections(a->kind, parts);
	bool need_window;
	int rc;

	win_init(&a->w);
	if ((rc = cli_parse(c, parts, n, argc, argv, help_for(a->kind), x_option, a)))
		return rc;
	if ((rc = positional(a, argc, argv)) || (rc = check_kind(a)))
		return rc;
	need_window = a->kind == X_EXPORT || (a->kind == X_DISSECT && !a->snapshot);
	if ((rc = win_finish(&a->w, need_window, a->snapshot != NULL)))
		return rc;
	if (a->kind == X_MERGE)
		c->progress = !c->quiet && isatty(2);
	else if ((rc = cli_global_check(c)))
		return rc;
	if (a->kind != X_DISSECT && !a->out)
		a->out = "-";
	if (a->out && rawcap_output_is_stdout(a->out) && isatty(1))
		return cli_usage_error(
			"refusing to write binary capture to a terminal; use -o FILE", NULL);
	return 0;
}

/* The request path: /v1/pcap or /v1/snapshots/NAME/pcap with the window and selection. */
static char *request_path(const struct xargs *a)
{
	struct http_req q = {0};
	char t[64], n[16];
	int err;

	err = a->snapshot ? http_set_path(&q, "/v1/snapshots/%s/pcap", a->snapshot)
			  : http_set_path(&q, "/v1/pcap");
	if (!err)
		err = http_add_query(&q, "format", "pcapng");
	if (!err && a->w.t.from_ns)
		err = http_add_query(&q, "from", rawcap_format_time(a->w.t.from_ns, t, sizeof(t)));
	if (!err && a->w.t.to_ns)
		err = http_add_query(&q, "to", rawcap_format_time(a->w.t.to_ns, t, sizeof(t)));
	if (!err && a->w.filter)
		err = http_add_query(&q, "filter", a->w.filter);
	if (!err && a->snaplen) {
		snprintf(n, sizeof(n), "%u", a->snaplen);
		err = http_add_query(&q, "snaplen", n);
	}
	for (size_t i = 0; !err && i < a->w.nsel; i++)
		err = http_add_query(&q, win_sel_key(&a->w, i), a->w.sel[i].arg);
	if (err) {
		free(q.path);
		return NULL;
	}
	return q.path;
}

/* The section header comment: what was merged, and from when to when. */
static void describe(const struct xargs *a, char *buf, size_t cap)
{
	char f[64], t[64];

	if (a->snapshot)
		snprintf(buf, cap, "kubectl rawcap: snapshot %s of every node, merged by time",
			 a->snapshot);
	else if (a->kind == X_MERGE)
		snprintf(buf, cap, "kubectl rawcap merge: %zu nodes' files, merged by time",
			 a->nfiles);
	else
		snprintf(buf, cap, "kubectl rawcap: window %s .. %s of every node, merged by time",
			 rawcap_format_time(a->w.t.from_ns, f, sizeof(f)),
			 rawcap_format_time(a->w.t.to_ns, t, sizeof(t)));
}

/* The output; -1 (said), or -2 (a usage error, said) for an input it would empty. */
static int open_output(const struct xargs *a, bool *created)
{
	char why[200], msg[300];
	int fd = a->out_input ? rawcap_output_create_beside(a->out, created, why, sizeof(why))
			      : rawcap_output_create(a->out, created, why, sizeof(why));

	if (fd == -EBUSY && a->out_input) {
		snprintf(msg, sizeof(msg), "-o names one of the files merged; write elsewhere (%s)",
			 why);
		cli_usage_error(msg, a->out_input);
		return -2;
	}
	if (fd < 0)
		fprintf(stderr, PROG ": output %s: %s\n", a->out, why);
	return fd < 0 ? -1 : fd;
}

/* A pipe or socket: its reader wants packets soon, not when a buffer fills. */
static bool is_stream(int fd)
{
	return lseek(fd, 0, SEEK_CUR) < 0 && errno == ESPIPE;
}

/*
 * merge -o FILE where FILE is one of its inputs (by any name): written
 * beside, it is read as it was and replaced at the end; where it would be
 * written in place (other links, another user's, a read-only directory) it
 * would be emptied before it is read: open_output() refuses it then.
 */
static void output_is_input(struct xargs *a, const char **files)
{
	struct stat o, in;

	if (!a->out || rawcap_output_is_stdout(a->out) || stat(a->out, &o))
		return;
	for (size_t i = 0; i < a->nfiles; i++)
		if (strcmp(files[i], "-") && !stat(files[i], &in) && in.st_dev == o.st_dev &&
		    in.st_ino == o.st_ino)
			a->out_input = files[i];
}

/* merge: NODE=FILE arguments, sorted by node name (ties go to the first name). */
static int split_files(struct xargs *a, const char **names, const char **files)
{
	for (size_t i = 0; i < a->nfiles; i++) {
		char *eq = strchr(a->files[i], '=');

		if (!eq)
			return cli_usage_error("not NODE=FILE", a->files[i]);
		*eq = '\0';
		if (!cli_node_name_ok(a->files[i]))
			return cli_usage_error("not a node name (lower case, digits, '-', '.')",
					       a->files[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[j], a->files[i]))
				return cli_usage_error("a node named twice", a->files[i]);
		names[i] = a->files[i];
		files[i] = eq + 1;
	}
	for (size_t i = 1; i < a->nfiles; i++) /* insertion sort: a handful of names */
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *tn = names[j], *tf = files[j];

			names[j] = names[j - 1];
			files[j] = files[j - 1];
			names[j - 1] = tn;
			files[j - 1] = tf;
		}
	output_is_input(a, files);
	return 0;
}

/* names and files as split_files() left them (a usage error creates no output). */
static int run_merge(struct cli *c, struct xargs *a, struct merge_opts *mo, const char **names,
		     const char **files, uint64_t *packets)
{
	struct fanin f = {0};
	int rc = 0;

	if (fanin_new(&f, c, mo, names, a->nfiles))
		rc = CLI_PARTIAL;
	f.stream_out = is_stream(mo->fd);
	if (!rc)
		rc = fanin_report(&f, fanin_files(&f, files));
	*packets = rc ? fanin_packets(&f) : 0;
	fanin_free(&f);
	return rc;
}

static int run_nodes(struct cli *c, struct xargs *a, struct merge_opts *mo, struct transport *t,
		     uint64_t *packets)
{
	const char **names = calloc(t->n ? t->n : 1, sizeof(*names));
	char *path = request_path(a);
	struct fanin f = {0};
	int rc = CLI_PARTIAL;

	for (size_t i = 0; names && i < t->n; i++)
		names[i] = t->nodes[i].name;
	if (names && path && !fanin_new(&f, c, mo, names, t->n)) {
		f.stream_out = mo->write_fn || is_stream(mo->fd);
		f.what = a->kind == X_DISSECT ? "dissect" : "export";
		rc = fanin_report(&f, fanin_http(&f, t, path));
		*packets = rc ? fanin_packets(&f) : 0;
	} else {
		fprintf(stderr, PROG ": out of memory\n");
	}
	fanin_free(&f);
	free(path);
	free(names);
	return rc;
}

static int run(struct cli *c, struct xargs *a)
{
	struct merge_opts mo = {
		.format = a->format,
		.snaplen = a->snaplen,
		.linktype = a->linktype,
		.fd = -1,
		.pace = a->pace,
	};
	struct transport t = {0};
	struct target tg = {0};
	const char **names = NULL, **files = NULL;
	char comment[400];
	uint64_t packets = 0;
	bool created = false;
	int rc = 0;

	describe(a, comment, sizeof(comment));
	mo.comment = comment;
	if (a->kind == X_MERGE) {
		names = calloc(a->nfiles, sizeof(*names));
		files = calloc(a->nfiles, sizeof(*files));
		rc = names && files ? split_files(a, names, files) : CLI_PARTIAL;
		if (rc)
			goto out;
	}
	if (a->kind != X_MERGE && (rc = transport_open(&t, c)))
		goto out;
	if (a->kind == X_DISSECT) {
		a->target.timeout_s = c->timeout_s;
		a->target.stop = c->stop;
		if (target_connect(&tg, &a->target)) {
			fprintf(stderr, PROG ": --target %s: %s\n", a->target.hostport, tg.err);
			rc = CLI_PARTIAL;
			goto out;
		}
		mo.write_fn = target_write;
		mo.write_arg = &tg;
	} else if ((mo.fd = open_output(a, &created)) < 0) {
		rc = mo.fd == -2 ? CLI_USAGE : CLI_PARTIAL;
		goto out;
	}
	rc = a->kind == X_MERGE ? run_merge(c, a, &mo, names, files, &packets)
				: run_nodes(c, a, &mo, &t, &packets);
	/* interrupted: the output keeps what was merged so far, as fanin_report says;
	   before any packet, a file that was there stays as it was */
	if (mo.fd > 1 && ((rc && !*c->stop) || (*c->stop && !packets && !created)))
		rawcap_output_failed(stderr, PROG, a->out, mo.fd, created, packets);
	else if (mo.fd > 1 && rawcap_output_finish(stderr, PROG, a->out, mo.fd))
		rc = CLI_PARTIAL;
	if (a->kind == X_DISSECT && tg.err[0])
		fprintf(stderr, PROG ": --target %s: %s\n", a->target.hostport, tg.err);
out:
	if (mo.fd > 1 && close(mo.fd)) {
		fprintf(stderr, PROG ": close %s: %s\n", a->out, strerror(errno));
		rc = CLI_PARTIAL;
	}
	target_close(&tg);
	transport_close(&t);
	free(names);
	free(files);
	return rc;
}

static int x_main(struct cli *c, enum xkind kind, int argc, char **argv)
{
	struct xargs a = {.kind = kind};
	int rc = parse(c, &a, argc, argv);

	return rc ? rc : run(c, &a);
}

int cmd_export(struct cli *c, int argc, char **argv)
{
	return x_main(c, X_EXPORT, argc, argv);
}

int cmd_dissect(struct cli *c, int argc, char **argv)
{
	return x_main(c, X_DISSECT, argc, argv);
}

int cmd_merge(struct cli *c, int argc, char **argv)
{
	return x_main(c, X_MERGE, argc, argv);
}

/* `snapshot export NAME ...`: argv[0] is "kubectl-rawcap snapshot export". */
int cmd_snapshot_export(struct cli *c, int argc, char **argv)
{
	return x_main(c, X_SNAPSHOT, argc, argv);
}
