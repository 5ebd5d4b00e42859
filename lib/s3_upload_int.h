/* SPDX-License-Identifier: MIT */
/*
 * s3_upload_int.h - the state of one snapshot upload, shared by
 * s3_upload.c (the run: manifest, resume, order of requests, the manifest
 * last) and s3_upload_file.c (one data file: a PutObject, or a multipart
 * upload whose parts are hashed ahead of their requests).
 */
#ifndef RAWCAP_LIB_S3_UPLOAD_INT_H
#define RAWCAP_LIB_S3_UPLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3_int.h"
#include "snapshot_int.h"

#define HASH_BUF (1u << 20)

enum up_state { UP_TODO, UP_SKIP, UP_RUNNING, UP_DONE };

struct up_file {
	const struct snap_file *f;
	enum up_state state;
	int64_t remote_size; /* -1: no object */
	int fd;
	uint64_t part_size;
	uint32_t nparts, next_part, parts_done;
	char *upload_id;
	char (*etags)[130];
	EVP_MD_CTX *whole;
};

struct upload {
	struct s3_op *op;
	const char *name;
	int snapfd;
	struct snap_manifest m;
	char *text; /* the manifest's bytes */
	size_t text_len;
	struct up_file *files;
	size_t lo, next; /* files before lo are finished; next is the next to start */
	uint64_t part_size;
	size_t files_left;
	bool manifest_sent, manifest_done;
	char **extra; /* remote keys under NAME/data/ the manifest does not list */
	size_t nextra, extra_cap, next_extra;
	unsigned char *buf;
	size_t pfxlen; /* of "PREFIX/NAME/" */
};

/* The first request of f's upload (PutObject or CreateMultipartUpload); NULL on failure, said. */
struct s3_req *s3_upload_file_req(struct upload *u, struct up_file *f);
/* The request for f's next part, hashed ahead; NULL on failure, said. */
struct s3_req *s3_upload_part_req(struct upload *u, struct up_file *f);

#endif
