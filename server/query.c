// SPDX-License-Identifier: MIT
/*
 * query.c - the query string of GET /v1/pcap, argument by argument (MHD
 * has split and unescaped it): from, to, last, filter, format, snaplen,
 * pod, namespace, label. The same parsers as the CLIs (times, durations,
 * sizes, pcap filters, pod selection); every refusal says which argument
 * and why. Nothing here touches the network: the fuzz target drives it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/filter.h>
#include <rawcap/meta.h>
#include <rawcap/rawcap.h>

#include "query.h"

enum {
	Q_FROM = 1 << 0,
	Q_TO = 1 << 1,
	Q_LAST = 1 << 2,
	Q_FILTER = 1 << 3,
	Q_FORMAT = 1 << 4,
	Q_SNAPLEN = 1 << 5,
};

int server_query_init(struct server_query *q, uint64_t now_ns)
{
	memset(q, 0, sizeof(*q));
	q->now_ns = now_ns;
	return rawcap_meta_join_new(&q->pods);
}

void server_query_free(struct server_query *q)
{
	free(q->filter);
	rawcap_meta_join_free(q->pods);
	q->filter = NULL;
	q->pods = NULL;
}

static int q_fail(struct server_query *q, const char *fmt, const char *key, const char *value)
{
	snprintf(q->detail, sizeof(q->detail), fmt, key, value ? value : "");
	return -EINVAL;
}

static int q_time(struct server_query *q, const char *key, const char *value, uint64_t *out)
{
	int err = rawcap_parse_time(value, q->now_ns, out);

	if (err || !*out) {
		rawcap_parse_error(RAWCAP_PARSE_TIME, err ?: -EDOM, key, value, q->detail,
				   sizeof(q->detail));
		return -EINVAL;
	}
	return 0;
}

static int q_format(struct server_query *q, const char *value)
{
	if (!strcmp(value, "pcapng"))
		q->format = RAWCAP_PCAP_PCAPNG;
	else if (!strcmp(value, "pcap"))
		q->format = RAWCAP_PCAP_CLASSIC;
	else
		return q_fail(q, "bad %s '%s': pcapng or pcap", "format", value);
	return 0;
}

static int q_snaplen(struct server_query *q, const char *value)
{
	uint64_t v;

	if (rawcap_parse_size(value, &v) || v < 16 || v > 262144)
		return q_fail(q, "bad %s '%s': 16..262144 bytes", "snaplen", value);
	q->snaplen = (uint32_t)v;
	return 0;
}

static int q_last(struct server_query *q, const char *value)
{
	int err = rawcap_parse_duration(value, &q->last_ns);

	if (err || !q->last_ns) {
		rawcap_parse_error(RAWCAP_PARSE_DURATION, err ?: -EDOM, "last", value, q->detail,
				   sizeof(q->detail));
		return -EINVAL;
	}
	return 0;
}

static int q_pods(struct server_query *q, enum rawcap_sel_type type, const char *key,
		  const char *value)
{
	if (rawcap_meta_join_add(q->pods, type, value))
		return q_fail(q, "bad %s '%s'", key, value);
	return 0;
}

/* Arguments that may appear once: which bit each one is. */
static unsigned q_once_bit(const char *key)
{
	static const struct {
		const char *key;
		unsigned bit;
	} once[] = {{"from", Q_FROM},	  {"to", Q_TO},		{"last", Q_LAST},
		    {"filter", Q_FILTER}, {"format", Q_FORMAT}, {"snaplen", Q_SNAPLEN}};

	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (!strcmp(key, once[i].key))
			return once[i].bit;
	return 0;
}

int server_query_arg(void *arg, const char *key, const char *value)
{
	struct server_query *q = arg;
	unsigned bit = q_once_bit(key);

	if (bit && (q->seen & bit))
		return q_fail(q, "%s given twice%s", key, NULL);
	q->seen |= bit;
	if (!value || (!*value && strcmp(key, "filter")))
		return q_fail(q, "%s needs a value%s", key, NULL);
	if (bit == Q_FROM)
		return q_time(q, "from", value, &q->from_ns);
	if (bit == Q_TO)
		return q_time(q, "to", value, &q->to_ns);
	if (bit == Q_LAST)
		return q_last(q, value);
	if (bit == Q_FORMAT)
		return q_format(q, value);
	if (bit == Q_SNAPLEN)
		return q_snaplen(q, value);
	if (bit == Q_FILTER)
		return (q->filter = strdup(value)) ? 0 : -ENOMEM;
	if (!strcmp(key, "pod"))
		return q_pods(q, RAWCAP_SEL_POD, key, value);
	if (!strcmp(key, "namespace"))
		return q_pods(q, RAWCAP_SEL_NAMESPACE, key, value);
	if (!strcmp(key, "label"))
		return q_pods(q, RAWCAP_SEL_LABEL, key, value);
	return q_fail(q, "unknown query argument '%s'%s", key, NULL);
}

void server_query_default_window(struct server_query *q, uint64_t from_ns, uint64_t to_ns)
{
	if (!(q->seen & (Q_TO | Q_LAST)))
		q->to_ns = to_ns;
	if (!(q->seen & (Q_FROM | Q_LAST)))
		q->from_ns = from_ns;
}

/*
 * After the last argument: check the combination and the filter, and
 * resolve the window (from: oldest held, to: now; last: the duration
 * before to). oldest_ns 0: nothing held.
 */
int server_query_finish(struct server_query *q, uint64_t oldest_ns)
{
	struct rawcap_filter *f;
	char msg[256] = "";

	if ((q->seen & Q_LAST) && (q->seen & Q_FROM))
		return q_fail(q, "%s and %s exclude each other", "last", "from");
	if (q->filter && *q->filter) {
		if (rawcap_filter_new(q->filter, &f, msg, sizeof(msg)))
			return q_fail(q, "bad %s: %s", "filter", msg);
		rawcap_filter_free(f);
	}
	if (!q->to_ns)
		q->to_ns = q->now_ns;
	if (q->last_ns)
		q->from_ns = q->last_ns < q->to_ns ? q->to_ns - q->last_ns : 1;
	if (!q->from_ns)
		q->from_ns = oldest_ns && oldest_ns < q->to_ns ? oldest_ns : q->to_ns - 1;
	if (q->to_ns <= q->from_ns)
		return q_fail(q, "%s must be after %s", "to", "from");
	return 0;
}
