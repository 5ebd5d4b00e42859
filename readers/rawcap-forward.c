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

static struct rawcap_forward *g_fwd;
static struct rawcap_meta_sel *g_pods; /* --pod/--namespace/--label, or NULL */

static const char usage_text[] =
	"Usage: rawcap-forward [--ring NAME] [--storage DIR | --snapshot PATH]\n"
	"                      [--from T] [--to T] [--filter EXPR]\n"
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
	"Source:\n"
	"  -r, --ring NAME        ring to read (default \"default\")\n"
	"  -s, --storage DIR      also replay from this disk FIFO\n"
	"  -S, --snapshot PATH    replay this snapshot instead of ring and disk\n"
	"  -f, --from T           start at time T (RFC 3339, unix seconds, \"-5m\");\n"
	"                         default: live, from now on\n"
	"  -t, --to T             end at time T, then close each receiver's stream\n"
	"  -F, --filter EXPR      forward only packets matching this pcap filter\n"
	"      --pod NAME         forward only packets to or from pod NAME (or\n"
	"                         NAMESPACE/NAME)\n"
	"      --namespace NS     only packets to or from pods in namespace NS\n"
	"      --label K=V        only packets to or from pods labelled K=V (or having K)\n"
	"                         Pods are resolved from the Kubernetes metadata in the\n"
	"                         capture at each packet's time, along each receiver's\n"
	"                         own cursor; repeated --pod/--namespace are\n"
	"                         alternatives, --label all apply.\n"
	"  -p, --pace P           replay speed: \"realtime\" or \"Nx\" (e.g. 10x);\n"
	"                         default: as fast as the receiver takes it\n"
	"\n"
	"Transport:\n"
	"  -l, --listen ADDR:PORT serve receivers (tshark -i TCP@ADDR:PORT)\n"
	"  -c, --connect H:PORT   connect to a receiver; reconnect when it drops\n"
	"  -o, --format FMT       pcapng (default), pcap, or msgpack (docs/FORWARD.md)\n"
	"      --tls-cert FILE    certificate (PEM); a server needs one unless --plain\n"
	"      --tls-key FILE     its private key (PEM)\n"
	"      --tls-ca FILE      server: require client certificates signed by this CA\n"
	"                         (mutual TLS); client: verify the server with it. A TLS\n"
	"                         server on a non-loopback address needs it, unless\n"
	"      --tls-any-client   lets any TLS client connect without a certificate\n"
	"      --plain            plain TCP, no TLS (must be asked for)\n"
	"      --max-clients N    receivers at once (default 16)\n"
	"      --client-buffer SZ bytes queued per receiver before it is lapped (4Mi)\n"
	"      --send-timeout DUR drop a receiver that acknowledges none of the bytes\n"
	"                         queued for it for this long (default 30s); while every\n"
	"                         slot is in use, one that took nothing for 2s makes room\n"
	"                         for a new receiver.\n"
	"                         Peers have 5s to finish their TLS handshake / HELLO.\n"
	"      --snaplen N        truncate forwarded packets to N bytes\n"
	"\n"
	"Control (dissection on/off, capture unaffected):\n"
	"      --paused           start paused (Helm: tap.capture.stopped=true)\n"
	"      --dissection on|off  start forwarding (on, the default) or paused (off)\n"
	"      --control-dir DIR  follow the dissection switch DIR/dissection that\n"
	"                         rawcap-server writes (PUT /v1/dissection): read at\n"
	"                         start (it overrides --dissection/--paused/--resume;\n"
	"                         missing: they stand), then checked once a second.\n"
	"                         Receivers stay connected while it is off.\n"
	"      --resume MODE      on resume: \"live\" skips to now (default), \"backlog\"\n"
	"                         continues at the pause point while it is still held\n"
	"  SIGUSR1 pauses, SIGUSR2 resumes, SIGTERM/SIGINT stop.\n"
	"\n"
	"Exit status: 0 done; 1 runtime failure, or records a receiver did not get\n"
	"(lapped, or damaged blocks of the disk FIFO or snapshot skipped: reported in\n"
	"its stream and on stderr), or packets lost upstream (capd's loss records,\n"
	"sent in the streams and said on stderr); 2 usage error.\n";

