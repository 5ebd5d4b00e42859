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

#include <rawcap/meta.h>
#include <rawcap/filter.h>
#include <rawcap/pcap.h>
#include <rawcap/window.h>

#define PROG "rawcap-pcap"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [--ring NAME] [--storage DIR | --snapshot PATH] [--from T]\n"
"                   [--to T | --follow] [--filter EXPR] [--format pcapng|pcap]\n"
"                   [--snaplen N] [--pod NAME] [--namespace NS] [--label K=V]\n"
"                   [-o FILE | -o -]\n"
"\n"
"Write the packets of a time window of this node's capture as pcapng (default)\n"
"or classic pcap, reading the shm ring and, with --storage, the disk FIFO behind\n"
"it; or a snapshot. With --follow, stream new packets as they are captured.\n"
"\n"
"  -r, --ring NAME        ring to read (default: \"default\")\n"
"  -s, --storage DIR      disk FIFO directory: history older than the ring\n"
"  -S, --snapshot PATH    read the snapshot directory PATH instead\n"
"  -f, --from T           window start (default: oldest held; --follow: now)\n"
"  -t, --to T             window end, exclusive (default: now)\n"
"  -F, --follow           keep writing new packets until interrupted\n"
"  -e, --filter EXPR      pcap filter expression (tcpdump syntax)\n"
"  -m, --format FMT       pcapng (default) or pcap (nanosecond; mixed link types\n"
"                         become LINKTYPE_LINUX_SLL2)\n"
"  -l, --snaplen N        truncate packets to N bytes\n"
"  -P, --pod NAME         only packets to or from pod NAME (or NAMESPACE/NAME)\n"
"  -N, --namespace NS     only packets to or from pods in namespace NS\n"
"  -L, --label K=V        only packets to or from pods labelled K=V (or having K)\n"
"                         Pods are resolved by address from the Kubernetes\n"
"                         metadata in the capture at each packet's time; repeated\n"
"                         --pod/--namespace are alternatives, --label all apply.\n"
"                         pcapng packet comments name the pods of both addresses\n"
"                         and, with capd --process-context, the processes\n"
"                         (pid, comm, container) of both sockets.\n"
"  -o, --output FILE      output file, \"-\" for stdout (default: -)\n"
"  -q, --quiet            no progress on stderr\n"
"  -h, --help             this text\n"
"\n"
"Times: RFC 3339 (2026-11-26T10:02:00Z), unix seconds (1790000000.5), \"now\",\n"
"or relative to now (-5m, -90s, -1h30m).\n"
"\n"
"Streaming: " PROG " --follow -o - | tshark -r -   (output is flushed at least\n"
"every 200 ms while idle).\n"
"\n"
"Exit status: 0 complete; 1 failure, or a partial result (part of the window\n"
"was already recycled, or records were lost inside it; both are reported on\n"
"stderr, and loss also in the file); 2 usage error.\n");
}

