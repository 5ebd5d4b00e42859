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

const char cli_global_help[] =
	"Reaching the nodes (every command):\n"
	"      --rawcap-namespace NS  namespace rawcap runs in (default: " CLI_DEFAULT_NAMESPACE
	")\n"
	"      --selector SEL      label selector of rawcap's pods\n"
	"                          (default: " CLI_DEFAULT_SELECTOR ")\n"
	"      --nodes A,B         only these nodes\n"
	"      --port N            rawcap-server's port in the pod (default: the container\n"
	"                          port named " CLI_PORT_NAME ", else 9470)\n"
	"      --kubectl PATH      the kubectl to run (default: $RAWCAP_KUBECTL, else kubectl)\n"
	"      --kubeconfig FILE   passed to kubectl\n"
	"      --context NAME      passed to kubectl\n"
	"      --endpoints N=URL,...  reach rawcap-servers directly instead (in-cluster\n"
	"                          use, tests): node name = base URL, e.g.\n"
	"                          n1=https://198.18.0.1:9470\n"
	"      --tls-ca FILE       with --endpoints: CA that signed the servers' certificates\n"
	"      --tls-cert FILE     with --endpoints: client certificate (PEM)\n"
	"      --tls-key FILE      with --endpoints: its private key (PEM)\n"
	"      --token-file FILE   with --endpoints: bearer token (sent over https only)\n"
	"      --request-timeout S seconds a request may take, and a stream may stall\n"
	"                          (default: 30)\n"
	"  -q, --quiet             no progress on stderr\n"
	"  -h, --help              this text\n"
	"\n"
	"By default rawcap's pods are found with `kubectl get pods` and reached\n"
	"through one `kubectl port-forward` per pod, so your kubeconfig and RBAC\n"
	"decide access (pods: list; pods/portforward: create, in rawcap's namespace).\n"
	"\n"
	"Changed spellings (the same flag means the same thing in every rawcap tool):\n"
	"  -n                     gone: was --namespace (rawcap's); give --rawcap-namespace\n"
	"  -l                     gone: was --selector; -l is --listen in every tool\n"
	"  --namespace:           now the captured pods' namespace (-N), as in rawcap-pcap;\n"
	"                         rawcap's own is --rawcap-namespace\n"
	"\n"
	"Exit status: 0 complete; 1 partial (a node failed or part of a window is\n"
	"missing: each is named on stderr) or failure; 2 usage error.\n";

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

static int parse_uint(const char *arg, unsigned lo, unsigned hi, unsigned *out)
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

int cli_global_opt(struct cli *c, int opt, const char *arg, void (*help)(FILE *))
{
	switch (opt) {
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
	case 'n':
		c->namespace = arg;
		break;
	case 'l':
		c->selector = arg;
		break;
	case 'q':
		c->quiet = true;
		break;
	case CLI_OPT_PORT:
		if (parse_uint(arg, 1, 65535, &c->port))
			return -cli_usage_error("bad --port (1..65535)", arg);
		break;
	case CLI_OPT_TIMEOUT:
		if (parse_uint(arg, 1, 86400, &c->timeout_s))
			return -cli_usage_error("bad --request-timeout (seconds, 1..86400)", arg);
		break;
	case 'h':
		help(stdout);
		exit(0);
	case '?':
		return -CLI_USAGE; /* getopt said what */
	default:
		return 0;
	}
	return 1;
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
