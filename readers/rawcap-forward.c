// SPDX-License-Identifier: MIT
/*
 * rawcap-forward - stream a node's capture to remote dissectors (tshark,
 * Wireshark, Zeek, anything that reads pcap) over TCP or TLS, live or from
 * the past, switched on and off without touching capture.
 *
 * A thin main over rawcap_forward_* (include/rawcap/forward.h): parse
 * options, install the control signals, run.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/forward.h>
#include <rawcap/meta.h>

#include "opt.h"

static struct rawcap_forward *g_fwd;
static struct rawcap_meta_sel *g_pods; /* --pod/--namespace/--label, or NULL */

enum {
	OPT_ID_CONNECT = OPT_ID_LOCAL,
	OPT_ID_CERT,
	OPT_ID_KEY,
	OPT_ID_CA,
	OPT_ID_PLAIN,
	OPT_ID_PAUSED,
	OPT_ID_RESUME,
	OPT_ID_MAXC,
	OPT_ID_BUF,
	OPT_ID_SEND_TIMEOUT,
	OPT_ID_ANY_CLIENT,
	OPT_ID_CONTROL_DIR,
	OPT_ID_DISSECTION,
};

static const struct opt source_opts[] = {
	OPT_DEF_RING("ring to read (default \"default\")"),
	OPT_DEF_STORAGE("also replay from this disk FIFO (default: the one capd\n"
			"records in the ring)"),
	OPT_DEF_SNAPSHOT("replay snapshot NAME (in --snapshot-dir; a path if it\n"
			 "has a '/') instead of ring and disk"),
	OPT_DEF_SNAPSHOT_DIR(
		"where snapshots are (default: $RAWCAP_SNAPSHOT_DIR or\n" OPT_SNAPSHOT_DIR_DEFAULT
		")"),
	OPT_DEF_FROM("start at time T; default: live, from now on"),
	OPT_DEF_TO("end at time T, then close each receiver's stream"),
	OPT_DEF_LAST("start DURATION ago (e.g. 5m), then keep going live"),
	OPT_DEF_FILTER("forward only packets matching this pcap filter"),
	OPT_DEF_PODS("\nPods are followed along each receiver's own cursor."),
	OPT_DEF_PACE,
	OPT_END,
};

static const struct opt transport_opts[] = {
	OPT_DEF_LISTEN("serve receivers (tshark -i TCP@ADDR:PORT)"),
	{"connect", 0, OPT_ID_CONNECT, "H:PORT", "connect to a receiver; reconnect when it drops",
	 0},
	OPT_DEF_FORMAT("pcapng (default), pcap, or msgpack (docs/FORWARD.md)"),
	{"tls-cert", 0, OPT_ID_CERT, "FILE", "certificate (PEM); a server needs one unless --plain",
	 0},
	{"tls-key", 0, OPT_ID_KEY, "FILE", "its private key (PEM)", 0},
	{"tls-ca", 0, OPT_ID_CA, "FILE",
	 "server: require client certificates signed by this CA\n"
	 "(mutual TLS); client: verify the server with it. A TLS\n"
	 "server on a non-loopback address needs it, unless",
	 0},
	{"tls-any-client", 0, OPT_ID_ANY_CLIENT, NULL,
	 "lets any TLS client connect without a certificate", 0},
	{"plain", 0, OPT_ID_PLAIN, NULL, "plain TCP, no TLS (must be asked for)", 0},
	{"max-clients", 0, OPT_ID_MAXC, "N", "receivers at once (1..256, default 16)", 0},
	{"client-buffer", 0, OPT_ID_BUF, "SIZE",
	 "bytes queued per receiver before it is lapped (4Mi)", 0},
	{"send-timeout", 0, OPT_ID_SEND_TIMEOUT, "DUR",
	 "drop a receiver that acknowledges none of the bytes\n"
	 "queued for it for this long (default 30s); while every\n"
	 "slot is in use, one that took nothing for 2s makes room\n"
	 "for a new receiver.\n"
	 "Peers have 5s to finish their TLS handshake / HELLO.",
	 0},
	OPT_DEF_SNAPLEN("truncate forwarded packets to N bytes (64..262144;\ndefault: as captured)"),
	OPT_END,
};

