// SPDX-License-Identifier: MIT
/*
 * winargs.c - window and selection options, checked before any node is
 * asked (see winargs.h).
 */
#include <string.h>

#include <rawcap/filter.h>
#include <rawcap/meta.h>
#include <rawcap/rawcap.h>

#include "winargs.h"

const struct opt win_opts[] = {
	OPT_DEF_FROM("window start"),
	OPT_DEF_TO("window end, exclusive (default: now)"),
	OPT_DEF_LAST("the last DURATION (5m, 90s, 1h30m): --from now-D --to now"),
	OPT_DEF_FILTER("pcap filter expression (tcpdump syntax), on each node"),
	OPT_DEF_PODS(""),
	OPT_OLD("pod-namespace", 0, OPT_ID_NAMESPACE, "NS", "the same as -N, --namespace"),
	OPT_END,
};

void win_help(FILE *f)
{
	opt_help(f, win_opts);
	fprintf(f, "\n%sResolved once, so every node gets the same window.\n", opt_times_help);
}

void win_init(struct winargs *w)
{
	memset(w, 0, sizeof(*w));
	opt_window_init(&w->t);
}

static int add_sel(struct winargs *w, int type, const char *arg)
{
	struct rawcap_meta_sel *sel;
	int err;

	if (w->nsel == WIN_SEL_MAX)
		return -cli_usage_error("too many --pod/--namespace/--label", NULL);
	if (rawcap_meta_sel_new(&sel))
		return -cli_usage_error("out of memory", NULL);
	err = rawcap_meta_sel_add(sel, type, arg);
	rawcap_meta_sel_free(sel);
	if (err)
		return -cli_usage_error("bad pod selection", arg);
	w->sel[w->nsel].type = type;
	w->sel[w->nsel++].arg = arg;
	return 1;
}

int win_option(struct winargs *w, int id, const char *arg)
{
	int rc = opt_window_arg(&w->t, id, arg, PROG);

	if (rc)
		return rc < 0 ? -CLI_USAGE : (w->given = true);
	switch (id) {
	case OPT_ID_FILTER:
		w->filter = arg;
		return 1;
	case OPT_ID_POD:
		return add_sel(w, RAWCAP_SEL_POD, arg);
	case OPT_ID_NAMESPACE:
		return add_sel(w, RAWCAP_SEL_NAMESPACE, arg);
	case OPT_ID_LABEL:
		return add_sel(w, RAWCAP_SEL_LABEL, arg);
	}
	return 0;
}

int win_finish(struct winargs *w, bool need, bool open_end)
{
	struct opt_window *t = &w->t;

	if (need && !t->last_ns && !t->from_ns)
		return cli_usage_error("give the window: --from T [--to T], or --last D", NULL);
	if (!t->last_ns && t->from_ns && !t->to_ns && !open_end)
		t->to_ns = t->now_ns;
	if (opt_window_finish(t, false, PROG))
		return CLI_USAGE;
	if (w->filter) {
		struct rawcap_filter *flt;
		char msg[256] = "";

		if (rawcap_filter_new(w->filter, &flt, msg, sizeof(msg)))
			return cli_usage_error("bad filter", msg);
		rawcap_filter_free(flt);
	}
	return 0;
}

const char *win_sel_key(const struct winargs *w, size_t i)
{
	switch (w->sel[i].type) {
	case RAWCAP_SEL_POD:
		return "pod";
	case RAWCAP_SEL_NAMESPACE:
		return "namespace";
	default:
		return "label";
	}
}
