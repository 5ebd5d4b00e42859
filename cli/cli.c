// SPDX-License-Identifier: MIT
/*
 * cli.c - the options every kubectl-rawcap command takes, and the small
 * helpers the commands share.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "cli.h"

const struct opt cli_global_opts[] = {
	{"rawcap-namespace", 0, CLI_OPT_RAWCAP_NAMESPACE, "NS",
	 "namespace rawcap runs in (default: " CLI_DEFAULT_NAMESPACE ")", 0},
	{"selector", 0, CLI_OPT_SELECTOR, "SEL",
	 "label selector of rawcap's pods\n(default: " CLI_DEFAULT_SELECTOR ")", 0},
	{"nodes", 0, CLI_OPT_NODES, "A,B", "only these nodes", 0},
	{"port", 0, CLI_OPT_PORT, "N",
	 "rawcap-server's port in the pod (default: the\ncontainer port named " CLI_PORT_NAME
	 ", else 9470)",
	 0},
	{"kubectl", 0, CLI_OPT_KUBECTL, "PATH",
	 "the kubectl to run (default: $RAWCAP_KUBECTL, else\nkubectl)", 0},
	{"kubeconfig", 0, CLI_OPT_KUBECONFIG, "FILE", "passed to kubectl", 0},
	{"context", 0, CLI_OPT_CONTEXT, "NAME", "passed to kubectl", 0},
	{"endpoints", 0, CLI_OPT_ENDPOINTS, "N=URL,...",
	 "reach rawcap-servers directly instead (in-cluster\n"
	 "use, tests): node name = base URL, e.g.\n"
	 "n1=https://198.18.0.1:9470",
	 0},
	{"tls-ca", 0, CLI_OPT_TLS_CA, "FILE",
	 "with --endpoints: CA that signed the servers'\ncertificates", 0},
	{"tls-cert", 0, CLI_OPT_TLS_CERT, "FILE", "with --endpoints: client certificate (PEM)", 0},
	{"tls-key", 0, CLI_OPT_TLS_KEY, "FILE", "with --endpoints: its private key (PEM)", 0},
	{"token-file", 0, CLI_OPT_TOKEN_FILE, "FILE",
	 "with --endpoints: bearer token (sent over https only)", 0},
	{"request-timeout", 0, CLI_OPT_TIMEOUT, "DUR",
	 "how long a request may take, and a stream may stall:\nseconds or a duration, as kubectl's "
	 "(30, 30s, 2m;\n1s..24h; default: 30s)", 0},
	OPT_DEF_QUIET,
	OPT_DEF_HELP,
	OPT_GONE(NULL, 'n', "was --namespace (rawcap's); give --rawcap-namespace"),
	OPT_GONE(NULL, 'l', "was --selector; -l is --listen in every tool"),
	OPT_END,
};

void cli_help_global(FILE *f)
{
	fputs("\nReaching the nodes (every command):\n", f);
	opt_help(f, cli_global_opts);
	fputs("\n--namespace (-N) is the captured pods' namespace, as in rawcap-pcap; rawcap's\n"
	      "own is --rawcap-namespace.\n"
	      "\n"
	      "By default rawcap's pods are found with `kubectl get pods` and reached\n"
	      "through one `kubectl port-forward` per pod, so your kubeconfig and RBAC\n"
	      "decide access (pods: list; pods/portforward: create, in rawcap's namespace).\n"
	      "\n"
	      "Exit status: 0 complete; 1 partial (a node failed or part of a window is\n"
	      "missing: each is named on stderr) or failure; 2 usage error.\n",
	      f);
}

void cli_init(struct cli *c, volatile sig_atomic_t *stop)
{
	const char *k = getenv("RAWCAP_KUBECTL");

	memset(c, 0, sizeof(*c));
	c->namespace = CLI_DEFAULT_NAMESPACE;
	c->selector = CLI_DEFAULT_SELECTOR;
	c->kubectl = k && *k ? k : "kubectl";
	c->timeout_s = 30;
	c->stop = stop;
}

int cli_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s (see --help)\n", what, arg ? ": " : "", arg ? arg : "");
	return CLI_USAGE;
}

int cli_parse_uint(const char *arg, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!arg[0] || !isdigit((unsigned char)arg[0]))
		return -1;
	v = strtoul(arg, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int cli_parse_seconds(const char *arg, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t ns;

	if (opt_seconds(arg, hi * 1000000000ull, &ns) || ns < lo * 1000000000ull)
		return -1;
	*out = (unsigned)(ns / 1000000000ull);
	return 0;
}

int cli_parse_wait(const char *arg, unsigned *wait_s)
{
	if (!cli_parse_seconds(arg, 1, 86400 * 7, wait_s))
		return 0;
	return cli_usage_error("bad --wait (seconds or a duration: 1800, 30m, 2h; 1s..168h)", arg);
}

/* A global option: 1 if it was one, 0 if not, CLI_USAGE negated after saying why it is bad. */
static int cli_global_opt(struct cli *c, int id, const char *arg)
{
	switch (id) {
	case CLI_OPT_ENDPOINTS:
		c->endpoints = arg;
		break;
	case CLI_OPT_TLS_CA:
		c->tls_ca = arg;
		break;
	case CLI_OPT_TLS_CERT:
		c->tls_cert = arg;
		break;
	case CLI_OPT_TLS_KEY:
		c->tls_key = arg;
		break;
	case CLI_OPT_TOKEN_FILE:
		c->token_file = arg;
		break;
	case CLI_OPT_NODES:
		c->nodes = arg;
		break;
	case CLI_OPT_KUBECTL:
		c->kubectl = arg;
		break;
	case CLI_OPT_KUBECONFIG:
		c->kubeconfig = arg;
		break;
	case CLI_OPT_CONTEXT:
		c->context = arg;
		break;
	case CLI_OPT_RAWCAP_NAMESPACE:
		c->namespace = arg;
		break;
	case CLI_OPT_SELECTOR:
		c->selector = arg;
		break;
	case CLI_OPT_PORT:
		if (cli_parse_uint(arg, 1, 65535, &c->port))
			return -cli_usage_error("bad --port (1..65535)", arg);
		break;
	case CLI_OPT_TIMEOUT:
		if (cli_parse_seconds(arg, 1, 86400, &c->timeout_s))
			return -cli_usage_error(
				"bad --request-timeout (seconds or a duration: 30, 30s, 2m; 1s..24h)",
				arg);
		break;
	default:
		return 0;
	}
	return 1;
}

