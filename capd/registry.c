// SPDX-License-Identifier: MIT
/*
 * registry.c - the capture backends and optional sources capd knows.
 *
 * Adding one is one line here plus its setup function (see source.h). An
 * entry with `missing` set is recognised and validated but refused with that
 * reason, so a deployment that asks for it fails loudly instead of capturing
 * less than it thinks.
 */
#include <string.h>

#include "capd.h"
#include "k8s_source.h"
#include "self_exclude.h"

static const struct capd_backend capd_backends[] = {
	{"afpacket", capd_afpacket_setup, NULL},
#ifdef CAPD_HAVE_EBPF
	{"ebpf", capd_ebpf_setup, NULL, capd_ebpf_attach},
#else
	{"ebpf", NULL, "this capd was built without eBPF (-DRAWCAP_BPF=OFF)", NULL},
#endif
};

static bool capd_want_kubernetes(const struct capd_config *cfg)
{
	return cfg->kubernetes;
}

static bool capd_want_process_context(const struct capd_config *cfg)
{
	return cfg->process_context;
}

static bool capd_want_storage(const struct capd_config *cfg)
{
	return cfg->storage_dir != NULL;
}

const struct capd_feature capd_features[] = {
	/* the disk FIFO: recovers the previous ring before it is taken, then follows it */
	{"storage", capd_want_storage, capd_persist_attach, NULL, capd_persist_prepare},
	{"kubernetes", capd_want_kubernetes, capd_k8s_setup, NULL},
#ifdef CAPD_HAVE_EBPF
	{"process-context", capd_want_process_context, capd_proc_setup, NULL},
#else
	{"process-context", capd_want_process_context, NULL,
	 "this capd was built without eBPF (-DRAWCAP_BPF=OFF)"},
#endif
	/* on unless --capture-self: rawcap's own connections are not captured */
	{"capture-self", capd_self_exclude_enabled, capd_self_exclude_setup, NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

const struct capd_backend *capd_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(capd_backends) / sizeof(capd_backends[0]); i++)
		if (!strcmp(capd_backends[i].name, name))
			return &capd_backends[i];
	return NULL;
}
