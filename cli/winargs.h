/* SPDX-License-Identifier: MIT */
/*
 * winargs.h - the window and selection options export, snapshot create and
 * dissect share: --from/--to/--last, --filter, --pod/--pod-namespace/--label.
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

enum {
	WIN_OPT_LAST = CLI_OPT_LAST_GLOBAL + 0x40,
	WIN_OPT_END,
};

#define WIN_SHORTOPTS "f:t:e:P:N:L:"
#define WIN_LONGOPTS                                                                               \
	{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},              \
		{"last", required_argument, NULL, WIN_OPT_LAST},                                   \
		{"filter", required_argument, NULL, 'e'}, {"pod", required_argument, NULL, 'P'},   \
		{"namespace", required_argument, NULL, 'N'},                                       \
		{"pod-namespace", required_argument, NULL, 'N'},                                   \
	{                                                                                          \
		"label", required_argument, NULL, 'L'                                              \
	}

/* The text of the options above, for --help. */
extern const char win_help[];

struct winargs {
	uint64_t now_ns;	 /* "now" for every relative time of this command */
	uint64_t from_ns, to_ns; /* 0: not given */
	uint64_t last_ns;	 /* --last, 0: not given */
	const char *filter;
	struct {
		int type; /* RAWCAP_SEL_* */
		const char *arg;
	} sel[WIN_SEL_MAX];
	size_t nsel;
	bool given; /* any of --from, --to, --last */
};

void win_init(struct winargs *w);
/* 1 if opt was one of WIN_LONGOPTS (taken), 0 if not, or CLI_USAGE negated. */
int win_option(struct winargs *w, int opt, const char *arg);
/*
 * Resolve: --last D becomes now-D .. now; --from alone ends now (unless
 * open_end: a snapshot's own end). need: a window is required. 0 or CLI_USAGE.
 */
int win_finish(struct winargs *w, bool need, bool open_end);
/* The selection's query key for sel[i]: "pod", "namespace" or "label". */
const char *win_sel_key(const struct winargs *w, size_t i);

#endif
