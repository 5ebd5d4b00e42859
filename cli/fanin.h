/* SPDX-License-Identifier: MIT */
/*
 * fanin.h - feed the k-way merge (merge.h) from its sources and say per
 * node how it went: the nodes' HTTP streams (export, snapshot export,
 * dissect) or local files (merge).
 */
#ifndef RAWCAP_CLI_FANIN_H
#define RAWCAP_CLI_FANIN_H

#include "cli.h"
#include "merge.h"
#include "transport.h"

/* Per node, what the report says besides the merge's own figures. */
struct fanin_node {
	const char *name;
	struct merge_in *in;
	char missing[160]; /* "FROM .. TO": the part of the window the node no longer held */
	bool uncaptured;   /* missing lies before capture began there: nothing was lost */
	char why[512];	   /* why the node failed or stopped early */
};

struct fanin {
	struct cli *c;
	struct merge *m;
	struct fanin_node *nodes;
	size_t n;
	bool stream_out;  /* the output is a pipe or socket: flush when idle */
	const char *what; /* "export", "merge", ...: for progress lines */
};

/* Make the merge and one input per node (sorted by name); 0 or -ENOMEM. */
int fanin_new(struct fanin *f, struct cli *c, const struct merge_opts *mo, const char *const *names,
	      size_t n);
void fanin_free(struct fanin *f);
/*
 * Stream GET path (query included) from every node with a URL into the
 * merge; nodes without one are failed inputs. Returns 0 when the merge
 * finished, or -errno (output error, interrupted), said on stderr.
 */
int fanin_http(struct fanin *f, struct transport *t, const char *path);
/* Merge local files, files[i] for node i. Same returns. */
int fanin_files(struct fanin *f, const char *const *files);
/* Finish the output, print one line per node on stderr; the exit code. */
int fanin_report(struct fanin *f, int run_err);
/* Packets written to the output so far, over every node. */
uint64_t fanin_packets(const struct fanin *f);

#endif
