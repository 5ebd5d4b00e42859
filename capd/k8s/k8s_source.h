/* SPDX-License-Identifier: MIT */
/*
 * k8s_source.h - the Kubernetes metadata source as capd registers it
 * (registry.c: { "kubernetes", capd_want_kubernetes, capd_k8s_setup, NULL }).
 */
#ifndef CAPD_K8S_SOURCE_H
#define CAPD_K8S_SOURCE_H

struct capd_ctx;

/*
 * Before the privilege drop: resolve the API server (KUBECONFIG if set, else
 * in-cluster), read credentials, register the queue's eventfd. The watcher
 * thread starts on the first tick, after the drop.
 */
int capd_k8s_setup(struct capd_ctx *ctx);

#endif