enum {
	OPT_CERT = 256,
	OPT_KEY,
	OPT_CA,
	OPT_PLAIN,
	OPT_PAUSED,
	OPT_RESUME,
	OPT_MAXC,
	OPT_BUF,
	OPT_SNAP,
	OPT_SEND_TIMEOUT,
	OPT_ANY_CLIENT,
	OPT_CONTROL_DIR,
	OPT_DISSECTION,
};

static const struct option long_opts[] = {
	{"ring", required_argument, NULL, 'r'},
	{"storage", required_argument, NULL, 's'},
	{"snapshot", required_argument, NULL, 'S'},
	{"from", required_argument, NULL, 'f'},
	{"to", required_argument, NULL, 't'},
	{"filter", required_argument, NULL, 'F'},
	{"pace", required_argument, NULL, 'p'},
	{"listen", required_argument, NULL, 'l'},
	{"connect", required_argument, NULL, 'c'},
	{"format", required_argument, NULL, 'o'},
	{"tls-cert", required_argument, NULL, OPT_CERT},
	{"tls-key", required_argument, NULL, OPT_KEY},
	{"tls-ca", required_argument, NULL, OPT_CA},
	{"plain", no_argument, NULL, OPT_PLAIN},
	{"paused", no_argument, NULL, OPT_PAUSED},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"max-clients", required_argument, NULL, OPT_MAXC},
	{"client-buffer", required_argument, NULL, OPT_BUF},
	{"snaplen", required_argument, NULL, OPT_SNAP},
	{"send-timeout", required_argument, NULL, OPT_SEND_TIMEOUT},
	{"tls-any-client", no_argument, NULL, OPT_ANY_CLIENT},
	{"control-dir", required_argument, NULL, OPT_CONTROL_DIR},
	{"dissection", required_argument, NULL, OPT_DISSECTION},
	{"help", no_argument, NULL, 'h'},
	RAWCAP_META_SEL_LONGOPTS,
	{0},
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rawcap-forward: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

static int time_error(const char *opt, const char *arg, int err)
{
	char msg[640];

	return usage_error("%s",
			   rawcap_parse_error(RAWCAP_PARSE_TIME, err, opt, arg, msg, sizeof(msg)));
}

