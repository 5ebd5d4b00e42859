// SPDX-License-Identifier: MIT
/*
 * rawcap-pcap - export a time window of a node's capture (ring, disk FIFO
 * or snapshot) as pcapng or classic pcap, or stream the live end.
 *
 * A thin main over librawcap: the window loop (rawcap/window.h) with the
 * pcap sink (rawcap/pcap.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <rawcap/meta.h>
#include <rawcap/filter.h>
#include <rawcap/pcap.h>
#include <rawcap/window.h>

#include "opt.h"

#define PROG "rawcap-pcap"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

enum { OPT_ID_LINKTYPE = OPT_ID_LOCAL };

static const struct opt opts[] = {
	OPT_DEF_RING("ring to read (default: \"default\")"),
	OPT_DEF_STORAGE("disk FIFO directory: history older than the ring\n"
			"(default: the one capd records in the ring)"),
	OPT_DEF_SNAPSHOT("read snapshot NAME (in --snapshot-dir), or the snapshot\n"
			 "directory at a path (anything with a '/')"),
	OPT_DEF_SNAPSHOT_DIR(
		"where snapshots are (default: $RAWCAP_SNAPSHOT_DIR or\n" OPT_SNAPSHOT_DIR_DEFAULT
		")"),
	OPT_DEF_FROM("window start (default: oldest held; --follow: now)"),
	OPT_DEF_TO("window end, exclusive (default: now)"),
	OPT_DEF_LAST("the window that ends now (e.g. 5m); with --follow,\n"
		     "start that long ago and keep following"),
	OPT_DEF_FOLLOW("keep writing new packets until interrupted"),
	OPT_DEF_FILTER("pcap filter expression (tcpdump syntax)"),
	OPT_DEF_FORMAT("pcapng (default) or pcap (nanosecond)"),
	OPT_DEF_SNAPLEN("truncate packets to N bytes (16..262144; default: as\ncaptured)"),
	{"linktype", 'y', OPT_ID_LINKTYPE, "LT",
	 "auto (default): one link type per file, so that tcpdump,\n"
	 "tcpreplay and every libpcap tool read it: the packets'\n"
	 "own when they share one, else LINUX_SLL (a stream, which\n"
	 "cannot start over, decides from the interfaces described\n"
	 "before its first packet); native\n"
	 "(pcapng): each interface keeps its own (Wireshark and\n"
	 "tshark read it, libpcap does not when they differ);\n"
	 "sll, sll2: always LINUX_SLL or LINUX_SLL2 (SLL2 keeps\n"
	 "the ifindex; tcpreplay 4.4 cannot read it)",
	 0},
	OPT_DEF_PODS("\npcapng packet comments name the pods of both addresses\n"
		     "and, with capd --process-context, the processes\n"
		     "(pid, comm, container) of both sockets."),
	OPT_DEF_OUTPUT("output file, \"-\" for stdout (default: -)"),
	OPT_DEF_OUTPUT_W,
	OPT_DEF_QUIET,
	OPT_DEF_HELP,
	OPT_GONE(NULL, 'l', "was --snaplen; -l is --listen in every tool: give --snaplen N"),
	OPT_GONE(NULL, 'k', "was --linktype; now -y (tcpdump's); -k is rawcap-tap's --kind"),
	OPT_END,
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " [--ring NAME] [--storage DIR | --snapshot NAME] [--from T]\n"
		   "                   [--to T | --last DURATION | --follow] [--filter EXPR]\n"
		   "                   [--format pcapng|pcap] [--snaplen N]\n"
		   "                   [--linktype auto|native|sll|sll2] [--pod NAME]\n"
		   "                   [--namespace NS] [--label K=V] [-o FILE | -o -]\n"
		   "\n"
		   "Write the packets of a time window of this node's capture as pcapng (default)\n"
		   "or classic pcap, reading the shm ring and the disk FIFO behind it (found in\n"
		   "the ring, or given with --storage); or a snapshot. With --follow, stream new\n"
		   "packets as they are captured. -r is the ring, not a file as in tcpdump: read\n"
		   "a saved capture with --snapshot.\n"
		   "\n");
	opt_help(f, opts);
	fprintf(f, "\n%s", opt_times_help);
	fprintf(f, "\n"
		   "Streaming: " PROG " --follow -o - | tshark -r -   (output is flushed at least\n"
		   "every 200 ms while idle).\n"
		   "\n"
		   "A window that holds no packets gives a valid empty file. Whatever the output\n"
		   "lacks is said on stderr; for an empty output also what was held and what the\n"
		   "window, filter and pod selection matched. A window that ends in the future\n"
		   "is waited for.\n"
		   "\n"
		   "Exit status: 0 complete: the output holds every packet captured in the\n"
		   "window (it may be empty; the window may reach before capture began); 1\n"
		   "failure, or a partial result: part of the window was recycled, records were\n"
		   "lost or damaged blocks skipped inside it (also counted in the file: drop\n"
		   "counts and comments), a snapshot yielded fewer packets than it lists, packets\n"
		   "did not fit the link type, or a pod selection found no Kubernetes metadata;\n"
		   "2 usage error.\n");
}

struct args {
	struct rawcap_window_opts w;
	enum rawcap_pcap_format format;
	uint32_t snaplen;
	uint16_t linktype;
	const char *out, *snapshot_dir;
	struct rawcap_meta_join *pods;
	char snapshot[4096];
	char why[320]; /* why the window run failed, when the errno alone does not say */
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s (see --help)\n", what, arg ? ": " : "", arg ? arg : "");
	return 2;
}