struct args {
	struct rawcap_window_opts w;
	enum rawcap_pcap_format format;
	uint32_t snaplen;
	const char *out;
	bool quiet;
	struct rawcap_meta_join *pods;
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s (see --help)\n", what, arg ? ": " : "", arg ? arg : "");
	return 2;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "ring", required_argument, NULL, 'r' },    { "storage", required_argument, NULL, 's' },
		{ "snapshot", required_argument, NULL, 'S' }, { "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },	     { "follow", no_argument, NULL, 'F' },
		{ "filter", required_argument, NULL, 'e' },  { "format", required_argument, NULL, 'm' },
		{ "snaplen", required_argument, NULL, 'l' }, { "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },	     { "help", no_argument, NULL, 'h' },
		RAWCAP_META_SEL_LONGOPTS,
		{ 0 },
	};
	uint64_t now = rawcap_now_ns(), v;
	char why[640];
	int c, err;

	a->w.sz = sizeof(a->w);
	a->out = "-";
	while ((c = getopt_long(argc, argv, "r:s:S:f:t:Fe:m:l:o:qhP:N:L:", opts, NULL)) != -1) {
		switch (c) {
		case 'r': a->w.ring = optarg; break;
		case 's': a->w.storage_dir = optarg; break;
		case 'S': a->w.snapshot = optarg; break;
		case 'F': a->w.follow = true; break;
		case 'e': a->w.filter = optarg; break;
		case 'o': a->out = optarg; break;
		case 'q': a->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		case 'f':
		case 't':
			err = rawcap_parse_time(optarg, now, &v);
			if (err || !v)
				return usage_error(rawcap_parse_error(RAWCAP_PARSE_TIME,
								      err ?: -ERANGE,
								      c == 'f' ? "--from" : "--to",
								      optarg, why, sizeof(why)),
						   NULL);
			*(c == 'f' ? &a->w.from_ns : &a->w.to_ns) = v;
			break;
		case 'm':
			if (!strcmp(optarg, "pcapng"))
				a->format = RAWCAP_PCAP_PCAPNG;
			else if (!strcmp(optarg, "pcap"))
				a->format = RAWCAP_PCAP_CLASSIC;
			else
				return usage_error("unknown format (pcapng or pcap)", optarg);
			break;
		case 'l':
			if (rawcap_parse_size(optarg, &v) || v < 16 || v > 262144)
				return usage_error("bad snaplen (16..262144)", optarg);
			a->snaplen = (uint32_t)v;
			break;
		default:
			/* -P -N -L: short forms of --pod --namespace --label */
			c = c == 'P' ? RAWCAP_OPT_POD
			  : c == 'N' ? RAWCAP_OPT_NAMESPACE
			  : c == 'L' ? RAWCAP_OPT_LABEL : c;
			err = rawcap_meta_sel_option(rawcap_meta_join_sel(a->pods), c, optarg);
			if (err < 0)
				return usage_error("bad pod selection", optarg);
			if (!err)
				return usage_error("bad option", NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (a->w.snapshot && a->w.storage_dir)
		return usage_error("--snapshot and --storage exclude each other", NULL);
	if (a->w.follow && (a->w.to_ns || a->w.snapshot))
		return usage_error("--follow excludes --to and --snapshot", NULL);
	if (a->w.from_ns && a->w.to_ns && a->w.to_ns <= a->w.from_ns)
		return usage_error("--to must be after --from", NULL);
	if (a->w.filter) {
		struct rawcap_filter *f;
		char msg[256] = "";

		if (rawcap_filter_new(a->w.filter, &f, msg, sizeof(msg)))
			return usage_error("bad filter", msg);
		rawcap_filter_free(f);
	}
	if (!strcmp(a->out, "-") && isatty(1))
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
static bool report(const struct rawcap_window_result *r, struct rawcap_pcap *w)
{
	char a[64], b[64], c[64];
	bool partial = false;

	if (r->missing_to_ns > r->missing_from_ns) {
		fprintf(stderr, PROG ": window part %s .. %s is missing: recycled before the export "
			"(oldest held: %s)\n", rawcap_format_time(r->missing_from_ns, a, sizeof(a)),
			rawcap_format_time(r->missing_to_ns, b, sizeof(b)),
			r->held_oldest_ns && r->held_oldest_ns != UINT64_MAX
				? rawcap_format_time(r->held_oldest_ns, c, sizeof(c)) : "nothing");
		partial = true;
	}
	if (r->lost_reader) {
		fprintf(stderr, PROG ": %llu records lost inside the window (missed by this reader: "
			"lapped or damaged)\n", (unsigned long long)r->lost_reader);
		partial = true;
	}
	if (r->lost_upstream) {
		fprintf(stderr, PROG ": %llu packets lost upstream inside the window (loss records; "
			"see drop counts in the file)\n", (unsigned long long)r->lost_upstream);
		partial = true;
	}
	if (w && rawcap_pcap_skipped(w))
		fprintf(stderr, PROG ": %llu packets skipped: their link type does not fit classic "
			"pcap's (use pcapng)\n", (unsigned long long)rawcap_pcap_skipped(w));
	return partial;
}

static int open_output(const char *path)
{
	int fd;

	if (!strcmp(path, "-"))
		return 1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fprintf(stderr, PROG ": open %s: %s\n", path, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct rawcap_window_result res;
	struct rawcap_pcap_sink_state st;
	struct rawcap_pcap *w = NULL;
	struct rawcap_sink sink;
	struct rawcap_pcap_opts po;
	int fd, err, ret = 1;

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
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	a.w.stop = &stop;
	a.w.notice = notice;
	if (!a.quiet && !a.w.follow && isatty(2)) {
		a.w.progress = progress;
	}
	fd = open_output(a.out);
	if (fd < 0) {
		rawcap_meta_join_free(a.pods);
		return 1;
	}
	po = (struct rawcap_pcap_opts){ .sz = sizeof(po), .format = a.format, .snaplen = a.snaplen };
	err = rawcap_pcap_open(fd, &po, &w);
	if (err) {
		fprintf(stderr, PROG ": start output: %s\n", strerror(-err));
		goto out;
	}
	rawcap_pcap_sink(&st, w, &sink);
	err = rawcap_window_run(&a.w, &sink, &res);
	if (a.w.progress && res.packets)
		fputc('\n', stderr);
	if (err == -EINVAL && res.filter_error[0]) {
		fprintf(stderr, PROG ": bad filter: %s\n", res.filter_error);
		ret = 2;
		goto out;
	}
	if (err == -EPIPE && a.w.follow)
		err = 0; /* the stream's reader left: a normal end of a follow */
	if (err) {
		char why[320];

		fprintf(stderr, PROG ": export from %s: %s\n",
			a.w.snapshot ? a.w.snapshot
			: a.w.ring   ? a.w.ring
				     : "default",
			a.w.snapshot ? strerror(-err)
				     : rawcap_ring_explain(a.w.ring, err, why, sizeof(why)));
	}
	ret = report(&res, w) || err ? 1 : 0;
out:
	err = rawcap_pcap_close(w);
	if (err && err != -EPIPE) {
		fprintf(stderr, PROG ": write %s: %s\n", a.out, strerror(-err));
		ret = 1;
	}
	if (fd > 1 && close(fd)) {
		fprintf(stderr, PROG ": close %s: %s\n", a.out, strerror(errno));
		ret = 1;
	}
	rawcap_meta_join_free(a.pods);
	return ret;
}
