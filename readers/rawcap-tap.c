// SPDX-License-Identifier: MIT
/*
 * rawcap-tap - print a node's metadata records (pods, services, endpoints,
 * namespaces, processes) as JSON lines or as a msgpack stream,
 * for sidecars and scripts. A thin main over librawcap: parse options, then
 * run the shared window loop (rawcap_window_run) with a sink that writes the
 * metadata records asked for.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include <msgpack/fbuffer.h>

#include <rawcap/meta.h>
#include <rawcap/rawcap.h>
#include <rawcap/window.h>

#include "opt.h"

#define JSON_MAX (4u << 20) /* a 256 KiB record escapes to at most ~6x; we cap well above */

struct tap {
	bool created; /* --output made the file (rawcap_output_create) */
	struct rawcap_open_opts oo;
	uint32_t kinds;
	uint64_t from, to;
	bool has_from, has_to, follow, msgpack;
	const char *out_path, *snapshot_dir;
	char snapshot[4096];
	FILE *out;
	int werr; /* the output's first write error, -errno as it was (-ENOSPC) */
	char *json;
	uint64_t written, bad;
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

enum { OPT_ID_KIND = OPT_ID_LOCAL };

static const struct opt source_opts[] = {
	OPT_DEF_RING("live ring to read (default: \"default\")"),
	OPT_DEF_STORAGE("also read the disk FIFO in DIR (history before the ring;\n"
			"default: the one capd records in the ring)"),
	OPT_DEF_SNAPSHOT("read snapshot NAME (in --snapshot-dir; a path if it has\n"
			 "a '/') instead of the ring"),
	OPT_DEF_SNAPSHOT_DIR(
		"where snapshots are (default: $RAWCAP_SNAPSHOT_DIR or\n" OPT_SNAPSHOT_DIR_DEFAULT
		")"),
	OPT_END,
};

static const struct opt select_opts[] = {
	{"kind", 'k', OPT_ID_KIND, "LIST",
	 "comma-separated kinds: pod, service, endpoints, namespace,\n"
	 "process, or all (default: all)",
	 0},
	OPT_DEF_FROM("start at time T (default: the oldest record held)"),
	OPT_DEF_TO("stop after time T (waits for it if T is in the future)"),
	OPT_DEF_LAST("start DURATION ago (e.g. 5m)"),
	OPT_DEF_FOLLOW("keep printing new records until interrupted"),
	OPT_END,
};

static const struct opt output_opts[] = {
	OPT_DEF_FORMAT("json (default): {\"seq\",\"ts\",\"ts_ns\",\"kind\",\"data\"} lines;\n"
		       "msgpack: a stream of maps {seq, ts_ns, kind, data}"),
	OPT_DEF_OUTPUT("write to FILE ('-' is stdout, the default)"),
	OPT_DEF_OUTPUT_W,
	OPT_DEF_QUIET,
	OPT_DEF_HELP,
	OPT_END,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rawcap-tap [OPTION]...\n"
		"Print the metadata records of a node's capture: one JSON object per line\n"
		"(default) or a msgpack stream. Each item carries the record's sequence number,\n"
		"time and kind, and its data as capd wrote it (schema: docs/METADATA.md).\n"
		"\n"
		"Source:\n");
	opt_help(f, source_opts);
	fputs("\nSelection:\n", f);
	opt_help(f, select_opts);
	fputs("\nOutput:\n", f);
	opt_help(f, output_opts);
	fprintf(f, "\n%s\n", opt_times_help);
	fputs("Exit status: 0 success, 1 runtime failure or records lost to the writer,\n"
	      "2 usage error.\n",
	      f);
}

/* --kind LIST; the error says which kinds exist. */
static int kind_mask(struct tap *t, const char *list)
{
	int err = rawcap_meta_kind_mask(list, &t->kinds);

	if (err == -ENOTSUP)
		fprintf(stderr,
			"rawcap-tap: --kind %s: capd writes no interface, stats or node metadata "
			"(interfaces are in rawcap-pcap's output, statistics in rawcap-stat)\n",
			list);
	else if (err)
		fprintf(stderr,
			"rawcap-tap: --kind %s: unknown kind (kinds: pod, service, endpoints, "
			"namespace, process, all)\n",
			list);
	return err ? -EINVAL : 0;
}