static const struct opt control_opts[] = {
	{"paused", 0, OPT_ID_PAUSED, NULL, "start paused (Helm: tap.capture.stopped=true)", 0},
	{"dissection", 0, OPT_ID_DISSECTION, "on|off",
	 "start forwarding (on, the default) or paused (off)", 0},
	{"control-dir", 'D', OPT_ID_CONTROL_DIR, "DIR",
	 "follow the dissection switch DIR/dissection that\n"
	 "rawcap-server writes (PUT /v1/dissection): read at\n"
	 "start (it overrides --dissection/--paused/--resume;\n"
	 "missing: they stand), then checked once a second.\n"
	 "Receivers stay connected while it is off.",
	 0},
	{"resume", 0, OPT_ID_RESUME, "MODE",
	 "on resume: \"live\" skips to now (default), \"backlog\"\n"
	 "continues at the pause point while it is still held",
	 0},
	OPT_DEF_QUIET,
	OPT_DEF_HELP,
	OPT_GONE(NULL, 'F', "was --filter; now -e, as in every tool (-F is --follow)"),
	OPT_GONE(NULL, 'o', "was --format; now -m, as in every tool (-o is --output)"),
	OPT_GONE(NULL, 'c', "was --connect: give --connect (-c is capd's --config)"),
	OPT_END,
};

static void usage(void)
{
	fputs("Usage: rawcap-forward [--ring NAME] [--storage DIR | --snapshot NAME]\n"
	      "                      [--from T] [--to T | --last DURATION] [--filter EXPR]\n"
	      "                      [--pod NAME] [--namespace NS] [--label K=V]\n"
	      "                      (--listen ADDR:PORT | --connect HOST:PORT)\n"
	      "                      [--format pcapng|pcap|msgpack] [--pace realtime|Nx]\n"
	      "                      [--tls-cert F --tls-key F [--tls-ca F | --tls-any-client]\n"
	      "                       | --plain]\n"
	      "                      [--paused] [--resume live|backlog]\n"
	      "                      [--control-dir DIR] [--dissection on|off]\n"
	      "\n"
	      "Forward captured traffic to dissectors on other compute. Every receiver\n"
	      "gets its own cursor; a slow one is lapped (the gap is reported in its\n"
	      "stream) and never slows capture or other receivers.\n"
	      "\n"
	      "Source:\n",
	      stdout);
	opt_help(stdout, source_opts);
	fputs("\nTransport:\n", stdout);
	opt_help(stdout, transport_opts);
	fputs("\nControl (dissection on/off, capture unaffected; SIGUSR1 pauses, SIGUSR2 resumes,\n"
	      "SIGTERM/SIGINT stop):\n",
	      stdout);
	opt_help(stdout, control_opts);
	fputs("\n", stdout);
	fputs(opt_times_help, stdout);
	fputs("\n"
	      "Exit status: 0 done; 1 runtime failure, or records a receiver did not get\n"
	      "(lapped, or damaged blocks of the disk FIFO or snapshot skipped: reported in\n"
	      "its stream and on stderr), or packets lost upstream (capd's loss records,\n"
	      "sent in the streams and said on stderr); 2 usage error.\n",
	      stdout);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rawcap-forward: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

/* HOST:PORT with a numeric PORT of at most 65535 (a larger one would wrap); 0 or -EINVAL. */
static int check_port(const char *spec)
{
	const char *p = strrchr(spec, ':');
	size_t n = p ? strspn(p + 1, "0123456789") : 0;

	if (!p || !p[1] || (!p[1 + n] && strtoul(p + 1, NULL, 10) > 65535))
		return -EINVAL;
	return 0;
}

static int parse_format(const char *s, enum rawcap_forward_format *out)
{
	if (!strcmp(s, "pcapng"))
		*out = RAWCAP_FWD_PCAPNG;
	else if (!strcmp(s, "pcap"))
		*out = RAWCAP_FWD_PCAP;
	else if (!strcmp(s, "msgpack"))
		*out = RAWCAP_FWD_MSGPACK;
	else
		return -EINVAL;
	return 0;
}

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	return rawcap_parse_size(s, out) || *out > max ? -EINVAL : 0;
}

