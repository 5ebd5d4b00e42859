// SPDX-License-Identifier: MIT
/*
 * rawcap-server - the node API: what this node holds, pcap downloads of any
 * window, over HTTP (docs/API.md). An unprivileged reader like the others:
 * it opens the ring read-only through librawcap and never slows capd.
 *
 * Without TLS it serves plain HTTP on loopback only (127.0.0.0/8, ::1),
 * where kubectl port-forward reaches it; any other address is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rawcap/rawcap.h>
#include <rawcap/snapshot.h>

#include "opt.h"
#include "server.h"

#define SERVER_LISTEN	 "127.0.0.1:9470"
#define SERVER_MAX_CONNS 64
/*
 * MHD reads a streamed body into the connection's memory pool: with the
 * usual 8 KiB a download moves a few KiB per send and poll. 768 KiB takes
 * a whole flushed span of the pcap writer (its 256 KiB buffer plus room for
 * the largest record: about 515 KiB) in one hand-over and one send, where
 * 256 KiB took three (64 connections: 48 MiB at most).
 */
#define SERVER_CONN_MEM	   (768 * 1024)
#define SERVER_IDLE_S	   30
#define SERVER_HEADER_S	   10 /* a request's headers, however they trickle in (slowloris) */
#define SERVER_DRAIN_S	   5  /* at exit, how long exports get to notice and end */
#define SERVER_JOBS_STOP_S 10 /* at exit, how long cancelled snapshot jobs get to clean up */

enum {
	OPT_ID_MAX_EXPORTS = OPT_ID_LOCAL,
	OPT_ID_TLS_CERT,
	OPT_ID_TLS_KEY,
	OPT_ID_TLS_CA,
	OPT_ID_TOKEN_FILE,
	OPT_ID_TOKEN_FILE_RO,
	OPT_ID_CONTROL_DIR,
	OPT_ID_DISSECTION,
};

static const struct opt server_opts[] = {
	OPT_DEF_LISTEN("address to serve on (default: " SERVER_LISTEN ").\n"
		       "Plain HTTP is served on loopback only (127.0.0.0/8,\n"
		       "[::1]): reach it with kubectl port-forward. Any\n"
		       "other address needs TLS and --tls-ca or --token-file(-ro)."),
	{"tls-cert", 'C', OPT_ID_TLS_CERT, "FILE",
	 "serve HTTPS with this certificate chain (PEM) ...", 0},
	{"tls-key", 'K', OPT_ID_TLS_KEY, "FILE", "... and its key (PEM)", 0},
	{"tls-ca", 'A', OPT_ID_TLS_CA, "FILE",
	 "accept clients whose certificate this CA (PEM) signed", 0},
	{"token-file", 'T', OPT_ID_TOKEN_FILE, "FILE",
	 "accept clients sending \"Authorization: Bearer TOKEN\",\n"
	 "TOKEN the file's first line (16 characters or more;\n"
	 "compared in constant time). With --tls-ca and\n"
	 "--token-file either one admits a client; every\n"
	 "request, /healthz included, is checked first (401).",
	 0},
	{"token-file-ro", 'R', OPT_ID_TOKEN_FILE_RO, "FILE",
	 "the same for a read-only token: it may GET and HEAD,\n"
	 "while PUT, POST and DELETE with it get 403",
	 0},
	OPT_DEF_RING("ring to read (default: \"default\")"),
	OPT_DEF_STORAGE("disk FIFO directory: history older than the ring\n"
			"(default: the one capd records in the ring)"),
	OPT_DEF_SNAPSHOT_DIR("snapshot directory (must exist)"),
	OPT_DEF_NODE("node name in answers and file names\n"
		     "(default: $NODE_NAME, else the host name)"),
	{"max-exports", 'x', OPT_ID_MAX_EXPORTS, "N",
	 "pcap downloads and snapshot jobs at once, 1..256; more\n"
	 "get 429 (default: 4)",
	 0},
	OPT_DEF_QUOTA("bytes all snapshots in --snapshot-dir may use\n"
		      "(e.g. 10Gi; default: unlimited)"),
	{"control-dir", 'D', OPT_ID_CONTROL_DIR, "DIR",
	 "the dissection switch lives here (DIR/dissection,\n"
	 "written atomically, mode 0640); rawcap-forward\n"
	 "--control-dir DIR follows it within a second.\n"
	 "Without it /v1/dissection is 404.",
	 0},
	{"dissection", 0, OPT_ID_DISSECTION, "on|off",
	 "the switch while DIR has no file yet (default: on)", 0},
	OPT_DEF_HELP,
	OPT_OLD("snapshots", 0, OPT_ID_SNAPSHOT_DIR, "DIR", "the same as --snapshot-dir"),
	OPT_OLD("snapshot-quota", 0, OPT_ID_QUOTA, "SIZE", "the same as --quota"),
	OPT_GONE(NULL, 'S', "was --snapshots; now -d, --snapshot-dir (-S is --snapshot)"),
	OPT_GONE(NULL, 'q', "was --snapshot-quota; now -Q, --quota (-q is --quiet)"),
	OPT_GONE(NULL, 'n', "was --node: give --node (-n is rawcap-snapshot's --name)"),
	OPT_END,
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: " SERVER_PROG " --snapshot-dir DIR [--listen ADDR:PORT] [--ring NAME]\n"
		   "                     [--storage DIR] [--node NAME] [--max-exports N]\n"
		   "                     [--quota SIZE] [--tls-cert F --tls-key F\n"
		   "                     [--tls-ca F]] [--token-file F] [--token-file-ro F]\n"
		   "                     [--control-dir DIR [--dissection on|off]]\n"
		   "\n"
		   "Serve this node's capture over HTTP: data boundaries, loss and capd's state\n"
		   "(GET /v1/node), pcapng or pcap of any window held (GET /v1/pcap), snapshots\n"
		   "(/v1/snapshots: create, list, show, verify, download, delete), dissection\n"
		   "on/off (/v1/dissection), /healthz and /metrics. The API is in docs/API.md.\n"
		   "\n");
	opt_help(f, server_opts);
	fprintf(f, "\n"
		   "  curl -s http://127.0.0.1:9470/v1/node\n"
		   "  curl -so w.pcapng "
		   "'http://127.0.0.1:9470/v1/pcap?last=5m&filter=tcp%%20port%%2080'\n"
		   "\n"
		   "SIGTERM or SIGINT: stop serving and exit 0. Exit status: 0 stopped, 1 cannot\n"
		   "serve (address in use, ...), 2 usage error.\n");
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, SERVER_PROG ": %s%s%s (see --help)\n", what, arg ? ": " : "",
		arg ? arg : "");
	return 2;
}

