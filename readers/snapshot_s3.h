/* SPDX-License-Identifier: MIT */
/*
 * snapshot_s3.h - rawcap-snapshot's object storage commands (snapshot_s3.c),
 * linked into rawcap-snapshot only.
 */
#ifndef RAWCAP_READERS_SNAPSHOT_S3_H
#define RAWCAP_READERS_SNAPSHOT_S3_H

#include <stdbool.h>

/* Is this an upload, a download, or a list/delete with --remote? */
bool snapshot_s3_wants(int argc, char **argv);
/* Run it; returns the exit status (0, 1 failure, 2 usage). */
int snapshot_s3_main(int argc, char **argv);

#endif
