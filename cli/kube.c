// SPDX-License-Identifier: MIT
/*
 * kube.c - the default way to the nodes: `kubectl get pods` finds rawcap's
 * pods, then one `kubectl port-forward pod/NAME :PORT` per pod, all started
 * at once, gives each node an ephemeral port on 127.0.0.1. The
 * port-forwards live until transport_close(), which ends them (proc.h:
 * own process group, killed with us if we die).
 *
 * kubectl is the user's (or --kubectl): their kubeconfig, credentials and
 * RBAC decide what is allowed; nothing here handles a credential.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kube.h"
#include "proc.h"
#include "transport.h"

#define PODS_JSON_MAX (256u << 20)

struct pf {
	struct proc p;
	bool started, ready;
	char line[512]; /* a partial line of its standard output */
	size_t line_len;
};

struct kube {
	struct pf *pfs; /* one per node, in t->nodes order */
};

/* kubectl [--kubeconfig F] [--context C] then the rest, in argv (room for 24). */
static size_t kubectl_argv(const struct cli *c, const char **argv)
{
	size_t n = 0;

	argv[n++] = c->kubectl;
	if (c->kubeconfig) {
		argv[n++] = "--kubeconfig";
		argv[n++] = c->kubeconfig;
	}
	if (c->context) {
		argv[n++] = "--context";
		argv[n++] = c->context;
	}
	return n;
}

static int get_pods(const struct cli *c, struct kube_pod **pods, size_t *npods)
{
	const char *argv[24];
	char timeout[32], err[256];
	size_t n = kubectl_argv(c, argv), len;
	struct proc p;
	char *out;
	int rc;

	snprintf(timeout, sizeof(timeout), "--request-timeout=%us", c->timeout_s);
	argv[n++] = "get";
	argv[n++] = "pods";
	argv[n++] = "--namespace";
	argv[n++] = c->namespace;
	argv[n++] = "--selector";
	argv[n++] = c->selector;
	argv[n++] = "--output";
	argv[n++] = "json";
	argv[n++] = timeout;
	argv[n] = NULL;
	rc = proc_run(&p, (char *const *)argv, PODS_JSON_MAX, &out, &len,
		      (int)(c->timeout_s + 5) * 1000, c->stop);
	if (rc) {
		fprintf(stderr, PROG ": %s get pods: %s%s%s\n", c->kubectl,
			rc == -EINTR ? "interrupted" : strerror(-rc), p.err_len ? ": " : "",
			proc_err_line(&p));
		return CLI_PARTIAL;
	}
	if (!WIFEXITED(p.status) || WEXITSTATUS(p.status)) {
		fprintf(stderr, PROG ": %s get pods --namespace %s failed: %s\n", c->kubectl,
			c->namespace, p.err_len ? proc_err_line(&p) : "no message");
		free(out);
		return CLI_PARTIAL;
	}
	rc = kube_parse_pods(out, len, pods, npods, err, sizeof(err));
	free(out);
	if (rc) {
		fprintf(stderr, PROG ": %s\n", rc == -ENOMEM ? "out of memory" : err);
		return CLI_PARTIAL;
	}
	return 0;
}

/* The nodes: one chosen pod each, narrowed by --nodes; unusable pods are failed nodes. */
static int pick_nodes(struct transport *t, const struct cli *c, struct kube_pod *pods, size_t npods)
{
	size_t *chosen = calloc(npods ? npods : 1, sizeof(*chosen)), nchosen;

	if (!chosen)
		return -ENOMEM;
	for (size_t i = 0; i < npods; i++)
		if (pods[i].problem[0] && !c->quiet)
			fprintf(stderr, PROG ": ignoring %s\n", pods[i].problem);
	kube_choose(pods, npods, chosen, &nchosen);
	for (size_t i = 0; i < nchosen; i++) {
		const struct kube_pod *p = &pods[chosen[i]];
		const char *bad = kube_pod_unusable(p);

		if (!cli_node_wanted(c, p->node))
			continue;
		if (transport_add_node(t, p->node, NULL, p->name)) {
			free(chosen);
			return -ENOMEM;
		}
		if (bad)
			snprintf(t->nodes[t->n - 1].why, sizeof(t->nodes[0].why),
				 "pod %s %s (phase %s)", p->name, bad, p->phase);
	}
	free(chosen);
	return transport_add_missing(t, c, "no rawcap pod on this node");
}

static unsigned pod_port(const struct cli *c, struct kube_pod *pods, size_t npods, const char *pod)
{
	if (c->port)
		return c->port;
	for (size_t i = 0; i < npods; i++)
		if (!strcmp(pods[i].name, pod) && pods[i].port)
			return pods[i].port;
	return CLI_DEFAULT_PORT;
}

static int pf_start(struct pf *f, const struct cli *c, const char *pod, unsigned port)
{
	const char *argv[24];
	char target[300], ports[16];
	size_t n = kubectl_argv(c, argv);

	snprintf(target, sizeof(target), "pod/%s", pod);
	snprintf(ports, sizeof(ports), ":%u", port);
	argv[n++] = "port-forward";
	argv[n++] = "--namespace";
	argv[n++] = c->namespace;
	argv[n++] = "--address";
	argv[n++] = "127.0.0.1";
	argv[n++] = target;
	argv[n++] = ports;
	argv[n] = NULL;
	if (proc_start(&f->p, (char *const *)argv))
		return -1;
	f->started = true;
	return 0;
}

