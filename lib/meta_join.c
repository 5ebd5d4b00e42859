// SPDX-License-Identifier: MIT
/*
 * meta_join.c - plug the pod/IP index and pod selection into the export
 * loop (rawcap/window.h), so that every exporting reader gets --pod,
 * --namespace, --label and pod comments from the same few lines.
 */
#include <errno.h>
#include <stdlib.h>

#include <rawcap/meta.h>
#include <rawcap/window.h>

struct rawcap_meta_join {
	struct rawcap_meta_index *ix;
	struct rawcap_meta_sel *sel;
};

int rawcap_meta_join_new(struct rawcap_meta_join **out)
{
	struct rawcap_meta_join *j = calloc(1, sizeof(*j));

	if (!j || rawcap_meta_index_new(&j->ix) || rawcap_meta_sel_new(&j->sel)) {
		rawcap_meta_join_free(j);
		return -ENOMEM;
	}
	*out = j;
	return 0;
}

void rawcap_meta_join_free(struct rawcap_meta_join *j)
{
	if (!j)
		return;
	rawcap_meta_index_free(j->ix);
	rawcap_meta_sel_free(j->sel);
	free(j);
}

int rawcap_meta_join_add(struct rawcap_meta_join *j, enum rawcap_sel_type type, const char *arg)
{
	return rawcap_meta_sel_add(j->sel, type, arg);
}

struct rawcap_meta_index *rawcap_meta_join_index(struct rawcap_meta_join *j)
{
	return j->ix;
}

struct rawcap_meta_sel *rawcap_meta_join_sel(struct rawcap_meta_join *j)
{
	return j->sel;
}

int rawcap_meta_sel_option(struct rawcap_meta_sel *sel, int opt, const char *arg)
{
	int err;

	if (opt != RAWCAP_OPT_POD && opt != RAWCAP_OPT_NAMESPACE && opt != RAWCAP_OPT_LABEL)
		return 0;
	err = rawcap_meta_sel_add(sel, (enum rawcap_sel_type)(opt - RAWCAP_OPT_POD + RAWCAP_SEL_POD),
				  arg);
	return err ? -EINVAL : 1;
}

static int join_meta(void *arg, const struct rawcap_rec *rec)
{
	struct rawcap_meta_join *j = arg;

	rawcap_meta_index_add(j->ix, rec->flags, rec->ts_ns, rec->payload, rec->len);
	return 0;
}

static bool join_select(void *arg, const struct rawcap_rec *rec, const struct rawcap_pkt *pkt)
{
	struct rawcap_meta_join *j = arg;

	(void)pkt;
	return rawcap_meta_sel_match(j->sel, j->ix, rec) > 0;
}

static size_t join_comment(void *arg, const struct rawcap_rec *rec, const struct rawcap_pkt *pkt,
			   char *buf, size_t cap)
{
	struct rawcap_meta_join *j = arg;
	int n = rawcap_meta_pkt_comment(j->ix, rec, buf, cap);

	(void)pkt;
	return n > 0 ? (size_t)n : 0;
}

void rawcap_meta_join_attach(struct rawcap_meta_join *j, struct rawcap_window_opts *o,
			     bool comments)
{
	o->meta = join_meta;
	o->select = rawcap_meta_sel_empty(j->sel) ? NULL : join_select;
	o->meta_arg = j;
	o->meta_lookback_ns = RAWCAP_META_LOOKBACK_NS;
	if (comments) {
		o->context = join_comment;
		o->context_arg = j;
	}
}
