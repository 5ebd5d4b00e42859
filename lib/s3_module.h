/* SPDX-License-Identifier: MIT */
/*
 * s3_module.h - the table through which librawcap.so reaches its S3 client.
 *
 * The client (lib/s3_*.c) needs libcurl and libxml2, and through them some
 * thirty more libraries. Linked into librawcap.so, every reader would load
 * and relocate them at start-up, most of the fixed cost of a short export.
 * So librawcap.so holds only the entry points of rawcap/s3.h (s3_load.c);
 * the client is built as a module, rawcap/s3.so next to librawcap.so, whose
 * one exported symbol is this table, and the first rawcap_s3_* call
 * dlopen()s it. rawcap_static links the client directly and has no table.
 */
#ifndef RAWCAP_LIB_S3_MODULE_H
#define RAWCAP_LIB_S3_MODULE_H

#include <rawcap/s3.h>

#define RAWCAP_S3_MODULE_SYM  "rawcap_s3_module"
#define RAWCAP_S3_MODULE_PATH "rawcap/s3.so" /* relative to librawcap.so's directory */

/* Starts as struct rawcap_module_head (module_load.h). */
struct rawcap_s3_module {
	size_t sz;	     /* sizeof(struct rawcap_s3_module) where the module was built */
	const char *version; /* RAWCAP_VERSION_STRING: the module must match the library */
	int (*upload_start)(const struct rawcap_s3_opts *o, const char *dir, const char *name,
			    struct rawcap_s3_xfer **out);
	int (*download_start)(const struct rawcap_s3_opts *o, const char *name, const char *dir,
			      struct rawcap_s3_xfer **out);
	void (*status)(struct rawcap_s3_xfer *x, struct rawcap_s3_status *st);
	void (*cancel)(struct rawcap_s3_xfer *x);
	int (*wait)(struct rawcap_s3_xfer *x, int timeout_ms);
	void (*free)(struct rawcap_s3_xfer *x);
	int (*upload)(const struct rawcap_s3_opts *o, const char *dir, const char *name,
		      struct rawcap_s3_status *st);
	int (*download)(const struct rawcap_s3_opts *o, const char *name, const char *dir,
			struct rawcap_s3_status *st);
	int (*list)(const struct rawcap_s3_opts *o, bool with_info, struct rawcap_s3_entry **out,
		    size_t *n, char *errbuf, size_t errlen);
	void (*list_free)(struct rawcap_s3_entry *entries);
	int (*remove)(const struct rawcap_s3_opts *o, const char *name, char *errbuf,
		      size_t errlen);
};

#endif /* RAWCAP_LIB_S3_MODULE_H */
