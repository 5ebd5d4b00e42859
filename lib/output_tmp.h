/* SPDX-License-Identifier: MIT */
/*
 * output_tmp.h - an export written beside the file it replaces
 * (lib/output_tmp.c), for lib/files.c: the temporary file, its lock, the
 * attributes it takes from the old file, the replace at the end, and the
 * reap of what killed exports left.
 */
#ifndef RAWCAP_OUTPUT_TMP_H
#define RAWCAP_OUTPUT_TMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

/*
 * The existing file dirfd/leaf (open as fd, *st) is to be written beside:
 * a new locked temporary file's fd (fd closed), or -1 where it is to be
 * emptied in place (an attribute the replacement could not have).
 */
int out_beside(const char *path, int dirfd, const char *leaf, int fd, const struct stat *st);

/* Remove leaf's temporaries in dirfd that are ours and whose export is gone. */
void out_reap(int dirfd, const char *leaf);

/*
 * rawcap_output_failed() for a temporary file: false if fd is none (written
 * directly), else done and said.
 */
bool out_tmp_failed(FILE *err, const char *prog, const char *path, int fd, uint64_t packets);

#endif
