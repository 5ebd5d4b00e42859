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

const char win_help[] =
	"  -f, --from T            window start\n"
	"  -t, --to T              window end, exclusive (default: now)\n"
	"      --last DURATION     the last DURATION (5m, 90s, 1h30m): --from now-D --to now\n"
	"  -e, --filter EXPR       pcap filter expression (tcpdump syntax), on each node\n"
	"  -P, --pod NAME          only packets to or from pod NAME (or NAMESPACE/NAME)\n"
	"  -N, --namespace NS      only packets to or from pods in namespace NS\n"
	"  -L, --label K=V         only packets to or from pods labelled K=V (or having K)\n"
	"                          (repeated --pod/--namespace are alternatives; every\n"
	"                          --label must hold)\n"
	"  --pod-namespace         still accepted: the same as --namespace\n"
	"\n"
	"Times: RFC 3339 (2026-11-30T07:45:00Z), a date and time as logs print it, UTC\n"
	"unless a zone follows (2026-11-30 07:45:00), a time of today in UTC (07:45),\n"
	"unix seconds (1790000000.5), \"now\", or relative to now (-5m, -90s, -1h30m);\n"
	"resolved once, so every node gets the same window.\n";

void win_init(struct winargs *w)
{
	memset(w, 0, sizeof(*w));
	w->now_ns = rawcap_now_ns();
}

static int add_sel(struct winargs *w, int type, const char *arg)
{
	struct rawcap_meta_sel *sel;
	int err;

	if (w->nsel == WIN_SEL_MAX)
		return -cli_usage_error("too many --pod/--pod-namespace/--label", NULL);
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

int win_option(struct winargs *w, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case 'f':
	case 't':
		if (rawcap_parse_time(arg, w->now_ns, &v) || !v)
			return -cli_usage_error("bad time", arg);
		*(opt == 'f' ? &w->from_ns : &w->to_ns) = v;
		w->given = true;
		return 1;
	case WIN_OPT_LAST:
		if (rawcap_parse_duration(arg, &w->last_ns) || !w->last_ns ||
		    w->last_ns >= w->now_ns)
			return -cli_usage_error("bad --last duration", arg);
		w->given = true;
		return 1;
	case 'e':
		w->filter = arg;
		return 1;
	case 'P':
		return add_sel(w, RAWCAP_SEL_POD, arg);
	case 'N':
		return add_sel(w, RAWCAP_SEL_NAMESPACE, arg);
	case 'L':
		return add_sel(w, RAWCAP_SEL_LABEL, arg);
	}
	return 0;
}

int win_finish(struct winargs *w, bool need, bool open_end)
{
	if (w->last_ns && (w->from_ns || w->to_ns))
		return cli_usage_error("--last excludes --from and --to", NULL);
	if (need && !w->last_ns && !w->from_ns)
		return cli_usage_error("give the window: --from T [--to T], or --last D", NULL);
	if (w->last_ns) {
		w->from_ns = w->now_ns - w->last_ns;
		w->to_ns = w->now_ns;
	} else if (w->from_ns && !w->to_ns && !open_end) {
		w->to_ns = w->now_ns;
	}
	if (w->from_ns && w->to_ns && w->to_ns <= w->from_ns)
		return cli_usage_error("--to must be after --from", NULL);
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
