// SPDX-License-Identifier: MIT
/*
 * fault-reader.c - the fault tests' reader: follows a ring through capd
 * kills, restarts and its own SIGSTOP, and accounts for every sequence
 * number. Each record is copied out (rawcap_next_copy), so a record torn by
 * the writer is either rejected by the library (counted as lost) or shows
 * up here as a damaged test payload (payload.h) or a sequence going
 * backwards: both are failures the script checks.
 *
 *   fault-reader --ring NAME --until-file F [--ready-file F] [--port P] [--mark IDX]
 *
 * Prints one line: records (delivered), gaps (sequence numbers skipped
 * between delivered records), lost (what the library reported lost),
 * first_seq, last_seq, udp_ok, udp_bad, udp_marked (payloads with index >=
 * --mark), seq_back, generations, lapped. Exit 0 when it ran.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "payload.h"

struct fr {
	uint64_t records, gaps, first_seq, last_seq, seq_back;
	uint64_t udp_ok, udp_bad, udp_marked;
	uint32_t port, mark;
	bool any;
};

/* The UDP payload to port of an Ethernet or raw IPv4 frame: 1 ok, 0 damaged, -1 not ours. */
static int fr_udp(const struct fr *f, const struct rawcap_rec *rec, uint32_t *idx)
{
	const uint8_t *d;
	uint32_t caplen, off = 0, ihl;
	const struct rawcap_pkt *pkt = rawcap_rec_pkt(rec, &d, &caplen);

	if (!pkt)
		return -1;
	if (pkt->linktype == 1) {
		if (caplen < 14 || d[12] != 0x08 || d[13] != 0x00)
			return -1;
		off = 14;
	}
	if (caplen < off + 20 || (d[off] >> 4) != 4 || d[off + 9] != 17)
		return -1;
	ihl = (d[off] & 15u) * 4;
	if (caplen < off + ihl + 8 ||
	    (uint32_t)((d[off + ihl + 2] << 8) | d[off + ihl + 3]) != f->port)
		return -1;
	off += ihl + 8;
	return udp_payload_check(d + off, caplen - off, idx) == 1 ? 1 : 0;
}

static void fr_rec(struct fr *f, const struct rawcap_rec *rec)
{
	uint32_t idx;
	int r;

	if (f->any && rec->seq <= f->last_seq && f->seq_back++ < 5)
		fprintf(stderr, "fault-reader: seq %llu after %llu (pos %llu, ts %llu, type %u)\n",
			(unsigned long long)rec->seq, (unsigned long long)f->last_seq,
			(unsigned long long)rec->pos, (unsigned long long)rec->ts_ns, rec->type);
	else if (f->any)
		f->gaps += rec->seq - f->last_seq - 1;
	if (!f->any)
		f->first_seq = rec->seq;
	f->any = true;
	f->last_seq = rec->seq;
	f->records++;
	if (rec->type != RAWCAP_REC_PACKET)
		return;
	r = fr_udp(f, rec, &idx);
	if (r == 0)
		f->udp_bad++;
	if (r == 1) {
		f->udp_ok++;
		f->udp_marked += idx >= f->mark;
	}
}

static int fr_drain(struct fr *f, struct rawcap_cursor *c, void *buf, size_t cap)
{
	struct rawcap_rec rec;
	int err;

	while ((err = rawcap_next_copy(c, &rec, buf, cap)) != 0) {
		if (err == -EBADMSG || err == -EMSGSIZE)
			continue; /* damaged bytes skipped: counted by the library */
		if (err < 0)
			return err;
		fr_rec(f, &rec);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"ring", 1, 0, 'r'}, {"until-file", 1, 0, 'u'}, {"ready-file", 1, 0, 'R'},
		{"port", 1, 0, 'p'}, {"mark", 1, 0, 'm'},	{0, 0, 0, 0},
	};
	const char *ring = NULL, *until = NULL, *ready = NULL;
	struct fr f = {.port = 9999, .mark = UINT32_MAX};
	struct rawcap_cursor *c = NULL;
	struct rawcap_stats st;
	size_t cap = 1 << 20;
	void *buf = malloc(cap);
	int opt, err;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'r':
			ring = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'R':
			ready = optarg;
			break;
		case 'p':
			f.port = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			f.mark = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: fault-reader --ring NAME --until-file F "
					"[--ready-file F] [--port P] [--mark IDX]\n");
			return 2;
		}
	}
	if (!ring || !until || !buf) {
		fprintf(stderr, "fault-reader: --ring and --until-file are required\n");
		return 2;
	}
	err = rawcap_open(ring, &c);
	if (!err)
		err = rawcap_seek(c, RAWCAP_SEEK_OLDEST, 0);
	if (err) {
		fprintf(stderr, "fault-reader: open ring %s: %s\n", ring, strerror(-err));
		return 1;
	}
	if (ready) {
		FILE *rf = fopen(ready, "w");

		if (rf)
			fclose(rf);
	}
	for (;;) {
		err = fr_drain(&f, c, buf, cap);
		if (err < 0 && err != -ENODATA) {
			fprintf(stderr, "fault-reader: read: %s\n", strerror(-err));
			break;
		}
		if (access(until, F_OK) == 0) {
			rawcap_wait(c, 200);
			fr_drain(&f, c, buf, cap);
			break;
		}
		rawcap_wait(c, 100);
	}
	rawcap_get_stats(c, &st);
	printf("records=%llu gaps=%llu lost=%llu first_seq=%llu last_seq=%llu udp_ok=%llu "
	       "udp_bad=%llu udp_marked=%llu seq_back=%llu generations=%llu lapped=%llu "
	       "torn=%llu\n",
	       (unsigned long long)f.records, (unsigned long long)f.gaps,
	       (unsigned long long)st.records_lost, (unsigned long long)f.first_seq,
	       (unsigned long long)f.last_seq, (unsigned long long)f.udp_ok,
	       (unsigned long long)f.udp_bad, (unsigned long long)f.udp_marked,
	       (unsigned long long)f.seq_back, (unsigned long long)st.generations,
	       (unsigned long long)st.times_lapped, (unsigned long long)st.torn_discarded);
	rawcap_close(c);
	free(buf);
	return 0;
}