static int check_dir(const char *opt, const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		return fprintf(stderr, SERVER_PROG ": %s %s: %s\n", opt, dir, strerror(errno)), 2;
	if (!S_ISDIR(st.st_mode))
		return usage_error("not a directory", dir);
	return 0;
}

/*
 * The snapshot directory as every snapshot call will reach it (the path
 * walk, and not another user's directory in one others may write): a
 * problem is said once at start, and the node API still served (capture
 * matters more than snapshot storage); the snapshot requests answer with it.
 */
static void check_snapshot_dir(const char *dir)
{
	char **names, why[320];
	size_t n;
	int err = rawcap_snapshot_list_why(dir, &names, &n, why, sizeof(why));

	if (!err) {
		rawcap_snapshot_list_free(names, n);
		return;
	}
	fprintf(stderr, SERVER_PROG ": --snapshot-dir %s: %s (serving on; snapshot requests fail "
		"until it is fixed)\n", dir, why[0] ? why : rawcap_strerror(err));
}

static int parse_node(struct server *s, const char *name)
{
	if (!name)
		name = getenv("NODE_NAME");
	if (!name || !*name) {
		if (gethostname(s->node, sizeof(s->node) - 1))
			snprintf(s->node, sizeof(s->node), "node");
		return 0;
	}
	if (strlen(name) >= sizeof(s->node) || strpbrk(name, "\"/\\ \t\r\n"))
		return usage_error("bad node name", name);
	snprintf(s->node, sizeof(s->node), "%s", name);
	return 0;
}

