/* SPDX-License-Identifier: MIT */
/*
 * k8s_config.h - where and how capd reaches the Kubernetes API server.
 *
 * Two ways, as every Kubernetes client knows them: in-cluster (the pod's
 * service-account token and CA, KUBERNETES_SERVICE_HOST/PORT, and NODE_NAME
 * from the downward API), or a kubeconfig file, of which we read the common
 * subset: the current context's server, certificate-authority(-data),
 * token / tokenFile, client-certificate(-data) and client-key(-data).
 * Exec and auth-provider plugins are refused with a clear message.
 */
#ifndef RAWCAP_K8S_CONFIG_H
#define RAWCAP_K8S_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct k8s_blob {
	char *file;  /* a path (read into data by k8s_conn_resolve), or */
	void *data;  /* the PEM bytes themselves (from *-data) */
	size_t len;
};

struct k8s_conn {
	char server[512];     /* https://host:port, no trailing slash */
	char node[256];	      /* this node: pods are watched with spec.nodeName=node */
	struct k8s_blob ca;
	struct k8s_blob cert;
	struct k8s_blob key;
	char *token;	      /* bearer token; never logged */
	char *token_file;     /* re-read on each connect: projected tokens rotate */
	bool insecure;	      /* insecure-skip-tls-verify: true in the kubeconfig */
};

/*
 * Resolve the connection: kubeconfig if given, else in-cluster from sa_dir
 * (NULL: K8S_SA_DIR) and the environment. node overrides $NODE_NAME.
 * Returns 0, or a negative errno with a one-line reason in err.
 */
int k8s_conn_resolve(const char *kubeconfig, const char *sa_dir, const char *node,
		     struct k8s_conn *c, char *err, size_t errlen);
void k8s_conn_free(struct k8s_conn *c);

/* Re-read token_file if set (keeps the old token if that fails). */
void k8s_conn_refresh_token(struct k8s_conn *c);

/* Read a whole small file (at most max bytes) into a malloc'd, NUL-terminated buffer. */
int k8s_read_file(const char *path, size_t max, char **out, size_t *len, char *why,
		  size_t whylen);

#endif