static int parse_option(struct args *a, struct opt_window *win, int c, const char *arg)
{
	uint64_t v;
	int err;

	switch (c) {
	case OPT_ID_RING:
		a->w.ring = arg;
		break;
	case OPT_ID_STORAGE:
		a->w.storage_dir = arg;
		break;
	case OPT_ID_SNAPSHOT:
		a->w.snapshot = arg;
		break;
	case OPT_ID_SNAPSHOT_DIR:
		a->snapshot_dir = arg;
		break;
	case OPT_ID_FOLLOW:
		a->w.follow = true;
		break;
	case OPT_ID_FILTER:
		a->w.filter = arg;
		break;
	case OPT_ID_OUTPUT:
		a->out = arg;
		break;
	case OPT_ID_HELP:
		opt_help_buffer();
		usage(stdout);
		exit(0);
	case OPT_ID_FORMAT:
		if (!strcmp(arg, "pcapng"))
			a->format = RAWCAP_PCAP_PCAPNG;
		else if (!strcmp(arg, "pcap"))
			a->format = RAWCAP_PCAP_CLASSIC;
		else
			return usage_error("unknown format (pcapng or pcap)", arg);
		break;
	case OPT_ID_LINKTYPE:
		if (rawcap_pcap_parse_linktype(arg, &a->linktype))
			return usage_error("unknown link type (auto, native, sll or sll2)", arg);
		break;
	case OPT_ID_SNAPLEN:
		if (rawcap_parse_size(arg, &v) || v < 16 || v > 262144)
			return usage_error("bad --snaplen: accepted 16..262144 bytes", arg);
		a->snaplen = (uint32_t)v;
		break;
	case '?':
		return 2;
	default:
		err = opt_window_arg(win, c, arg, PROG);
		if (err)
			return err < 0 ? 2 : 0;
		err = rawcap_meta_sel_option(rawcap_meta_join_sel(a->pods), c, arg);
		if (err < 0)
			return usage_error("bad pod selection", arg);
		if (!err)
			return usage_error("bad option", NULL);
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	struct opt_window win;
	struct opt_parser p;
	int c, err;

	a->w.sz = sizeof(a->w);
	a->out = "-";
	opt_window_init(&win);
	if (opt_init(&p, opts, argc, argv))
		return usage_error("too many options", NULL);
	while ((c = opt_next(&p, PROG)) != -1)
		if ((err = parse_option(a, &win, c, optarg)))
			return err;
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (opt_window_finish(&win, a->w.follow, PROG))
		return 2;
	a->w.from_ns = win.from_ns;
	a->w.to_ns = win.to_ns;
	if (a->w.snapshot)
		a->w.snapshot = opt_snapshot_path(a->w.snapshot, a->snapshot_dir, a->snapshot,
						  sizeof(a->snapshot));
	if (a->w.snapshot && a->w.storage_dir)
		return usage_error("--snapshot and --storage exclude each other", NULL);
	if (a->w.follow && (a->w.to_ns || a->w.snapshot))
		return usage_error("--follow excludes --to and --snapshot", NULL);
	if (a->linktype == RAWCAP_PCAP_LT_NATIVE && a->format != RAWCAP_PCAP_PCAPNG)
		return usage_error("--linktype native needs --format pcapng", NULL);
	if (a->w.filter) {
		struct rawcap_filter *f;
		char msg[256] = "";

		if (rawcap_filter_new(a->w.filter, &f, msg, sizeof(msg)))
			return usage_error("bad filter", msg);
		rawcap_filter_free(f);
	}
	if (rawcap_output_is_stdout(a->out) && isatty(1))
		return usage_error("refusing to write binary capture to a terminal; use -o FILE", NULL);
	if (a->w.follow)
		a->w.flush_ms = 200;
	return 0;
}

/* --follow: capd stopped or came back (rawcap_writer_news). */
static void notice(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, PROG ": %s\n", line);
}

