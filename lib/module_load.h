/* SPDX-License-Identifier: MIT */
/*
 * module_load.h - how librawcap.so loads the parts it keeps out of its own
 * link (rawcap/s3.so, rawcap/openssl.so): each module exports one table
 * that starts with this head.
 */
#ifndef RAWCAP_LIB_MODULE_LOAD_H
#define RAWCAP_LIB_MODULE_LOAD_H

#include <stddef.h>

struct rawcap_module_head {
	size_t sz;	     /* sizeof the table where the module was built */
	const char *version; /* RAWCAP_VERSION_STRING: the module must match the library */
};

/*
 * dlopen() relpath from the directory of the librawcap.so holding this code
 * (dladdr; never the environment or the search path) and return its table
 * sym, checked to be sz bytes and of this library's version. The module is
 * never unloaded. NULL when it cannot be loaded, with the reason in err
 * ("dlopen: ...", or "PATH: not the <name> of librawcap VERSION").
 */
const void *rawcap_module_load(const char *relpath, const char *sym, size_t sz, const char *name,
			       char *err, size_t errlen);

#endif /* RAWCAP_LIB_MODULE_LOAD_H */
