// SPDX-License-Identifier: MIT
/*
 * stress_reader.c - one reader of the ring stress test. It checks, for every
 * record it delivers, that sequence numbers only go up and that a payload
 * rawcap_rec_valid() vouched for is exactly what the writer wrote: a checksum
 * mismatch after a true rawcap_rec_valid() is a torn record, the failure the
 * protocol must rule out. At the end marker it checks that every record was
 * either delivered or counted lost, exactly.
 *
 * usage: stress_reader RING fast|slow|victim
 *	slow:   sleeps regularly so that the writer laps it, and must resume
 *	victim: reads flat out until the test SIGKILLs it
 * stdout: "ready"; "reading" after its first record; at the end one line of
 * key=value results. Exit 0 if every check held, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "payload.h"
#include "stress.h"

struct tally {
	uint64_t delivered, gaps, first_seq, last_seq, after_lap, checked_bytes;
	uint64_t lapped_seen, biggest_gap;
	bool started;
};

static int fail(const char *what, const struct rawcap_rec *rec)
{
	fprintf(stderr, "stress_reader: %s at seq %llu len %u\n", what,
		(unsigned long long)rec->seq, rec->len);
	return 1;
}

/* One validated record; returns 0, or 1 on a broken invariant. */
static int account(struct rawcap_cursor *c, const struct rawcap_rec *rec, struct tally *t)
{
	bool ok = rec_payload_check(rec->payload, rec->seq, rec->len);
	struct rawcap_stats st;

	if (!rawcap_rec_valid(c, rec))
		return 0; /* overwritten while we read it: the cursor counted it lost */
	if (!ok)
		return fail("TORN record (checksum mismatch after rawcap_rec_valid)", rec);
	if (t->started && rec->seq <= t->last_seq)
		return fail("sequence went backwards", rec);
	if (!t->started) {
		t->first_seq = rec->seq;
		t->started = true;
	} else if (rec->seq - t->last_seq - 1 > 0) {
		uint64_t gap = rec->seq - t->last_seq - 1;

		t->gaps += gap;
		if (gap > t->biggest_gap)
			t->biggest_gap = gap;
	}
	rawcap_get_stats(c, &st);
	if (st.times_lapped)
		t->after_lap++;
	t->last_seq = rec->seq;
	t->delivered++;
	t->checked_bytes += rec->len;
	return 0;
}

static int finish(struct rawcap_cursor *c, const struct rawcap_rec *end, const struct tally *t,
		  bool slow)
{
	struct rawcap_stats st;
	int bad = 0;

	if (!rec_payload_check(end->payload, end->seq, end->len) || !rawcap_rec_valid(c, end))
		return fail("end marker damaged", end);
	rawcap_get_stats(c, &st);
	printf("end=%llu delivered=%llu lost=%llu first=%llu lapped=%llu torn_discarded=%llu "
	       "biggest_gap=%llu after_lap=%llu bytes=%llu\n",
	       (unsigned long long)end->seq, (unsigned long long)t->delivered,
	       (unsigned long long)st.records_lost, (unsigned long long)t->first_seq,
	       (unsigned long long)st.times_lapped, (unsigned long long)st.torn_discarded,
	       (unsigned long long)t->biggest_gap, (unsigned long long)t->after_lap,
	       (unsigned long long)t->checked_bytes);
	/* The cursor's loss is exactly the sequence gaps between the records we accepted. */
	if (st.records_lost !=
	    t->gaps + (t->last_seq + 1 < end->seq ? end->seq - t->last_seq - 1 : 0))
		bad = fprintf(stderr, "stress_reader: cursor lost %llu, gaps say %llu\n",
			      (unsigned long long)st.records_lost, (unsigned long long)t->gaps);
	if (st.records != t->delivered + 1)
		bad = fprintf(stderr, "stress_reader: cursor delivered %llu, we accepted %llu\n",
			      (unsigned long long)st.records, (unsigned long long)t->delivered);
	/* Delivered + lost == written (records before our first are not loss: never read). */
	if (t->first_seq + t->delivered + st.records_lost != end->seq)
		bad = fprintf(stderr, "stress_reader: %llu + %llu + %llu != %llu written\n",
			      (unsigned long long)t->first_seq, (unsigned long long)t->delivered,
			      (unsigned long long)st.records_lost, (unsigned long long)end->seq);
	if (slow && (st.times_lapped == 0 || t->after_lap == 0))
		bad = fprintf(stderr,
			      "stress_reader: slow reader was never lapped or never resumed\n");
	return bad ? 1 : 0;
}

static int reader_loop(struct rawcap_cursor *c, bool slow)
{
	struct tally t = {0};
	struct rawcap_rec rec;
	bool idle_ok = true;
	int err, idle = 0;

	while (idle_ok) {
		err = rawcap_next(c, &rec);
		if (err < 0)
			return fail(strerror(-err), &rec);
		if (err == 0) {
			err = rawcap_wait(c, 1000);
			idle_ok = err != 0 || ++idle < 30; /* the writer never pauses this long */
			continue;
		}
		idle = 0;
		if (rec.type == RAWCAP_REC_META && rec.flags == STRESS_END_FLAGS)
			return finish(c, &rec, &t, slow);
		if (account(c, &rec, &t))
			return 1;
		if (t.delivered == 1) {
			printf("reading\n");
			fflush(stdout);
		}
		if (slow && t.delivered % 256 == 0)
			usleep(1000);
	}
	fprintf(stderr, "stress_reader: no end marker after 30 s idle\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct rawcap_cursor *c;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: stress_reader RING fast|slow|victim\n");
		return 2;
	}
	err = rawcap_open(argv[1], &c);
	if (err) {
		fprintf(stderr, "stress_reader: open ring %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	rawcap_seek(c, RAWCAP_SEEK_OLDEST, 0);
	printf("ready\n");
	fflush(stdout);
	err = reader_loop(c, !strcmp(argv[2], "slow"));
	fflush(stdout);
	rawcap_close(c);
	return err;
}
