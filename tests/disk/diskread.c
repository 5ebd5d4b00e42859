// SPDX-License-Identifier: MIT
/*
 * diskread.c - the disk FIFO tests' reader: a librawcap cursor over the
 * storage directory (and the ring, unless --no-ring), checking every packet
 * record against the pattern diskwriter wrote. Prints one key=value summary
 * line (and with --list one line per record: seq ts source).
 *
 * Exit: 0 read fine, 1 runtime failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawcap/rawcap.h>

#include "disk_pattern.h"

struct dr_opts {
	const char *ring, *storage;
	bool no_ring, list, info;
	enum rawcap_seek whence;
	uint64_t from, to_ts, until_seq;
	int wait_ms;
};

static int dr_parse(int argc, char **argv, struct dr_opts *o)
{
	static const struct option lo[] = {
		{"ring", 1, 0, 'r'},	  {"storage", 1, 0, 's'},   {"no-ring", 0, 0, 'N'},
		{"from-seq", 1, 0, 'q'},  {"from-time", 1, 0, 't'}, {"to-time", 1, 0, 'T'},
		{"until-seq", 1, 0, 'u'}, {"wait-ms", 1, 0, 'w'},   {"list", 0, 0, 'l'},
		{"ring-info", 0, 0, 'i'}, {"help", 0, 0, 'h'},	    {0, 0, 0, 0},
	};
	int c;

	*o = (struct dr_opts){.whence = RAWCAP_SEEK_OLDEST, .to_ts = UINT64_MAX, .wait_ms = 0};
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->ring = optarg;
			break;
		case 's':
			o->storage = optarg;
			break;
		case 'N':
			o->no_ring = true;
			break;
		case 'q':
			o->whence = RAWCAP_SEEK_SEQ;
			o->from = strtoull(optarg, NULL, 10);
			break;
		case 't':
			o->whence = RAWCAP_SEEK_TIME;
			o->from = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			o->to_ts = strtoull(optarg, NULL, 10);
			break;
		case 'u':
			o->until_seq = strtoull(optarg, NULL, 10);
			break;
		case 'w':
			o->wait_ms = atoi(optarg);
			break;
		case 'l':
			o->list = true;
			break;
		case 'i':
			o->info = true;
			break;
		case 'h':
			printf("usage: diskread [--ring NAME] [--storage DIR] [--no-ring] "
			       "[--from-seq N|--from-time NS] [--to-time NS] [--until-seq N] "
			       "[--wait-ms MS] [--list] [--ring-info]\n");
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static int dr_info(struct rawcap_cursor *c)
{
	struct rawcap_ring_info ri;
	int err = rawcap_ring_info(c, &ri);

	if (err)
		return err;
	printf("next_seq=%llu base_seq=%llu head=%llu tail=%llu lapped_loss=%llu "
	       "disk_error_loss=%llu generation=%llu\n",
	       (unsigned long long)ri.next_seq, (unsigned long long)ri.base_seq,
	       (unsigned long long)ri.head, (unsigned long long)ri.tail,
	       (unsigned long long)ri.loss[RAWCAP_LOSS_PERSIST_LAPPED],
	       (unsigned long long)ri.loss[RAWCAP_LOSS_DISK_ERROR],
	       (unsigned long long)ri.generation);
	return 0;
}

int main(int argc, char **argv)
{
	struct rawcap_open_opts oo = {.sz = sizeof(oo)};
	uint64_t n = 0, first = 0, last = 0, bad = 0, disk = 0, ring = 0, loss_recs = 0;
	uint64_t loss_units = 0, backwards = 0, span = 0;
	struct rawcap_cursor *c;
	struct rawcap_stats st;
	struct dr_opts o;
	struct rawcap_rec rec;
	static uint8_t buf[RAWCAP_REC_MAX];
	int err;

	if (dr_parse(argc, argv, &o)) {
		fprintf(stderr, "diskread: bad usage (see --help)\n");
		return 2;
	}
	oo.ring = o.ring;
	oo.storage_dir = o.storage;
	oo.no_ring = o.no_ring;
	err = rawcap_open_opts(&oo, &c);
	if (err) {
		fprintf(stderr, "diskread: open failed: %s\n", strerror(-err));
		return 1;
	}
	if (o.info) {
		err = dr_info(c);
		rawcap_close(c);
		return err ? 1 : 0;
	}
	err = rawcap_seek(c, o.whence, o.from);
	if (err && err != -ENOENT) {
		fprintf(stderr, "diskread: seek failed: %s\n", strerror(-err));
		rawcap_close(c);
		return 1;
	}
	for (;;) {
		err = rawcap_next_copy(c, &rec, buf, sizeof(buf));
		if (err == 0 && o.until_seq && (!n || last < o.until_seq) && o.wait_ms > 0 &&
		    rawcap_wait(c, o.wait_ms) > 0)
			continue;
		if (err <= 0 && err != -EBADMSG)
			break;
		if (err < 0)
			continue;
		if (rec.ts_ns >= o.to_ts)
			break;
		if (n && rec.seq <= last)
			backwards++;
		if (!n)
			first = rec.seq;
		last = rec.seq;
		n++;
		span += rawcap_rec_span(rec.len + (uint32_t)sizeof(struct rawcap_rec_hdr));
		rec.source == RAWCAP_SOURCE_RING ? ring++ : disk++;
		if (rec.type == RAWCAP_REC_LOSS && rec.len >= sizeof(struct rawcap_loss)) {
			loss_recs++;
			loss_units += ((const struct rawcap_loss *)rec.payload)->count;
		} else if (rec.type == RAWCAP_REC_PACKET &&
			   !disk_pat_check(rec.payload, rec.len, rec.seq)) {
			bad++;
		}
		if (o.list)
			printf("%llu %llu %u\n", (unsigned long long)rec.seq,
			       (unsigned long long)rec.ts_ns, rec.source);
		if (o.until_seq && rec.seq >= o.until_seq)
			break;
	}
	rawcap_get_stats(c, &st);
	printf("records=%llu first=%llu last=%llu lost=%llu corrupt=%llu bad=%llu disk=%llu "
	       "ring=%llu loss_records=%llu loss_units=%llu backwards=%llu bytes=%llu end=%d\n",
	       (unsigned long long)n, (unsigned long long)first, (unsigned long long)last,
	       (unsigned long long)st.records_lost, (unsigned long long)st.corrupt,
	       (unsigned long long)bad, (unsigned long long)disk, (unsigned long long)ring,
	       (unsigned long long)loss_recs, (unsigned long long)loss_units,
	       (unsigned long long)backwards, (unsigned long long)span, err);
	rawcap_close(c);
	return err < 0 && err != -ENODATA ? 1 : 0;
}