static void progress(void *arg, const struct rawcap_window_result *r)
{
	char t[64];

	(void)arg;
	fprintf(stderr, "\r" PROG ": %llu packets, %.1f MB, at %s ", (unsigned long long)r->packets,
		r->packet_bytes / 1e6, rawcap_format_time(r->last_ts_ns, t, sizeof(t)));
}

/* Say what the file lacks. Returns true if the result is partial. */
static bool report(const struct rawcap_window_result *r, struct rawcap_pcap *w,
		   struct rawcap_meta_join *pods)
{
	bool partial = rawcap_window_report(stderr, PROG, r);

	if (w && rawcap_pcap_skipped(w)) {
		fprintf(stderr, PROG ": %llu packets skipped: their link type does not fit the "
			"file's (use --linktype sll, or native with pcapng)\n",
			(unsigned long long)rawcap_pcap_skipped(w));
		partial = true;
	}
	return rawcap_window_report_pods(stderr, PROG, pods) || partial;
}

/* --follow: written in place, so the file can be read as it grows. */
static int open_output(const char *path, bool follow, bool *created)
{
	char why[200];
	int fd = follow ? rawcap_output_create_live(path, created, why, sizeof(why))
			: rawcap_output_create(path, created, why, sizeof(why));

	if (fd < 0)
		fprintf(stderr, PROG ": output %s: %s\n", path, why);
	return fd;
}

/*
 * Where the output can be rewound (a regular file, not appended to), take the
 * first packet's link type and start over with LINUX_SLL only if the window
 * really mixes link types; a stream decides from the interfaces described up
 * front. Returns the offset to rewind to, or -1.
 */
static off_t rewind_point(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || fl < 0 || (fl & O_APPEND))
		return -1;
	return lseek(fd, 0, SEEK_CUR);
}

/* One pass of the export into fd with link type lt; *w is the writer, to close. */
static int export_pass(struct args *a, int fd, uint16_t lt, struct rawcap_pcap **w,
		       struct rawcap_window_result *res)
{
	struct rawcap_pcap_opts po = {
		.sz = sizeof(po), .format = a->format, .snaplen = a->snaplen, .linktype = lt};
	int err = rawcap_pcap_export(&a->w, fd, &po, w, res);

	if (!*w)
		fprintf(stderr, PROG ": start output: %s\n", strerror(-err));
	return err;
}

