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

#define JSON_MAX (4u << 20) /* a 256 KiB record escapes to at most ~6x; we cap well above */

struct tap {
	struct rawcap_open_opts oo;
	uint32_t kinds;
	uint64_t from, to;
	bool has_from, has_to, follow, msgpack;
	const char *out_path;
	FILE *out;
	char *json;
	uint64_t written, bad;
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rawcap-tap [OPTION]...\n"
		"Print the metadata records of a node's capture: one JSON object per line\n"
		"(default) or a msgpack stream. Each item carries the record's sequence number,\n"
		"time and kind, and its data as capd wrote it (schema: docs/METADATA.md).\n"
		"\n"
		"Source:\n"
		"  -r, --ring NAME        live ring to read (default: \"default\")\n"
		"  -s, --storage DIR      also read the disk FIFO in DIR (history before the ring)\n"
		"  -S, --snapshot PATH    read a snapshot instead of the ring\n"
		"\n"
		"Selection:\n"
		"  -k, --kind LIST        comma-separated kinds: pod, service, endpoints, namespace,\n"
		"                         process, or all (default: all)\n"
		"  -f, --from T           start at time T (default: the oldest record held)\n"
		"  -t, --to T             stop after time T (waits for it if T is in the future)\n"
		"  -F, --follow           keep printing new records until interrupted\n"
		"      Times: RFC 3339, unix seconds, \"now\", or relative (\"-5m\", \"+30s\").\n"
		"\n"
		"Output:\n"
		"      --format FMT       json (default): {\"seq\",\"ts\",\"ts_ns\",\"kind\",\"data\"} lines;\n"
		"                         msgpack: a stream of maps {seq, ts_ns, kind, data}\n"
		"  -o, --output FILE      write to FILE ('-' is stdout, the default)\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure or records lost to the writer,\n"
		"2 usage error.\n");
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

static int parse_args(struct tap *t, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ring", required_argument, 0, 'r' },	  { "storage", required_argument, 0, 's' },
		{ "snapshot", required_argument, 0, 'S' }, { "kind", required_argument, 0, 'k' },
		{ "from", required_argument, 0, 'f' },	  { "to", required_argument, 0, 't' },
		{ "follow", no_argument, 0, 'F' },	  { "format", required_argument, 0, 'M' },
		{ "output", required_argument, 0, 'o' },  { "help", no_argument, 0, 'h' },
		{ 0 }
	};
	uint64_t now = rawcap_now_ns();
	int c, err;

	t->oo.sz = sizeof(t->oo);
	t->kinds = ~0u;
	while ((c = getopt_long(argc, argv, "r:s:S:k:f:t:Fo:h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': t->oo.ring = optarg; break;
		case 's': t->oo.storage_dir = optarg; break;
		case 'S': t->oo.snapshot = optarg; break;
		case 'F': t->follow = true; break;
		case 'o': t->out_path = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'k':
			if (kind_mask(t, optarg))
				return -EINVAL;
			break;
		case 'f':
		case 't':
			err = rawcap_parse_time(optarg, now, c == 'f' ? &t->from : &t->to);
			if (err) {
				char msg[640];

				fprintf(stderr, "rawcap-tap: %s\n",
					rawcap_parse_error(RAWCAP_PARSE_TIME, err,
							   c == 'f' ? "--from" : "--to", optarg,
							   msg, sizeof(msg)));
				return -EINVAL;
			}
			*(c == 'f' ? &t->has_from : &t->has_to) = true;
			break;
		case 'M':
			if (strcmp(optarg, "json") && strcmp(optarg, "msgpack")) {
				fprintf(stderr, "rawcap-tap: --format must be json or msgpack\n");
				return -EINVAL;
			}
			t->msgpack = !strcmp(optarg, "msgpack");
			break;
		default:
			fprintf(stderr, "rawcap-tap: try --help\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rawcap-tap: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	if (t->follow && t->has_to) {
		fprintf(stderr, "rawcap-tap: --to and --follow exclude each other\n");
		return -EINVAL;
	}
	return 0;
}

/* msgpack-c packs the envelope into the output; the payload, already msgpack, goes in as is. */
static void mp_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
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
	return ferror(t->out) ? -EIO : 0;
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

	return fflush(t->out) ? -errno : 0;
}

static void tap_notice(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "rawcap-tap: %s\n", line);
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

	if (err && !res->records && err != -EPIPE && err != -EIO) {
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

	if (t->out_path && strcmp(t->out_path, "-"))
		fd = rawcap_output_open(t->out_path, why, sizeof(why));
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
	int err;

	if (parse_args(&t, argc, argv))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	t.json = malloc(JSON_MAX);
	if (!t.json) {
		fprintf(stderr, "rawcap-tap: out of memory\n");
		return 1;
	}
	if (open_output(&t))
		return 1;
	err = run(&t, &res);
	if (fflush(t.out) || (t.out != stdout && fclose(t.out)))
		err = err ? err : -EIO;
	free(t.json);
	if (err == -ECANCELED)
		return 1; /* said already */
	if (err && err != -EPIPE && !(err == -EIO && errno == EPIPE)) {
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
