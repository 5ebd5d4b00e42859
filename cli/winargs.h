/* SPDX-License-Identifier: MIT */
/*
 * winargs.h - the window and selection options export, snapshot create and
 * dissect share: --from/--to/--last, --filter, --pod/--namespace/--label,
 * with the names and letters every rawcap tool gives them (lib/opt/opt.h).
 * Checked here (times parsed, the filter compiled, selections parsed with
 * librawcap), so a typo is a usage error and not one failure per node.
 */
#ifndef RAWCAP_CLI_WINARGS_H
#define RAWCAP_CLI_WINARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

#define WIN_SEL_MAX 64

/* The options, a section of a command's table. */
extern const struct opt win_opts[];

/* Their part of --help, with the accepted time forms. */
void win_help(FILE *f);

struct winargs {
	struct opt_window t; /* now, --from, --to, --last */
	const char *filter;
	struct {
		int type; /* RAWCAP_SEL_* */
		const char *arg;
	} sel[WIN_SEL_MAX];
	size_t nsel;
	bool given; /* any of --from, --to, --last */
};

void win_init(struct winargs *w);
/* 1 if id was one of win_opts (taken), 0 if not, or CLI_USAGE negated (said). */
int win_option(struct winargs *w, int id, const char *arg);
/*
 * Resolve: --last D becomes now-D .. now; --from alone ends now (unless
 * open_end: a snapshot's own end). need: a window is required. 0 or CLI_USAGE.
 */
int win_finish(struct winargs *w, bool need, bool open_end);
/* The selection's query key for sel[i]: "pod", "namespace" or "label". */
const char *win_sel_key(const struct winargs *w, size_t i);

#endif