/* The window mixes link types: discard what was written and start over as LINUX_SLL. */
static int export_again(struct args *a, int fd, off_t at, struct rawcap_pcap **w,
			struct rawcap_window_result *res)
{
	rawcap_pcap_close(*w);
	*w = NULL;
	if (ftruncate(fd, at) || lseek(fd, at, SEEK_SET) != at) {
		fprintf(stderr, PROG ": rewind %s: %s\n", a->out, strerror(errno));
		return -errno;
	}
	opt_note(PROG, "the window mixes link types: writing LINUX_SLL");
	return export_pass(a, fd, RAWCAP_LINKTYPE_SLL, w, res);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct rawcap_window_result res;
	struct rawcap_pcap *w = NULL;
	uint16_t lt;
	off_t at;
	int fd, err, ret = 1;
	bool created;

	if (rawcap_meta_join_new(&a.pods)) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	err = parse_args(argc, argv, &a);
	if (err) {
		rawcap_meta_join_free(a.pods);
		return err;
	}
	rawcap_meta_join_attach(a.pods, &a.w, true);
	a.w.why = a.why;
	a.w.whylen = sizeof(a.why);
	signal(SIGPIPE, SIG_IGN);
	opt_stop_signals(on_signal, SA_RESTART);
	a.w.stop = &stop;
	a.w.notice = notice;
	if (!opt_quiet && !a.w.follow && isatty(2)) {
		a.w.progress = progress;
	}
	fd = open_output(a.out, a.w.follow, &created);
	if (fd < 0) {
		rawcap_meta_join_free(a.pods);
		return 1;
	}
	if (!a.w.follow && a.w.to_ns > rawcap_now_ns()) {
		char t[64];

		opt_note(PROG, "the window ends in the future: exporting until %s",
			 rawcap_format_time(a.w.to_ns, t, sizeof(t)));
	}
	at = a.linktype == RAWCAP_PCAP_LT_AUTO && !a.w.follow ? rewind_point(fd) : -1;
	lt = at >= 0 ? RAWCAP_PCAP_LT_FIRST : a.linktype;
	err = export_pass(&a, fd, lt, &w, &res);
	if (err == -EXDEV && at >= 0)
		err = export_again(&a, fd, at, &w, &res);
	if (!w)
		goto out;
	if (a.w.progress && res.packets)
		fputc('\n', stderr);
	if (err == -EINVAL && a.why[0]) {
		fprintf(stderr, PROG ": bad filter: %s\n", a.why);
		ret = 2;
		goto out;
	}
	if (err == -EPIPE && a.w.follow)
		err = 0; /* the stream's reader left: a normal end of a follow */
	/* A source that failed before its first packet leaves the output as it was (-o -). */
	if (err && err != -EPIPE && !res.packets)
		rawcap_pcap_abandon(w);
	/* The output's own error is said once, naming the output, when it closes: as the
	   source's it blamed the ring ("export from default: ...: No space left on device"). */
	if (err && (err == -EPIPE || rawcap_pcap_flush(w) != err)) {
		bool disk = a.w.storage_dir && !a.w.snapshot;
		char why[320];

		fprintf(stderr, PROG ": export from %s%s%s: %s\n",
			a.w.snapshot ? a.w.snapshot : a.w.ring ? a.w.ring : "default",
			disk ? " and " : "", disk ? a.w.storage_dir : "",
			a.w.snapshot ? rawcap_strerror(err)
				     : rawcap_ring_explain(a.w.ring, err, why, sizeof(why)));
	}
	ret = err || report(&res, w, a.pods) ? 1 : 0;
out:
	err = rawcap_pcap_close(w);
	if (err && err != -EPIPE) {
		fprintf(stderr, PROG ": write %s: %s\n", a.out, strerror(-err));
		ret = 1;
	}
	/* Interrupted before a packet: a file that was there stays as it was. */
	if ((ret || (stop && !res.packets && !created)) && fd > 1)
		rawcap_output_failed(stderr, PROG, a.out, fd, created, w ? res.packets : 0);
	else if (fd > 1 && rawcap_output_finish(stderr, PROG, a.out, fd))
		ret = 1;
	if (fd > 1 && close(fd)) {
		fprintf(stderr, PROG ": close %s: %s\n", a.out, strerror(errno));
		ret = 1;
	}
	rawcap_meta_join_free(a.pods);
	return ret;
}