static int parse_args(int argc, char **argv, struct server *s)
{
	const char *node = NULL;
	struct opt_parser p;
	uint64_t v;
	int c, err;

	s->listen = SERVER_LISTEN;
	s->ring = "default";
	s->max_exports = SERVER_MAX_EXPORTS;
	s->dissection_initial = true;
	opt_init(&p, server_opts, argc, argv);
	while ((c = opt_next(&p, SERVER_PROG)) != -1) {
		switch (c) {
		case OPT_ID_LISTEN:
			s->listen = optarg;
			break;
		case OPT_ID_RING:
			s->ring = optarg;
			break;
		case OPT_ID_STORAGE:
			s->storage = optarg;
			break;
		case OPT_ID_SNAPSHOT_DIR:
			s->snapshots = optarg;
			break;
		case OPT_ID_NODE:
			node = optarg;
			break;
		case OPT_ID_HELP:
			opt_help_buffer();
			usage(stdout);
			exit(0);
		case OPT_ID_MAX_EXPORTS:
			if (rawcap_parse_size(optarg, &v) || v < 1 || v > 256)
				return usage_error("bad --max-exports (1..256)", optarg);
			s->max_exports = (unsigned)v;
			break;
		case OPT_ID_QUOTA:
			if (rawcap_parse_size(optarg, &s->snapshot_quota))
				return usage_error("bad --quota (a size: 10Gi)", optarg);
			break;
		case OPT_ID_TLS_CERT:
			s->tls_cert_file = optarg;
			break;
		case OPT_ID_TLS_KEY:
			s->tls_key_file = optarg;
			break;
		case OPT_ID_TLS_CA:
			s->tls_ca_file = optarg;
			break;
		case OPT_ID_TOKEN_FILE:
			s->token_file = optarg;
			break;
		case OPT_ID_TOKEN_FILE_RO:
			s->token_ro_file = optarg;
			break;
		case OPT_ID_CONTROL_DIR:
			s->control_dir = optarg;
			break;
		case OPT_ID_DISSECTION:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("bad --dissection (on or off)", optarg);
			s->dissection_initial = !strcmp(optarg, "on");
			break;
		case '?':
			return 2; /* getopt or opt_next said why */
		default:
			return usage_error("bad option", NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!s->snapshots)
		return usage_error("--snapshot-dir DIR is required", NULL);
	if ((err = check_dir("--snapshot-dir", s->snapshots)))
		return err;
	check_snapshot_dir(s->snapshots);
	if ((s->storage && (err = check_dir("--storage", s->storage))) ||
	    (s->control_dir && (err = check_dir("--control-dir", s->control_dir))))
		return err;
	return parse_node(s, node);
}

static const struct httpd_route routes[] = {
	{.method = "GET", .path = "/v1/node", .fn = server_node_get},
	{.method = "GET", .path = "/v1/pcap", .fn = server_pcap_get},
	{.method = "POST",
	 .path = "/v1/snapshots",
	 .fn = server_snapshot_post,
	 .max_body = SERVER_MAX_BODY},
	{.method = "GET", .path = "/v1/snapshots", .fn = server_snapshot_list},
	{.method = "GET", .path = "/v1/snapshots/*", .fn = server_snapshot_get},
	{.method = "DELETE", .path = "/v1/snapshots/*", .fn = server_snapshot_delete},
	{.method = "POST", .path = "/v1/snapshots/*/verify", .fn = server_snapshot_verify},
	{.method = "GET", .path = "/v1/snapshots/*/pcap", .fn = server_snapshot_pcap},
	{.method = "POST",
	 .path = "/v1/snapshots/*/upload",
	 .fn = server_transfer_upload,
	 .max_body = SERVER_MAX_BODY},
	{.method = "POST",
	 .path = "/v1/snapshots/download",
	 .fn = server_transfer_download,
	 .max_body = SERVER_MAX_BODY},
	{.method = "GET", .path = "/v1/dissection", .fn = server_dissection_get},
	{.method = "PUT",
	 .path = "/v1/dissection",
	 .fn = server_dissection_put,
	 .max_body = SERVER_MAX_BODY},
	{.method = "GET", .path = "/healthz", .fn = server_healthz_get},
	{.method = "GET", .path = "/metrics", .fn = server_metrics_get},
	{0},
};

static void log_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(SERVER_PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int serve(struct server *s, const sigset_t *stop_sigs)
{
	struct httpd_opts o = {
		.listen = s->listen,
		.routes = routes,
		.arg = s,
		.max_conns = SERVER_MAX_CONNS,
		.idle_timeout_s = SERVER_IDLE_S,
		.header_timeout_s = SERVER_HEADER_S,
		.conn_mem = SERVER_CONN_MEM,
		.thread_per_conn = true,
		.log = log_line,
		.max_query = SERVER_MAX_QUERY,
		.max_args = SERVER_MAX_ARGS,
		.max_headers = SERVER_MAX_HEADERS,
		.error_body = server_error_body,
		.answered = server_count_answer,
		.tls_cert = s->tls_cert,
		.tls_key = s->tls_key,
		.tls_ca = s->tls_ca,
		.token = s->token,
		.token_ro = s->token_ro,
	};
	int sig, err = httpd_start(&o, &s->h);

	if (err) {
		fprintf(stderr, SERVER_PROG ": listen on %s: %s\n", s->listen, strerror(-err));
		return 1;
	}
	fprintf(stderr, SERVER_PROG ": serving ring %s on http%s://%s (node %s)\n", s->ring,
		s->tls_cert ? "s" : "", s->listen, s->node);
	sigwait(stop_sigs, &sig);
	fprintf(stderr, SERVER_PROG ": %s: stopping\n", strsignal(sig));
	httpd_stop(s->h);
	server_snapshot_jobs_stop(s, SERVER_JOBS_STOP_S);
	server_transfers_stop(s);
	for (int i = 0; i < SERVER_DRAIN_S * 10 && __atomic_load_n(&s->exports, __ATOMIC_RELAXED);
	     i++)
		nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static struct server s;
	sigset_t stop_sigs;
	int err = parse_args(argc, argv, &s);

	if (err)
		return err;
	err = server_creds_load(&s);
	if (!err)
		err = server_check_listen(&s);
	if (err) {
		server_creds_free(&s);
		return err;
	}
	pthread_mutex_init(&s.lock, NULL);
	server_snapshot_jobs_init(&s);
	signal(SIGPIPE, SIG_IGN);
	/* Blocked in every thread (they inherit the mask); only sigwait() takes them. */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	err = serve(&s, &stop_sigs);
	server_creds_free(&s);
	return err;
}
