// SPDX-License-Identifier: MIT
/*
 * module_load.c - librawcap.so's loader of its modules (module_load.h).
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "module_load.h"

const void *rawcap_module_load(const char *relpath, const char *sym, size_t sz, const char *name,
			       char *err, size_t errlen)
{
	const struct rawcap_module_head *m;
	char path[PATH_MAX];
	const char *slash;
	Dl_info self;
	void *h;

	if (!dladdr((void *)rawcap_module_load, &self) || !self.dli_fname ||
	    !(slash = strrchr(self.dli_fname, '/'))) {
		snprintf(err, errlen, "librawcap's own path is unknown");
		return NULL;
	}
	if (snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - self.dli_fname), self.dli_fname,
		     relpath) >= (int)sizeof(path)) {
		snprintf(err, errlen, "path too long: %.400s", self.dli_fname);
		return NULL;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "dlopen: %.400s", dlerror());
		return NULL;
	}
	m = dlsym(h, sym);
	if (!m || m->sz != sz || !m->version || strcmp(m->version, RAWCAP_VERSION_STRING)) {
		snprintf(err, errlen, "%.400s: not the %s of librawcap " RAWCAP_VERSION_STRING,
			 path, name);
		dlclose(h);
		return NULL;
	}
	return m;
}
