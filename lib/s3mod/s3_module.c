// SPDX-License-Identifier: MIT
/*
 * s3_module.c - the one symbol of the S3 module (rawcap/s3.so): the table of
 * the client's entry points, which librawcap.so's s3_load.c looks up. The
 * client itself comes from rawcap_static; the module's version script keeps
 * every other symbol local, so its calls never bind to librawcap.so's.
 */
#include "s3_module.h"

__attribute__((visibility("default"))) const struct rawcap_s3_module rawcap_s3_module = {
	.sz = sizeof(struct rawcap_s3_module),
	.version = RAWCAP_VERSION_STRING,
	.upload_start = rawcap_s3_upload_start,
	.download_start = rawcap_s3_download_start,
	.status = rawcap_s3_status,
	.cancel = rawcap_s3_cancel,
	.wait = rawcap_s3_wait,
	.free = rawcap_s3_free,
	.upload = rawcap_s3_upload,
	.download = rawcap_s3_download,
	.list = rawcap_s3_list,
	.list_free = rawcap_s3_list_free,
	.remove = rawcap_s3_delete,
};
