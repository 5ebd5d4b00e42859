// SPDX-License-Identifier: MIT
/*
 * k8s_source.c - capd's Kubernetes metadata source: the k8s watcher behind
 * capd's source ops (source.h). The fd is the watcher queue's eventfd;
 * ready() moves queued records into the ring on capd's thread; the first
 * tick, which runs after the privilege drop, starts the watcher thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capd.h"
#include "k8s_source.h"
#include "landlock.h"
#include "k8s_watch.h"
#include "source.h"

static int k8s_ready(void *state, struct capd_ctx *ctx, uint32_t events)
{
	int n;

	(void)events;
	n = k8s_watch_drain(state, &ctx->ring);
	if (n > 0)
		ctx->dirty = true;
	return n;
}

static void k8s_tick(void *state, struct capd_ctx *ctx, uint64_t now_ns)
{
	k8s_watch_tick(state, &ctx->ring, now_ns);
}

static void k8s_flush(void *state, struct capd_ctx *ctx)
{
	while (k8s_ready(state, ctx, 0) > 0)
		;
}

static void k8s_metrics(void *state, struct capd_ctx *ctx, struct capd_buf *out)
{
	static const char *const kinds[K8S_RES_NR] = { "pod", "namespace", "service", "endpoints" };
	struct k8s_watch_stats st;

	(void)ctx;
	k8s_watch_get_stats(state, &st);
	for (int i = 0; i < K8S_RES_NR; i++)
		capd_buf_printf(out, "rawcap_k8s_records_total{kind=\"%s\"} %llu\n", kinds[i],
				(unsigned long long)st.events[i]);
	capd_buf_printf(out,
			"rawcap_k8s_errors_total{cause=\"http\"} %llu\n"
			"rawcap_k8s_errors_total{cause=\"connection\"} %llu\n"
			"rawcap_k8s_errors_total{cause=\"json\"} %llu\n"
			"rawcap_k8s_errors_total{cause=\"oversized\"} %llu\n"
			"rawcap_k8s_gone_total %llu\nrawcap_k8s_lists_total %llu\n"
			"rawcap_k8s_watches_total %llu\nrawcap_k8s_queue_dropped_total %llu\n",
			(unsigned long long)st.http_errors, (unsigned long long)st.conn_errors,
			(unsigned long long)st.json_errors, (unsigned long long)st.oversized,
			(unsigned long long)st.gone, (unsigned long long)st.lists,
			(unsigned long long)st.watches, (unsigned long long)st.dropped);
}

static void k8s_close(void *state, struct capd_ctx *ctx)
{
	(void)ctx;
	k8s_watch_stop(state);
}

static const struct capd_source_ops k8s_ops = {
	.name = "kubernetes",
	.ready = k8s_ready,
	.tick = k8s_tick,
	.metrics = k8s_metrics,
	.flush = k8s_flush,
	.close = k8s_close,
};

/*
 * After the drop capd may connect to the API server, a proxy libcurl would
 * use, and DNS over TCP (the resolver's fallback for long answers) only.
 */
static int capd_k8s_allow_connect(struct capd_ctx *ctx, const char *server)
{
	static const char *const proxies[] = {"https_proxy", "HTTPS_PROXY", "all_proxy",
					      "ALL_PROXY"};
	int err = capd_landlock_allow_url(ctx, server);

	if (!err)
		err = capd_landlock_allow_url(ctx, "dns://resolver:53");

	for (size_t i = 0; !err && i < sizeof(proxies) / sizeof(proxies[0]); i++) {
		const char *p = getenv(proxies[i]);

		if (p && *p)
			err = capd_landlock_allow_url(ctx, p);
	}
	if (err)
		capd_log("kubernetes: cannot allow connecting to %s: %s", server, strerror(-err));
	return err;
}

int capd_k8s_setup(struct capd_ctx *ctx)
{
	struct k8s_watch_opts o;
	struct k8s_watch *w;
	int err;

	k8s_watch_opts_default(&o);
	o.kubeconfig = getenv("KUBECONFIG"); /* unset in a pod: in-cluster */
	if (o.kubeconfig && !*o.kubeconfig)
		o.kubeconfig = NULL;
	err = k8s_watch_create(&o, &w);
	if (err)
		return err; /* logged with the reason */
	err = capd_k8s_allow_connect(ctx, k8s_watch_server(w));
	if (err) {
		k8s_watch_stop(w);
		return err;
	}
	err = capd_add_source(ctx, k8s_watch_fd(w), &k8s_ops, w);
	if (err) {
		capd_log("kubernetes: cannot register the metadata queue: %s", strerror(-err));
		k8s_watch_stop(w);
	}
	return err;
}