static int parse_option(struct tap *t, struct opt_window *win, int c, const char *arg)
{
	int err;

	switch (c) {
	case OPT_ID_RING:
		t->oo.ring = arg;
		break;
	case OPT_ID_STORAGE:
		t->oo.storage_dir = arg;
		break;
	case OPT_ID_SNAPSHOT:
		t->oo.snapshot = arg;
		break;
	case OPT_ID_SNAPSHOT_DIR:
		t->snapshot_dir = arg;
		break;
	case OPT_ID_FOLLOW:
		t->follow = true;
		break;
	case OPT_ID_OUTPUT:
		t->out_path = arg;
		break;
	case OPT_ID_HELP:
		opt_help_buffer();
		usage(stdout);
		exit(0);
	case OPT_ID_KIND:
		return kind_mask(t, arg);
	case OPT_ID_FORMAT:
		if (strcmp(arg, "json") && strcmp(arg, "msgpack")) {
			fprintf(stderr, "rawcap-tap: --format must be json or msgpack\n");
			return -EINVAL;
		}
		t->msgpack = !strcmp(arg, "msgpack");
		break;
	default:
		err = opt_window_arg(win, c, arg, "rawcap-tap");
		if (err <= 0)
			return -EINVAL; /* said by opt_next() or opt_window_arg() */
	}
	return 0;
}

static int parse_args(struct tap *t, int argc, char **argv)
{
	static struct opt all[OPT_MAX];
	const struct opt *parts[] = {source_opts, select_opts, output_opts};
	struct opt_window win;
	struct opt_parser p;
	int c;

	t->oo.sz = sizeof(t->oo);
	t->kinds = ~0u;
	opt_window_init(&win);
	if (opt_join(all, OPT_MAX, parts, 3) || opt_init(&p, all, argc, argv))
		return -EINVAL;
	while ((c = opt_next(&p, "rawcap-tap")) != -1)
		if (parse_option(t, &win, c, optarg))
			return -EINVAL;
	if (optind < argc) {
		fprintf(stderr, "rawcap-tap: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	if (t->follow && win.to_ns) {
		fprintf(stderr, "rawcap-tap: --to and --follow exclude each other\n");
		return -EINVAL;
	}
	if (opt_window_finish(&win, true, "rawcap-tap"))
		return -EINVAL;
	t->from = win.from_ns;
	t->to = win.to_ns;
	t->has_from = win.from_ns != 0;
	t->has_to = win.to_ns != 0;
	if (t->oo.snapshot)
		t->oo.snapshot = opt_snapshot_path(t->oo.snapshot, t->snapshot_dir, t->snapshot,
						   sizeof(t->snapshot));
	return 0;
}

/* msgpack-c packs the envelope into the output; the payload, already msgpack, goes in as is. */
static void mp_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* The output's write error, errno kept from the write that failed (checked after each). */
static int out_error(struct tap *t)
{
	if (ferror(t->out) && !t->werr)
		t->werr = -(errno ? errno : EIO);
	return t->werr;
}

static void emit_msgpack(FILE *f, const struct rawcap_rec *rec, const char *kind)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, f, msgpack_fbuffer_write);
	msgpack_pack_map(&pk, 4);
	mp_str(&pk, "seq");
	msgpack_pack_uint64(&pk, rec->seq);
	mp_str(&pk, "ts_ns");
	msgpack_pack_uint64(&pk, rec->ts_ns);
	mp_str(&pk, "kind");
	mp_str(&pk, kind);
	mp_str(&pk, "data");
	fwrite(rec->payload, 1, rec->len, f);
}

static int emit(struct tap *t, const struct rawcap_rec *rec)
{
	const char *kind = rawcap_meta_kind_name(rec->flags);
	char ts[48], kbuf[16];
	int n;

	if (!kind) {
		snprintf(kbuf, sizeof(kbuf), "kind-%u", rec->flags);
		kind = kbuf;
	}
	/* validate (and, for JSON, convert) first: a damaged record is skipped whole */
	n = rawcap_meta_to_json(rec->payload, rec->len, t->json, JSON_MAX);
	if (n < 0) {
		t->bad++;
		return 0;
	}
	if (t->msgpack) {
		emit_msgpack(t->out, rec, kind);
	} else {
		fprintf(t->out, "{\"seq\":%llu,\"ts\":\"%s\",\"ts_ns\":%llu,\"kind\":\"%s\",\"data\":%s}\n",
			(unsigned long long)rec->seq, rawcap_format_time(rec->ts_ns, ts, sizeof(ts)),
			(unsigned long long)rec->ts_ns, kind, t->json);
	}
	t->written++;
	if (t->follow)
		fflush(t->out);
	return out_error(t);
}

/* The window loop's record hook: the metadata records of the kinds asked for. */
static int tap_record(void *ctx, const struct rawcap_rec *rec)
{
	struct tap *t = ctx;

	if (rec->type != RAWCAP_REC_META || rec->flags >= 32 || !(t->kinds & (1u << rec->flags)))
		return 0;
	return emit(t, rec);
}

static int tap_flush(void *ctx)
{
	struct tap *t = ctx;

	fflush(t->out);
	return out_error(t);
}

