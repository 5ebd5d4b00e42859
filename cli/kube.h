/* SPDX-License-Identifier: MIT */
/*
 * kube.h - finding rawcap's pods with kubectl (the default way to the
 * nodes; transport_kube in transport.h).
 */
#ifndef RAWCAP_CLI_KUBE_H
#define RAWCAP_CLI_KUBE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct kube_pod {
	char name[254];
	char node[254]; /* spec.nodeName */
	char phase[32]; /* status.phase */
	unsigned port;	/* container port named CLI_PORT_NAME, 0 if none */
	bool running, ready, deleting;
	char problem[320]; /* set if the pod cannot be used at all */
};

/*
 * Parse `kubectl get pods -o json`: one kube_pod per item, in order
 * (*out malloc'd). 0, -ENOMEM, or -EBADMSG with err set.
 */
int kube_parse_pods(const char *json, size_t len, struct kube_pod **out, size_t *n, char *err,
		    size_t errlen);
/*
 * One pod per node: running before not, ready before not, not being
 * deleted before deleted, then the first name. chosen (room for n) gets
 * indexes into pods, *nchosen how many.
 */
int kube_choose(struct kube_pod *pods, size_t n, size_t *chosen, size_t *nchosen);
/* Why a chosen pod cannot serve (not running, being deleted), or NULL. */
const char *kube_pod_unusable(const struct kube_pod *p);

#endif