static int parse_pace(const char *s, double *out)
{
	char *end;

	if (!strcmp(s, "realtime")) {
		*out = 1.0;
		return 0;
	}
	*out = strtod(s, &end);
	return (*out > 0 && end != s && (!strcmp(end, "x") || !*end)) ? 0 : -EINVAL;
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
	uint64_t now = rawcap_now_ns(), v;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "r:s:S:f:t:F:p:l:c:o:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o->ring = optarg;
			break;
		case 's':
			o->storage_dir = optarg;
			break;
		case 'S':
			o->snapshot = optarg;
			break;
		case 'F':
			o->filter = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'c':
			o->connect = optarg;
			break;
		case OPT_CERT:
			o->tls_cert = optarg;
			break;
		case OPT_KEY:
			o->tls_key = optarg;
			break;
		case OPT_CA:
			o->tls_ca = optarg;
			break;
		case OPT_PLAIN:
			o->plain = true;
			break;
		case OPT_PAUSED:
			o->paused = true;
			break;
		case OPT_ANY_CLIENT:
			o->tls_any_client = true;
			break;
		case OPT_CONTROL_DIR:
			o->control_dir = optarg;
			break;
		case OPT_DISSECTION:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("bad --dissection \"%s\": on or off", optarg);
			o->paused = !strcmp(optarg, "off");
			break;
		case OPT_SEND_TIMEOUT:
			if (rawcap_parse_duration(optarg, &v) || v < 1000000 ||
			    v / 1000000 > UINT32_MAX)
				return usage_error("bad --send-timeout \"%s\": e.g. 500ms, 30s, 2m",
						   optarg);
			o->send_timeout_ms = (uint32_t)(v / 1000000);
			break;
		case 'f':
			if ((ret = rawcap_parse_time(optarg, now, &o->from_ns)))
				return time_error("--from", optarg, ret);
			break;
		case 't':
			if ((ret = rawcap_parse_time(optarg, now, &o->to_ns)))
				return time_error("--to", optarg, ret);
			break;
		case 'p':
			if (parse_pace(optarg, &o->pace))
				return usage_error("bad --pace \"%s\": use realtime or Nx", optarg);
			break;
		case 'o':
			if (parse_format(optarg, &o->format))
				return usage_error("bad --format \"%s\": pcapng, pcap or msgpack",
						   optarg);
			break;
		case OPT_RESUME:
			if (strcmp(optarg, "live") && strcmp(optarg, "backlog"))
				return usage_error("bad --resume \"%s\": live or backlog", optarg);
			o->resume = !strcmp(optarg, "backlog") ? RAWCAP_FWD_RESUME_BACKLOG
							       : RAWCAP_FWD_RESUME_LIVE;
			break;
		case OPT_MAXC:
			if (parse_num(optarg, 256, &v) || !v)
				return usage_error("bad --max-clients \"%s\": 1..256", optarg);
			o->max_clients = (unsigned)v;
			break;
		case OPT_BUF:
			if (parse_num(optarg, 1ull << 32, &v))
				return usage_error("bad --client-buffer \"%s\"", optarg);
			o->client_buf = v;
			break;
		case OPT_SNAP:
			if (parse_num(optarg, RAWCAP_SNAPLEN_MAX, &v) || v < 64)
				return usage_error("bad --snaplen \"%s\": 64..262144", optarg);
			o->snaplen = (uint32_t)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
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
	if (!o->listen == !o->connect)
		return usage_error("%s", "give exactly one of --listen and --connect");
	if (o->snapshot && o->storage_dir)
		return usage_error("%s", "--snapshot and --storage exclude each other");
	if (o->to_ns && o->from_ns && o->to_ns < o->from_ns)
		return usage_error("%s", "--to is before --from");
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
	int sigs[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGINT};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a receiver that left is seen as EPIPE */
}

int main(int argc, char **argv)
{
	static const char *const fmts[] = {"pcapng", "pcap", "msgpack"};
	struct rawcap_forward_opts o = {.sz = sizeof(o)};
	struct rawcap_forward_stats st;
	int ret = parse_args(argc, argv, &o), err;

	if (ret) {
		rawcap_meta_sel_free(g_pods);
		return ret;
	}
	err = rawcap_forward_create(&o, &g_fwd);
	if (err) {
		fprintf(stderr, "rawcap-forward: %s\n", rawcap_forward_error(g_fwd));
		rawcap_forward_destroy(g_fwd);
		rawcap_meta_sel_free(g_pods);
		return err == -EINVAL ? 2 : 1;
	}
	install_signals();
	rawcap_forward_get_stats(g_fwd, &st); /* paused as --control-dir's file says, if any */
	o.paused = st.paused;
	if (o.listen)
		fprintf(stderr, "rawcap-forward: listening on %s (port %d), %s over %s%s\n",
			o.listen, rawcap_forward_port(g_fwd), fmts[o.format],
			o.plain ? "plain TCP" : "TLS", o.paused ? ", paused" : "");
	else
		fprintf(stderr, "rawcap-forward: forwarding to %s, %s over %s%s\n", o.connect,
			fmts[o.format], o.plain ? "plain TCP" : "TLS", o.paused ? ", paused" : "");
	err = rawcap_forward_run(g_fwd);
	if (err)
		fprintf(stderr, "rawcap-forward: %s\n", rawcap_forward_error(g_fwd));
	rawcap_forward_get_stats(g_fwd, &st);
	fprintf(stderr,
		"rawcap-forward: %llu receivers (%llu refused), %llu packets, %llu bytes, "
		"%llu records lost in %llu gaps, %llu filtered out; %llu streams started, "
		"%llu timed out, %llu evicted, %llu accept failures\n",
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