static void tap_notice(void *arg, const char *line)
{
	(void)arg;
	opt_note("rawcap-tap", "%s", line);
}

/*
 * The records of [--from, --to] through the window loop every reader
 * shares (rawcap/window.h): --to includes its own instant, and --follow
 * without --from starts at the oldest record held, as it always has.
 */
static int run(struct tap *t, struct rawcap_window_result *res)
{
	bool live = t->follow && !t->oo.snapshot; /* a snapshot has no live end to follow */
	struct rawcap_window_opts o = {
		.sz = sizeof(o),
		.ring = t->oo.ring,
		.storage_dir = t->oo.storage_dir,
		.snapshot = t->oo.snapshot,
		.from_ns = t->has_from ? t->from : live ? 1 : 0,
		.to_ns = t->has_to && t->to < UINT64_MAX ? t->to + 1 : t->has_to ? t->to : 0,
		.follow = live,
		.stop = &quit,
		.notice = tap_notice,
	};
	struct rawcap_sink sink = {.ctx = t, .record = tap_record, .flush = tap_flush};
	int err = rawcap_window_run(&o, &sink, res);

	if (err && !res->records && err != -EPIPE && err != t->werr) {
		char why[320];

		fprintf(stderr, "rawcap-tap: cannot read %s %s: %s\n",
			t->oo.snapshot ? "snapshot" : "ring",
			t->oo.snapshot ? t->oo.snapshot : (t->oo.ring ? t->oo.ring : "default"),
			t->oo.snapshot ? strerror(-err)
				       : rawcap_ring_explain(t->oo.ring, err, why, sizeof(why)));
		return -ECANCELED;
	}
	return err;
}

static int open_output(struct tap *t)
{
	char why[200];
	int fd = 1;

	if (t->out_path && !rawcap_output_is_stdout(t->out_path))
		fd = t->follow /* in place: read as it grows */
			     ? rawcap_output_create_live(t->out_path, &t->created, why, sizeof(why))
			     : rawcap_output_create(t->out_path, &t->created, why, sizeof(why));
	if (fd < 0) {
		fprintf(stderr, "rawcap-tap: output %s: %s\n", t->out_path, why);
		return -1;
	}
	t->out = fd == 1 ? stdout : fdopen(fd, "wb");
	if (!t->out) {
		fprintf(stderr, "rawcap-tap: output %s: %s\n", t->out_path, strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tap t = { 0 };
	struct rawcap_window_result res;
	int err, cerr = 0;

	if (parse_args(&t, argc, argv))
		return 2;
	opt_stop_signals(on_signal, SA_RESTART);
	signal(SIGPIPE, SIG_IGN);
	t.json = malloc(JSON_MAX);
	if (!t.json) {
		fprintf(stderr, "rawcap-tap: out of memory\n");
		return 1;
	}
	if (open_output(&t)) {
		free(t.json);
		return 1;
	}
	err = run(&t, &res);
	fflush(t.out);
	if (out_error(&t)) { /* what stopped the run, if it did: said once, below */
		err = t.werr;
		rawcap_output_broken(fileno(t.out), t.werr); /* never replaces a file */
		if (err != -EPIPE)
			fprintf(stderr, "rawcap-tap: writing %s: %s\n",
				t.out == stdout ? "standard output" : t.out_path, strerror(-err));
	}
	if (t.out == stdout)
		;
	else if (err == -ECANCELED) /* nothing read: no file left that we made */
		rawcap_output_failed(stderr, "rawcap-tap", t.out_path, fileno(t.out), t.created, 0);
	else if ((err && err != -EPIPE) || (quit && !res.records && !t.created))
		rawcap_output_failed(stderr, "rawcap-tap", t.out_path, fileno(t.out), t.created,
				     res.records);
	else
		cerr = rawcap_output_finish(stderr, "rawcap-tap", t.out_path, fileno(t.out));
	if (t.out != stdout && fclose(t.out) && !err) {
		fprintf(stderr, "rawcap-tap: writing %s: %s\n", t.out_path, strerror(errno));
		err = -ECANCELED;
	}
	if (cerr)
		err = err ? err : -ECANCELED; /* said already */
	free(t.json);
	if (err == -ECANCELED || (err && err == t.werr && err != -EPIPE))
		return 1; /* said already */
	if (err && err != -EPIPE) {
		fprintf(stderr, "rawcap-tap: reading records: %s\n", strerror(-err));
		return 1;
	}
	if (res.lost_reader || t.bad) {
		fprintf(stderr, "rawcap-tap: %llu records lost, %llu malformed metadata skipped\n",
			(unsigned long long)res.lost_reader, (unsigned long long)t.bad);
		return 1;
	}
	return 0;
}