/* Read its standard output; the first "Forwarding from 127.0.0.1:PORT -> ..." sets url. */
static void pf_read(struct pf *f, struct node *node)
{
	char buf[4096];
	ssize_t n = -1;

	while (f->p.out_fd >= 0 && (n = read(f->p.out_fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			if (errno == EINTR)
				continue;
			close(f->p.out_fd); /* treat as its end */
			f->p.out_fd = -1;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			unsigned local, remote;
			char url[64];

			if (buf[i] != '\n') {
				if (f->line_len < sizeof(f->line) - 1)
					f->line[f->line_len++] = buf[i];
				continue;
			}
			f->line[f->line_len] = '\0';
			f->line_len = 0;
			if (f->ready ||
			    sscanf(f->line, "Forwarding from 127.0.0.1:%u -> %u", &local,
				   &remote) != 2 ||
			    !local || local > 65535)
				continue;
			snprintf(url, sizeof(url), "http://127.0.0.1:%u", local);
			node->url = strdup(url);
			f->ready = node->url != NULL;
		}
	}
	if (f->p.out_fd >= 0 && n == 0) {
		close(f->p.out_fd); /* end of file: it is exiting */
		f->p.out_fd = -1;
	}
	proc_drain_err(&f->p);
}

static void pf_failed(struct pf *f, struct node *node, const char *what)
{
	const char *msg = proc_err_line(&f->p);

	snprintf(node->why, sizeof(node->why), "kubectl port-forward to pod %s %s%s%s", node->pod,
		 what, msg[0] ? ": " : "", msg);
	free(node->url);
	node->url = NULL;
	proc_stop(&f->p, 0);
	f->started = false;
}

/* Wait until every port-forward said its port, exited, or the time is up. */
static void pf_wait_all(struct transport *t, struct kube *k, const struct cli *c)
{
	uint64_t end = cli_mono_ns() + (uint64_t)c->timeout_s * 1000000000u;
	struct pollfd *pfds = calloc(t->n ? t->n : 1, sizeof(*pfds));

	for (;;) {
		size_t waiting = 0, np = 0;

		for (size_t i = 0; i < t->n; i++) {
			struct pf *f = &k->pfs[i];

			if (!f->started || f->ready)
				continue;
			pf_read(f, &t->nodes[i]);
			if (f->ready)
				continue;
			if (f->p.out_fd < 0 || proc_exited(&f->p)) {
				pf_failed(f, &t->nodes[i], "failed");
				continue;
			}
			waiting++;
			if (pfds)
				pfds[np++] = (struct pollfd){f->p.out_fd, POLLIN, 0};
		}
		if (!waiting)
			break;
		if ((c->stop && *c->stop) || cli_mono_ns() >= end) {
			for (size_t i = 0; i < t->n; i++)
				if (k->pfs[i].started && !k->pfs[i].ready)
					pf_failed(&k->pfs[i], &t->nodes[i],
						  c->stop && *c->stop ? "interrupted"
								      : "gave no port in time");
			break;
		}
		poll(pfds, np, 100);
	}
	free(pfds);
}

static int kube_open(struct transport *t, const struct cli *c)
{
	struct kube_pod *pods = NULL;
	struct kube *k;
	size_t npods = 0;
	int err = get_pods(c, &pods, &npods);

	if (err)
		return err;
	k = calloc(1, sizeof(*k));
	t->priv = k;
	if (!k || pick_nodes(t, c, pods, npods)) {
		free(pods);
		fprintf(stderr, PROG ": out of memory\n");
		return CLI_PARTIAL;
	}
	transport_sort(t); /* before the port-forwards: pfs[i] belongs to nodes[i] */
	if (!t->n) {
		fprintf(stderr,
			PROG ": no rawcap pods in namespace %s with labels %s (see "
			     "--namespace, --selector)\n",
			c->namespace, c->selector);
		free(pods);
		return CLI_PARTIAL;
	}
	k->pfs = calloc(t->n, sizeof(*k->pfs));
	if (!k->pfs) {
		free(pods);
		return CLI_PARTIAL;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct node *n = &t->nodes[i];

		if (n->why[0] || !n->pod)
			continue;
		if (pf_start(&k->pfs[i], c, n->pod, pod_port(c, pods, npods, n->pod)))
			snprintf(n->why, sizeof(n->why), "cannot run %s: %s", c->kubectl,
				 strerror(errno));
	}
	free(pods);
	pf_wait_all(t, k, c);
	return c->stop && *c->stop ? CLI_PARTIAL : 0;
}

static void kube_tick(struct transport *t)
{
	struct kube *k = t->priv;

	for (size_t i = 0; k && k->pfs && i < t->n; i++)
		if (k->pfs[i].started)
			pf_read(&k->pfs[i], &t->nodes[i]);
}

static const char *kube_health(struct transport *t, size_t i)
{
	struct kube *k = t->priv;
	struct pf *f = k && k->pfs ? &k->pfs[i] : NULL;

	if (!f || !f->started)
		return NULL;
	pf_read(f, &t->nodes[i]);
	if (!proc_exited(&f->p))
		return NULL;
	proc_drain_err(&f->p);
	snprintf(t->nodes[i].why, sizeof(t->nodes[i].why),
		 "kubectl port-forward to pod %s ended%s%s", t->nodes[i].pod,
		 f->p.err_len ? ": " : "", proc_err_line(&f->p));
	return t->nodes[i].why;
}

static void kube_close(struct transport *t)
{
	struct kube *k = t->priv;

	for (size_t i = 0; k && k->pfs && i < t->n; i++)
		if (k->pfs[i].started)
			proc_stop(&k->pfs[i].p, 2000);
	if (k)
		free(k->pfs);
	free(k);
	t->priv = NULL;
}

const struct transport_ops transport_kube = {
	.name = "kubectl port-forward",
	.open = kube_open,
	.tick = kube_tick,
	.health = kube_health,
	.close = kube_close,
};
