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

#include "server.h"

#define SERVER_LISTEN	 "127.0.0.1:9470"
#define SERVER_MAX_CONNS 64
/*
 * MHD reads a streamed body into the connection's memory pool: with the
 * usual 8 KiB a download moves a few KiB per send and poll; 256 KiB lets it
 * send in large pieces (64 connections: 16 MiB at most).
 */
#define SERVER_CONN_MEM (256 * 1024)
#define SERVER_IDLE_S	30
#define SERVER_DRAIN_S	5 /* at exit, how long exports get to notice and end */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " SERVER_PROG " --snapshots DIR [--listen ADDR:PORT] [--ring NAME]\n"
		"                     [--storage DIR] [--node NAME] [--max-exports N]\n"
		"                     [--snapshot-quota SIZE] [--tls-cert F --tls-key F\n"
		"                     [--tls-ca F]] [--token-file F] [--token-file-ro F]\n"
		"                     [--control-dir DIR [--dissection on|off]]\n"
		"\n"
		"Serve this node's capture over HTTP: data boundaries, loss and capd's state\n"
		"(GET /v1/node), pcapng or pcap of any window held (GET /v1/pcap), snapshots\n"
		"(/v1/snapshots: create, list, show, verify, download, delete), dissection\n"
		"on/off (/v1/dissection), /healthz and /metrics. The API is in docs/API.md.\n"
		"\n"
		"  -l, --listen ADDR:PORT  address to serve on (default: " SERVER_LISTEN ").\n"
		"                          Plain HTTP is served on loopback only (127.0.0.0/8,\n"
		"                          [::1]): reach it with kubectl port-forward. Any\n"
		"                          other address needs TLS and --tls-ca or --token-file(-ro).\n"
		"      --tls-cert F, --tls-key F  serve HTTPS with this certificate chain and key\n"
		"                          (PEM)\n"
		"      --tls-ca F          accept clients whose certificate this CA (PEM) signed\n"
		"      --token-file F      accept clients sending \"Authorization: Bearer "
		"TOKEN\",\n"
		"                          TOKEN the file's first line (16 characters or more;\n"
		"                          compared in constant time). With --tls-ca and\n"
		"                          --token-file either one admits a client; every\n"
		"                          request, /healthz included, is checked first (401).\n"
		"  -R, --token-file-ro F   the same for a read-only token: it may GET, while\n"
		"                          PUT, POST and DELETE with it get 403\n"
		"  -r, --ring NAME         ring to read (default: \"default\")\n"
		"  -s, --storage DIR       disk FIFO directory: history older than the ring\n"
		"  -S, --snapshots DIR     snapshot directory (must exist)\n"
		"  -n, --node NAME         node name in answers and file names\n"
		"                          (default: $NODE_NAME, else the host name)\n"
		"  -x, --max-exports N     pcap downloads and snapshot jobs at once; more get 429\n"
		"                          (default: 4)\n"
		"  -q, --snapshot-quota SIZE  bytes all snapshots in --snapshots may use\n"
		"                          (e.g. 10Gi; default: unlimited)\n"
		"  -D, --control-dir DIR   the dissection switch lives here (DIR/dissection,\n"
		"                          written atomically, mode 0640); rawcap-forward\n"
		"                          --control-dir DIR follows it within a second.\n"
		"                          Without it /v1/dissection is 404.\n"
		"  -d, --dissection on|off the switch while DIR has no file yet (default: on)\n"
		"  -h, --help              this text\n"
		"\n"
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
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"ring", required_argument, NULL, 'r'},
		{"storage", required_argument, NULL, 's'},
		{"snapshots", required_argument, NULL, 'S'},
		{"node", required_argument, NULL, 'n'},
		{"max-exports", required_argument, NULL, 'x'},
		{"snapshot-quota", required_argument, NULL, 'q'},
		{"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'},
		{"tls-ca", required_argument, NULL, 'A'},
		{"token-file", required_argument, NULL, 'T'},
		{"token-file-ro", required_argument, NULL, 'R'},
		{"control-dir", required_argument, NULL, 'D'},
		{"dissection", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *node = NULL;
	uint64_t v;
	int c, err;

	s->listen = SERVER_LISTEN;
	s->ring = "default";
	s->max_exports = SERVER_MAX_EXPORTS;
	s->dissection_initial = true;
	while ((c = getopt_long(argc, argv, "l:r:s:S:n:x:q:C:K:A:T:R:D:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			s->listen = optarg;
			break;
		case 'r':
			s->ring = optarg;
			break;
		case 's':
			s->storage = optarg;
			break;
		case 'S':
			s->snapshots = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'x':
			if (rawcap_parse_size(optarg, &v) || v < 1 || v > 256)
				return usage_error("bad --max-exports (1..256)", optarg);
			s->max_exports = (unsigned)v;
			break;
		case 'q':
			if (rawcap_parse_size(optarg, &s->snapshot_quota))
				return usage_error("bad --snapshot-quota (a size: 10Gi)", optarg);
			break;
		case 'C':
			s->tls_cert_file = optarg;
			break;
		case 'K':
			s->tls_key_file = optarg;
			break;
		case 'A':
			s->tls_ca_file = optarg;
			break;
		case 'T':
			s->token_file = optarg;
			break;
		case 'R':
			s->token_ro_file = optarg;
			break;
		case 'D':
			s->control_dir = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("bad --dissection (on or off)", optarg);
			s->dissection_initial = !strcmp(optarg, "on");
			break;
		default:
			return usage_error("bad option", NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!s->snapshots)
		return usage_error("--snapshots DIR is required", NULL);
	if ((err = check_dir("--snapshots", s->snapshots)) ||
	    (s->storage && (err = check_dir("--storage", s->storage))) ||
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
		.conn_mem = SERVER_CONN_MEM,
		.thread_per_conn = true,
		.log = log_line,
		.max_query = SERVER_MAX_QUERY,
		.max_args = SERVER_MAX_ARGS,
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
	fprintf(stderr, SERVER_PROG ": serving ring %s on http://%s (node %s)\n", s->ring,
		s->listen, s->node);
	sigwait(stop_sigs, &sig);
	fprintf(stderr, SERVER_PROG ": %s: stopping\n", strsignal(sig));
	httpd_stop(s->h);
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