int cli_parse(struct cli *c, const struct opt *const *parts, size_t n, int argc, char **argv,
	      void (*help)(FILE *), cli_opt_fn take, void *ctx)
{
	const struct opt *sections[8];
	struct opt all[OPT_MAX + 1];
	struct opt_parser p;
	int id, rc;

	if (n + 1 > sizeof(sections) / sizeof(sections[0]))
		return cli_usage_error("internal: too many option sections", NULL);
	memcpy(sections, parts, n * sizeof(*parts));
	sections[n] = cli_global_opts;
	if (opt_join(all, OPT_MAX + 1, sections, n + 1) ||
	    opt_init(&p, all, argc, argv))
		return cli_usage_error("internal: too many options", NULL);
	optind = 1;
	while ((id = opt_next(&p, argv[0])) != -1) {
		if (id == '?')
			return CLI_USAGE; /* getopt or opt_next said what */
		if (id == OPT_ID_HELP) {
			opt_help_buffer();
			help(stdout);
			exit(0);
		}
		rc = cli_global_opt(c, id, optarg);
		if (rc < 0)
			return -rc;
		if (!rc && (rc = take(ctx, id, optarg)))
			return rc;
	}
	c->quiet = opt_quiet;
	return 0;
}

int cli_global_check(struct cli *c)
{
	bool tls = c->tls_ca || c->tls_cert || c->tls_key || c->token_file;

	if (tls && !c->endpoints)
		return cli_usage_error("--tls-*/--token-file apply to --endpoints only "
				       "(port-forward uses your kubeconfig)",
				       NULL);
	if (!c->tls_cert != !c->tls_key)
		return cli_usage_error("--tls-cert and --tls-key go together", NULL);
	if (c->endpoints && (c->kubeconfig || c->context || c->port))
		return cli_usage_error("--endpoints excludes --kubeconfig, --context and --port",
				       NULL);
	if (!c->namespace[0] || !c->selector[0])
		return cli_usage_error("empty --rawcap-namespace or --selector", NULL);
	if (c->nodes) {
		char names[1][254];

		if (!cli_nodes_list(c, names, 1))
			return cli_usage_error("--nodes names no node", c->nodes);
	}
	c->progress = !c->quiet && isatty(2);
	return 0;
}

size_t cli_nodes_list(const struct cli *c, char out[][254], size_t cap)
{
	const char *p = c->nodes;
	size_t n = 0;

	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len && len < 254) {
			if (n < cap) {
				memcpy(out[n], p, len);
				out[n][len] = '\0';
			}
			n++;
		}
		p += len + (p[len] == ',');
	}
	return n;
}

bool cli_node_wanted(const struct cli *c, const char *name)
{
	const char *p = c->nodes;
	size_t nl = strlen(name);

	if (!p)
		return true;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == nl && !strncmp(p, name, len))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

bool cli_node_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 253 || !isalnum((unsigned char)name[0]) ||
	    !isalnum((unsigned char)name[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '-' && name[i] != '.')
			return false;
	return true;
}

uint64_t cli_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cli_clean(char *dst, size_t cap, const char *s)
{
	size_t i = 0;

	for (; s && *s && i + 1 < cap; s++)
		dst[i++] = ((unsigned char)*s >= 0x20 && *s != 0x7f) ? *s : '?';
	if (cap)
		dst[i] = '\0';
}