/* Returns 0, or the exit status of a usage error. */
static int parse_args(int argc, char **argv, struct rawcap_forward_opts *o)
{
	static struct opt all[OPT_MAX];
	static char snapshot[4096];
	const char *snapshot_dir = NULL;
	struct opt_window win;
	struct opt_parser p;
	uint64_t v;
	int opt, ret;

	opt_window_init(&win);
	const struct opt *const parts[] = {source_opts, transport_opts, control_opts};

	if (opt_join(all, OPT_MAX, parts, 3) || opt_init(&p, all, argc, argv))
		return usage_error("%s", "too many options");
	while ((opt = opt_next(&p, "rawcap-forward")) != -1) {
		switch (opt) {
		case OPT_ID_RING:
			o->ring = optarg;
			break;
		case OPT_ID_STORAGE:
			o->storage_dir = optarg;
			break;
		case OPT_ID_SNAPSHOT:
			o->snapshot = optarg;
			break;
		case OPT_ID_SNAPSHOT_DIR:
			snapshot_dir = optarg;
			break;
		case OPT_ID_FILTER:
			o->filter = optarg;
			break;
		case OPT_ID_LISTEN:
		case OPT_ID_CONNECT:
			if (check_port(optarg))
				return usage_error("bad address \"%s\": HOST:PORT, PORT 0..65535",
						   optarg);
			if (opt == OPT_ID_LISTEN)
				o->listen = optarg;
			else
				o->connect = optarg;
			break;
		case OPT_ID_CERT:
			o->tls_cert = optarg;
			break;
		case OPT_ID_KEY:
			o->tls_key = optarg;
			break;
		case OPT_ID_CA:
			o->tls_ca = optarg;
			break;
		case OPT_ID_PLAIN:
			o->plain = true;
			break;
		case OPT_ID_PAUSED:
			o->paused = true;
			break;
		case OPT_ID_ANY_CLIENT:
			o->tls_any_client = true;
			break;
		case OPT_ID_CONTROL_DIR:
			o->control_dir = optarg;
			break;
		case OPT_ID_DISSECTION:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("bad --dissection \"%s\": on or off", optarg);
			o->paused = !strcmp(optarg, "off");
			break;
		case OPT_ID_SEND_TIMEOUT:
			if (rawcap_parse_duration(optarg, &v) || v < 1000000 ||
			    v / 1000000 > UINT32_MAX)
				return usage_error("bad --send-timeout \"%s\": e.g. 500ms, 30s, 2m",
						   optarg);
			o->send_timeout_ms = (uint32_t)(v / 1000000);
			break;
		case OPT_ID_PACE:
			opt_pace(optarg, &o->pace); /* opt_next() refused a bad one */
			break;
		case OPT_ID_FORMAT:
			if (parse_format(optarg, &o->format))
				return usage_error("bad --format \"%s\": pcapng, pcap or msgpack",
						   optarg);
			break;
		case OPT_ID_RESUME:
			if (strcmp(optarg, "live") && strcmp(optarg, "backlog"))
				return usage_error("bad --resume \"%s\": live or backlog", optarg);
			o->resume = !strcmp(optarg, "backlog") ? RAWCAP_FWD_RESUME_BACKLOG
							       : RAWCAP_FWD_RESUME_LIVE;
			break;
		case OPT_ID_MAXC:
			if (parse_num(optarg, 256, &v) || !v)
				return usage_error("bad --max-clients \"%s\": 1..256", optarg);
			o->max_clients = (unsigned)v;
			break;
		case OPT_ID_BUF:
			if (parse_num(optarg, 1ull << 32, &v))
				return usage_error("bad --client-buffer \"%s\"", optarg);
			o->client_buf = v;
			break;
		case OPT_ID_SNAPLEN:
			if (parse_num(optarg, RAWCAP_SNAPLEN_MAX, &v) || v < 64)
				return usage_error("bad --snaplen \"%s\": 64..262144", optarg);
			o->snaplen = (uint32_t)v;
			break;
		case OPT_ID_HELP:
			opt_help_buffer();
			usage();
			exit(0);
		case '?':
			return 2;
		default:
			ret = opt_window_arg(&win, opt, optarg, "rawcap-forward");
			if (ret < 0)
				return 2;
			if (ret > 0)
				break;
			if (!g_pods && rawcap_meta_sel_new(&g_pods))
				return usage_error("%s", "out of memory");
			ret = rawcap_meta_sel_option(g_pods, opt, optarg);
			if (ret < 0)
				return usage_error("bad pod selection \"%s\"", optarg);
			if (!ret)
				return usage_error("%s", "unknown option");
			o->pods = g_pods;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (opt_window_finish(&win, true, "rawcap-forward"))
		return 2;
	o->from_ns = win.from_ns;
	o->to_ns = win.to_ns;
	if (o->snapshot)
		o->snapshot =
			opt_snapshot_path(o->snapshot, snapshot_dir, snapshot, sizeof(snapshot));
	if (!o->listen == !o->connect)
		return usage_error("%s", "give exactly one of --listen and --connect");
	if (o->snapshot && o->storage_dir)
		return usage_error("%s", "--snapshot and --storage exclude each other");
	if (o->plain && (o->tls_cert || o->tls_key || o->tls_ca || o->tls_any_client))
		return usage_error("%s", "--plain excludes --tls-*");
	if (o->tls_any_client && (o->tls_ca || o->connect))
		return usage_error("%s",
				   "--tls-any-client is for a --listen server without --tls-ca");
	if (!o->plain && o->listen && (!o->tls_cert || !o->tls_key))
		return usage_error("%s", "--listen needs --tls-cert and --tls-key, or --plain");
	if (!o->tls_cert != !o->tls_key)
		return usage_error("%s", "--tls-cert and --tls-key go together");
	return 0;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		rawcap_forward_pause(g_fwd, true);
	else if (sig == SIGUSR2)
		rawcap_forward_pause(g_fwd, false);
	else
		rawcap_forward_stop(g_fwd);
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns */
	int sigs[] = {SIGUSR1, SIGUSR2};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	opt_stop_signals(on_signal, 0); /* SIGTERM, SIGINT, SIGHUP: stop */
	signal(SIGPIPE, SIG_IGN);	/* a receiver that left is seen as EPIPE */
}

int main(int argc, char **argv)
{
	static const char *const fmts[] = {"pcapng", "pcap", "msgpack"};
	struct rawcap_forward_opts o = {.sz = sizeof(o)};
	struct rawcap_forward_stats st;
	char why[512];
	int ret = parse_args(argc, argv, &o), err;

	if (ret) {
		rawcap_meta_sel_free(g_pods);
		return ret;
	}
	err = rawcap_forward_create(&o, &g_fwd, why, sizeof(why));
	if (err) {
		fprintf(stderr, "rawcap-forward: %s\n", why);
		rawcap_meta_sel_free(g_pods);
		return err == -EINVAL ? 2 : 1;
	}
	install_signals();
	rawcap_forward_get_stats(g_fwd, &st); /* paused as --control-dir's file says, if any */
	o.paused = st.paused;
	if (o.listen)
		opt_note("rawcap-forward", "listening on %s (port %d), %s over %s%s", o.listen,
			 rawcap_forward_port(g_fwd), fmts[o.format], o.plain ? "plain TCP" : "TLS",
			 o.paused ? ", paused" : "");
	else
		opt_note("rawcap-forward", "forwarding to %s, %s over %s%s", o.connect,
			 fmts[o.format], o.plain ? "plain TCP" : "TLS", o.paused ? ", paused" : "");
	err = rawcap_forward_run(g_fwd, why, sizeof(why));
	if (err)
		fprintf(stderr, "rawcap-forward: %s\n", why);
	rawcap_forward_get_stats(g_fwd, &st);
	opt_note("rawcap-forward",
		 "%llu receivers (%llu refused), %llu packets, %llu bytes, "
		 "%llu records lost in %llu gaps, %llu filtered out; %llu streams started, "
		 "%llu timed out, %llu evicted, %llu accept failures",
		 (unsigned long long)st.clients_accepted, (unsigned long long)st.clients_rejected,
		 (unsigned long long)st.packets, (unsigned long long)st.bytes,
		 (unsigned long long)st.records_lost, (unsigned long long)st.gaps,
		 (unsigned long long)st.filtered, (unsigned long long)st.streams,
		 (unsigned long long)st.timed_out, (unsigned long long)st.evicted,
		 (unsigned long long)st.accept_errors);
	if (st.lost_upstream)
		fprintf(stderr,
			"rawcap-forward: %llu packets lost upstream (loss records, sent in the "
			"streams: a classic pcap stream cannot say so)\n",
			(unsigned long long)st.lost_upstream);
	rawcap_forward_destroy(g_fwd);
	rawcap_meta_sel_free(g_pods);
	/* Records a receiver did not get (lapped, damaged history) or loss make the result partial. */
	return err || st.records_lost || st.lost_upstream ? 1 : 0;
}
