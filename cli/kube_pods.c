// SPDX-License-Identifier: MIT
/*
 * kube_pods.c - read `kubectl get pods -o json` (a v1 List of Pods) and
 * choose one rawcap pod per node.
 *
 * The text comes from the API server through kubectl: every field is
 * checked (type, length, characters) before use, and anything odd about one
 * pod only disqualifies that pod.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "kube.h"

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Ready condition: status.conditions[type=Ready].status == "True". */
static bool pod_ready(const cJSON *pod)
{
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(pod, "status"), "conditions");
	const cJSON *c;

	cJSON_ArrayForEach(c, conds)
	{
		const char *type = str_at(c, "type", NULL), *st = str_at(c, "status", NULL);

		if (type && st && !strcmp(type, "Ready"))
			return !strcmp(st, "True");
	}
	return false;
}

/* The container port named port_name, or 0. */
static unsigned named_port(const cJSON *pod, const char *port_name)
{
	const cJSON *ctrs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(pod, "spec"), "containers");
	const cJSON *ctr, *port;

	cJSON_ArrayForEach(ctr, ctrs)
	{
		cJSON_ArrayForEach(port, cJSON_GetObjectItemCaseSensitive(ctr, "ports"))
		{
			const char *name = str_at(port, "name", NULL);
			const cJSON *num = cJSON_GetObjectItemCaseSensitive(port, "containerPort");

			if (name && !strcmp(name, port_name) && cJSON_IsNumber(num) &&
			    num->valuedouble >= 1 && num->valuedouble <= 65535)
				return (unsigned)num->valuedouble;
		}
	}
	return 0;
}

static void one_pod(const cJSON *item, struct kube_pod *p)
{
	const char *name = str_at(item, "metadata", "name");
	const char *node = str_at(item, "spec", "nodeName");
	const char *phase = str_at(item, "status", "phase");

	memset(p, 0, sizeof(*p));
	if (!name || !cli_node_name_ok(name)) {
		snprintf(p->problem, sizeof(p->problem), "a pod without a valid name");
		return;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->phase, sizeof(p->phase), "%s", phase && strlen(phase) < 32 ? phase : "Unknown");
	if (!node) {
		snprintf(p->problem, sizeof(p->problem), "pod %s is not scheduled on a node",
			 p->name);
		return;
	}
	if (!cli_node_name_ok(node)) {
		snprintf(p->problem, sizeof(p->problem), "pod %s: node name is not valid", p->name);
		return;
	}
	snprintf(p->node, sizeof(p->node), "%s", node);
	p->running = phase && !strcmp(phase, "Running");
	p->ready = pod_ready(item);
	p->deleting =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(item, "metadata"),
						 "deletionTimestamp") != NULL;
	p->port = named_port(item, CLI_PORT_NAME);
}

int kube_parse_pods(const char *json, size_t len, struct kube_pod **out, size_t *n, char *err,
		    size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *items, *item;
	struct kube_pod *pods;
	size_t cnt, i = 0;

	*out = NULL;
	*n = 0;
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (!cJSON_IsArray(items)) {
		snprintf(err, errlen, "kubectl's output is not a list of pods");
		cJSON_Delete(root);
		return -EBADMSG;
	}
	cnt = (size_t)cJSON_GetArraySize(items);
	pods = calloc(cnt ? cnt : 1, sizeof(*pods));
	if (!pods) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(item, items) one_pod(item, &pods[i++]);
	cJSON_Delete(root);
	*out = pods;
	*n = cnt;
	return 0;
}

/* How good a pod is to talk to: higher is better. */
static int rank(const struct kube_pod *p)
{
	return p->problem[0] ? -1 : (p->running && !p->deleting) * 4 + p->ready * 2 + !p->deleting;
}

int kube_choose(struct kube_pod *pods, size_t n, size_t *chosen, size_t *nchosen)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (pods[i].problem[0])
			continue;
		for (j = 0; j < k && strcmp(pods[chosen[j]].node, pods[i].node); j++)
			;
		if (j == k) {
			chosen[k++] = i;
			continue;
		}
		if (rank(&pods[i]) > rank(&pods[chosen[j]]) ||
		    (rank(&pods[i]) == rank(&pods[chosen[j]]) &&
		     strcmp(pods[i].name, pods[chosen[j]].name) < 0))
			chosen[j] = i;
	}
	*nchosen = k;
	return 0;
}

const char *kube_pod_unusable(const struct kube_pod *p)
{
	if (p->deleting)
		return "is being deleted";
	if (!p->running)
		return "is not running";
	return NULL;
}
