// SPDX-License-Identifier: MIT
/*
 * window_report.c - what every exporting reader says on stderr about a
 * window's result (rawcap/window.h): what the output lacks and why, and
 * for an empty output what was held and what matched, so that an empty or
 * partial export is never silent and every reader says it the same way.
 */
#include <stdio.h>

#include <rawcap/meta.h>
#include <rawcap/window.h>

#include "seg_format.h"

#define T(ns, buf) rawcap_format_time(ns, buf, sizeof(buf))

static void report_held(FILE *f, const struct rawcap_window_result *r)
{
	char a[64], b[64];

	if (!r->held_oldest_ns || r->held_oldest_ns == UINT64_MAX)
		fprintf(f, "nothing is held");
	else
		fprintf(f, "held: %s .. %s", T(r->held_oldest_ns, a), T(r->held_newest_ns, b));
}

/* An empty output: what the window held, and where the packets went. */
static void report_empty(FILE *f, const char *prog, const struct rawcap_window_result *r)
{
	uint64_t in_window = r->filtered + r->unselected;
	char a[64], b[64];

	fprintf(f, "%s: no packets in the output: ", prog);
	if (!in_window)
		fprintf(f, "the window ");
	else
		fprintf(f,
			"%llu packets in the window, %llu rejected by the filter, %llu not of "
			"the selected pods; window ",
			(unsigned long long)in_window, (unsigned long long)r->filtered,
			(unsigned long long)r->unselected);
	fprintf(f, "%s .. %s", r->from_ns ? T(r->from_ns, a) : "oldest",
		r->to_ns != UINT64_MAX ? T(r->to_ns, b) : "end");
	if (!in_window)
		fprintf(f, " holds none");
	fprintf(f, "; ");
	report_held(f, r);
	if (r->held_newest_ns && r->from_ns > r->held_newest_ns)
		fprintf(f, " (the window starts after the newest record)");
	else if (r->held_oldest_ns && r->to_ns <= r->held_oldest_ns)
		fprintf(f, " (the window ends before the oldest record)");
	fputc('\n', f);
}

bool rawcap_window_report(FILE *f, const char *prog, const struct rawcap_window_result *r)
{
	char a[64], b[64], c[64];
	bool partial = false;

	if (!f) /* the verdict alone */
		return r->missing_to_ns > r->missing_from_ns || r->lost_reader ||
		       r->lost_upstream || r->snapshot_short;

	if (r->missing_to_ns > r->missing_from_ns) {
		fprintf(f,
			"%s: window part %s .. %s is missing: recycled before the export "
			"(oldest held: %s)\n",
			prog, T(r->missing_from_ns, a), T(r->missing_to_ns, b),
			r->held_oldest_ns && r->held_oldest_ns != UINT64_MAX
				? T(r->held_oldest_ns, c)
				: "nothing");
		partial = true;
	}
	if (r->uncaptured_to_ns > r->uncaptured_from_ns)
		fprintf(f,
			"%s: window part %s .. %s precedes the oldest record held: nothing was "
			"captured then (nothing was recycled, nothing is missing)\n",
			prog, T(r->uncaptured_from_ns, a), T(r->uncaptured_to_ns, b));
	if (r->damaged_blocks) {
		fprintf(f,
			"%s: %llu damaged blocks skipped: %llu records lost inside the window; "
			"the output continues after them\n",
			prog, (unsigned long long)r->damaged_blocks,
			(unsigned long long)r->lost_reader);
		partial = true;
	} else if (r->lost_reader) {
		fprintf(f,
			"%s: %llu records lost inside the window (missed by this reader: "
			"lapped)\n",
			prog, (unsigned long long)r->lost_reader);
		partial = true;
	}
	if (r->lost_upstream) {
		fprintf(f,
			"%s: %llu packets lost upstream inside the window (loss records; "
			"see drop counts in the output)\n",
			prog, (unsigned long long)r->lost_upstream);
		partial = true;
	}
	if (r->snapshot_short) {
		fprintf(f,
			"%s: the snapshot lists %llu packets but %llu could not be read: it is "
			"damaged (see rawcap-snapshot verify)\n",
			prog, (unsigned long long)r->snapshot_packets,
			(unsigned long long)r->snapshot_short);
		partial = true;
	}
	if (r->foreign_segments) {
		fprintf(f,
			"%s: %llu disk FIFO segment files (the first seg-%016llx.rcs) are in "
			"segment format %u, which this rawcap (format %u) does not read: an older "
			"or newer rawcap wrote them; their records are not in the output\n",
			prog, (unsigned long long)r->foreign_segments,
			(unsigned long long)r->foreign_first_seg_no, r->foreign_version, SEG_VERSION);
		partial = true;
	}
	if (!r->packets)
		report_empty(f, prog, r);
	return partial;
}

bool rawcap_window_report_pods(FILE *f, const char *prog, struct rawcap_meta_join *j)
{
	struct rawcap_meta_index_stats st;

	if (!j || rawcap_meta_sel_empty(rawcap_meta_join_sel(j)))
		return false;
	rawcap_meta_index_stats(rawcap_meta_join_index(j), &st);
	if (st.pod_records)
		return false;
	fprintf(f,
		"%s: no Kubernetes pod metadata in the capture for the window or the %llu "
		"minutes before it: the pod selection cannot be evaluated (is capd running "
		"with --kubernetes?)\n",
		prog, (unsigned long long)(RAWCAP_META_LOOKBACK_NS / 60000000000ull));
	return true;
}
